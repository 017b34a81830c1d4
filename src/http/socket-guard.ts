import type { IncomingMessage } from "node:http";

import { MaxTokensParserWLexer } from "@escape.tech/graphql-armor-max-tokens";
import { GraphQLError, type OperationDefinitionNode } from "graphql";
import { CloseCode, type SubscribePayload } from "graphql-ws";
import { LRUCache } from "lru-cache";
import type { WebSocket } from "ws";

import type { Logger } from "../observability/logger.js";
import { bearerKey } from "../resolvers/context.js";
import type { AuthService, Principal } from "../services/auth-service.js";

/** What the guard keeps on each socket (graphql-ws `ctx.extra`). */
export interface SocketState extends Record<PropertyKey, unknown> {
  socket: WebSocket;
  request: IncomingMessage;
  principal?: Principal;
  /** The key as sent, kept in memory only, to re-check its current state. */
  key?: string;
  subscriptions?: Set<string>;
}

export interface SocketLimits {
  maxSocketsPerKey: number;
  maxSubscriptionsPerSocket: number;
  maxTokens: number;
  /** How often every open socket's key is re-checked (the safety net under pub/sub). */
  recheckMs: number;
}

const closeForbidden = (socket: WebSocket, reason: string) =>
  socket.close(CloseCode.Forbidden, `Forbidden: ${reason}`);

/**
 * The WebSocket side of issue 12's "revocation that bites" and "doors": a key is checked at
 * connect AND before every operation on the socket (its current state, cached ≤ 1 s); a revoked
 * or removed key's sockets close with 4403 (at once when the revocation is announced, else at
 * the next re-check); sockets per key, subscriptions per socket and tokens per document are capped.
 */
export class SocketGuard {
  private readonly byKey = new Map<string, Set<SocketState>>();
  /** Token check and operation type per distinct document: 10,000 subscribers send one query. */
  private readonly documents = new LRUCache<string, { tooManyTokens?: string; type?: string }>({
    max: 2000,
  });
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly deps: {
      auth: AuthService;
      limits: SocketLimits;
      logger: Logger;
      onOpen?: () => void;
      onClose?: () => void;
    },
  ) {
    this.timer = setInterval(() => void this.recheckAll(), deps.limits.recheckMs);
    this.timer.unref();
  }

  /** graphql-ws onConnect: true to accept; closes the socket itself when refusing. */
  async connect(state: SocketState, params: Record<string, unknown> | undefined): Promise<boolean> {
    const raw = (params?.authorization ?? params?.Authorization ?? params?.apiKey) as
      string | undefined;
    // No key at all: closed with 4401 at connection_init. An open socket without a principal
    // would hold a connection (and its memory) that can do nothing (issue 12: "unauthenticated
    // sockets are never closed").
    if (raw === undefined || raw === "") {
      state.socket.close(
        CloseCode.Unauthorized,
        "Unauthorized: connection_init needs an authorization key",
      );
      return false;
    }
    const key = bearerKey(String(raw)) ?? String(raw);
    const principal = await this.deps.auth.authenticate(key);
    if (!principal) {
      closeForbidden(state.socket, "unknown or revoked API key");
      return false;
    }
    const open = this.byKey.get(principal.keyId) ?? new Set();
    if (open.size >= this.deps.limits.maxSocketsPerKey) {
      state.socket.close(
        CloseCode.TooManyInitialisationRequests,
        `Too many sockets for this key (limit ${this.deps.limits.maxSocketsPerKey})`,
      );
      return false;
    }
    open.add(state);
    this.byKey.set(principal.keyId, open);
    Object.assign(state, { principal, key, subscriptions: new Set<string>() });
    this.deps.onOpen?.();
    return true;
  }

  /** graphql-ws onClose. */
  disconnect(state: SocketState): void {
    const keyId = state.principal?.keyId;
    if (!keyId) return;
    const open = this.byKey.get(keyId);
    if (open?.delete(state)) this.deps.onClose?.();
    if (open?.size === 0) this.byKey.delete(keyId);
  }

  /**
   * graphql-ws onSubscribe: re-authorises the socket's key, then checks the document's size and
   * the subscription count. Errors returned here answer the one operation; a revoked key closes
   * the whole socket.
   */
  async beforeOperation(
    state: SocketState,
    id: string,
    payload: SubscribePayload,
  ): Promise<readonly GraphQLError[] | void> {
    if (state.key !== undefined) {
      const current = await this.deps.auth.authenticate(state.key);
      if (!current) {
        closeForbidden(state.socket, "API key revoked");
        return [new GraphQLError("API key revoked", { extensions: { code: "UNAUTHENTICATED" } })];
      }
      state.principal = current;
    }
    const checked = this.checkDocument(payload);
    if (checked.tooManyTokens)
      return [
        new GraphQLError(checked.tooManyTokens, {
          extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
        }),
      ];
    if (checked.type === "subscription" && state.subscriptions) {
      if (state.subscriptions.size >= this.deps.limits.maxSubscriptionsPerSocket) {
        return [
          new GraphQLError(
            `at most ${this.deps.limits.maxSubscriptionsPerSocket} subscriptions per socket`,
            {
              extensions: {
                code: "RATE_LIMITED",
                limit: this.deps.limits.maxSubscriptionsPerSocket,
              },
            },
          ),
        ];
      }
      state.subscriptions.add(id);
    }
    return undefined;
  }

  /** armor's token limit and the operation's type, once per distinct document and operation name. */
  private checkDocument(payload: SubscribePayload): { tooManyTokens?: string; type?: string } {
    const cacheKey = `${payload.operationName ?? ""}\u0000${payload.query}`;
    let checked = this.documents.get(cacheKey);
    if (checked) return checked;
    try {
      const document = new MaxTokensParserWLexer(payload.query, {
        n: this.deps.limits.maxTokens,
      }).parseDocument();
      const operation = document.definitions.find(
        (d): d is OperationDefinitionNode =>
          d.kind === "OperationDefinition" &&
          (!payload.operationName || d.name?.value === payload.operationName),
      );
      checked = { type: operation?.operation };
    } catch (error) {
      // graphql-ws reports a syntax error itself; only the token limit is ours to report.
      checked =
        error instanceof GraphQLError && /token/i.test(error.message)
          ? { tooManyTokens: error.message }
          : {};
    }
    this.documents.set(cacheKey, checked);
    return checked;
  }

  /** graphql-ws onComplete. */
  completed(state: SocketState, id: string): void {
    state.subscriptions?.delete(id);
  }

  /** A revocation announced on the bus: close the key's sockets now. */
  revoked(keyId: string): void {
    this.deps.auth.forget(keyId);
    for (const state of this.byKey.get(keyId) ?? [])
      closeForbidden(state.socket, "API key revoked");
  }

  /** Re-checks each key with open sockets (one lookup per key, not per socket). */
  async recheckAll(): Promise<void> {
    for (const [keyId, states] of this.byKey) {
      const first = states.values().next().value;
      if (!first?.key) continue;
      try {
        if (!(await this.deps.auth.authenticate(first.key))) this.revoked(keyId);
      } catch (error) {
        this.deps.logger.warn({ err: error }, "socket key re-check failed; next tick retries");
      }
    }
  }

  get openSockets(): number {
    let n = 0;
    for (const states of this.byKey.values()) n += states.size;
    return n;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
