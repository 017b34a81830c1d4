import { print } from "@0no-co/graphql.web";
import { type Client, createClient } from "graphql-ws";

import type { TadaDocumentNode } from "../graphql.js";

/** An error the gateway answered with; `code` is its stable `extensions.code`. */
export class GqlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "GqlError";
  }
}

interface WireError {
  message: string;
  extensions?: Record<string, unknown>;
}

export type ConnectionState = "connecting" | "live" | "reconnecting" | "forbidden";

/**
 * One resumable subscription. The client, not graphql-ws, re-sends it after a reconnect, because
 * graphql-ws would repeat the original `after`; this one asks from the last cursor it handled.
 */
export interface LiveSubscription<R, V> {
  document: TadaDocumentNode<R, V>;
  variables(cursor: string | undefined): V;
  /** Handles one event and returns its cursor (the next `after`). */
  next(data: R): string | null | undefined;
  /** SUBSCRIPTION_GAP: events after the cursor were lost; the owner re-queries its list. */
  gap?(info: { cursor?: string; reason?: string }): void;
  /** A non-gap error (FORBIDDEN, ...): the subscription is over. */
  fail?(error: GqlError): void;
  cursor?: string;
}

const FORBIDDEN_CLOSE_CODES = new Set([4401, 4403]);

/** The console's only way to the gateway: GraphQL over HTTP and graphql-ws, as any client. */
export class GqlClient {
  private ws: Client | undefined;
  private state: ConnectionState = "connecting";
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private readonly live = new Map<LiveSubscription<never, never>, (() => void) | undefined>();
  private connected = false;
  /** Server clock minus ours, from each response's Date header (whole seconds). */
  clockOffsetMs = 0;

  constructor(
    readonly apiKey: string,
    private readonly origin: string = location.origin,
  ) {}

  async request<R, V>(document: TadaDocumentNode<R, V>, variables?: V): Promise<R> {
    let response: Response;
    try {
      response = await fetch(`${this.origin}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.apiKey}` },
        body: JSON.stringify({ query: print(document), variables: variables ?? {} }),
      });
    } catch {
      throw new GqlError("NETWORK", "the gateway cannot be reached; retry in a moment");
    }
    const date = Date.parse(response.headers.get("date") ?? "");
    if (Number.isFinite(date)) this.clockOffsetMs = date - Date.now();
    const body = (await response.json().catch(() => ({}))) as { data?: R; errors?: WireError[] };
    const error = body.errors?.[0];
    if (error)
      throw new GqlError(
        String(error.extensions?.code ?? "INTERNAL_SERVER_ERROR"),
        error.message,
        error.extensions,
      );
    if (!body.data)
      throw new GqlError("NETWORK", `the gateway answered ${response.status} without data`);
    return body.data;
  }

  /** The server's time now, as well as its Date headers tell it. */
  serverNow(): number {
    return Date.now() + this.clockOffsetMs;
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Starts (and on every reconnect restarts, from its cursor) a subscription; returns a stop function. */
  subscribe<R, V>(subscription: LiveSubscription<R, V>): () => void {
    const key = subscription as unknown as LiveSubscription<never, never>;
    this.live.set(key, undefined);
    this.socket();
    if (this.connected) this.start(key);
    return () => {
      this.live.get(key)?.();
      this.live.delete(key);
    };
  }

  close(): void {
    for (const stop of this.live.values()) stop?.();
    this.live.clear();
    void this.ws?.dispose();
    this.ws = undefined;
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private socket(): Client {
    if (this.ws) return this.ws;
    const url = `${this.origin.replace(/^http/, "ws")}/graphql`;
    this.ws = createClient({
      url,
      connectionParams: { authorization: `Bearer ${this.apiKey}` },
      // Stay connected without subscriptions so that the state pill tells the truth.
      lazy: false,
      onNonLazyError: () => undefined,
      retryAttempts: Number.POSITIVE_INFINITY,
      retryWait: async (retries) => {
        const ms = Math.min(250 * 2 ** retries, 4000) * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, ms));
      },
      shouldRetry: (event) => !(isCloseEvent(event) && FORBIDDEN_CLOSE_CODES.has(event.code)),
      on: {
        connected: () => {
          this.connected = true;
          this.setState("live");
          for (const sub of this.live.keys()) this.start(sub);
        },
        closed: (event) => {
          this.connected = false;
          // Drop the graphql-ws subscriptions so they are not re-sent with a stale `after`.
          for (const [sub, stop] of this.live) {
            stop?.();
            this.live.set(sub, undefined);
          }
          this.setState(
            isCloseEvent(event) && FORBIDDEN_CLOSE_CODES.has(event.code)
              ? "forbidden"
              : "reconnecting",
          );
        },
      },
    });
    return this.ws;
  }

  private start(sub: LiveSubscription<never, never>): void {
    this.live.get(sub)?.();
    const ws = this.socket();
    const stop = ws.subscribe<unknown>(
      {
        query: print(sub.document),
        variables: sub.variables(sub.cursor) as Record<string, unknown>,
      },
      {
        next: (result) => {
          const error = (result.errors as WireError[] | undefined)?.[0];
          if (error) {
            const ext = error.extensions ?? {};
            if (ext.code === "SUBSCRIPTION_GAP") {
              if (typeof ext.cursor === "string") sub.cursor = ext.cursor;
              sub.gap?.({
                cursor: ext.cursor as string | undefined,
                reason: ext.reason as string | undefined,
              });
            } else {
              sub.fail?.(
                new GqlError(String(ext.code ?? "INTERNAL_SERVER_ERROR"), error.message, ext),
              );
            }
            return;
          }
          if (!result.data) return;
          const cursor = sub.next(result.data as never);
          if (cursor) sub.cursor = cursor;
        },
        error: (error) => {
          if (Array.isArray(error)) {
            const first = error[0] as WireError | undefined;
            sub.fail?.(
              new GqlError(
                String(first?.extensions?.code ?? "INTERNAL_SERVER_ERROR"),
                first?.message ?? "subscription failed",
                first?.extensions,
              ),
            );
          }
        },
        // An OVERFLOW gap ends the server's iterator: ask again from the gap's cursor.
        complete: () => {
          if (this.live.has(sub) && this.live.get(sub) === stop && this.connected) {
            this.live.set(sub, undefined);
            setTimeout(() => {
              if (this.live.has(sub) && this.live.get(sub) === undefined && this.connected)
                this.start(sub);
            }, 100);
          }
        },
      },
    );
    this.live.set(sub, stop);
  }
}

function isCloseEvent(event: unknown): event is { code: number; reason: string } {
  return (
    typeof event === "object" &&
    event !== null &&
    "code" in event &&
    typeof (event as { code: unknown }).code === "number"
  );
}
