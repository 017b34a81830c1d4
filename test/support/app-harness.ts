import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";

import type { Config } from "../../src/config.js";
import type { Role } from "../../src/db/types.js";
import {
  type App,
  type AppOverrides,
  startApp,
  WORKER_NAMES,
  type WorkerName,
} from "../../src/main.js";
import { createTestEnv, type TestEnv } from "./test-env.js";

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> & { code?: string } }[];
}

/**
 * A whole Trendgate (gateway on a free port plus the chosen workers) in a private namespace:
 * own database, stream prefix, vector store directory and publish file. One key per role.
 */
export interface AppHarness {
  env: TestEnv;
  app: App;
  url: string;
  wsUrl: string;
  dir: string;
  keys: Record<Role, string>;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    key?: string | null,
  ): Promise<GqlResult<T>>;
  ws(key?: string | null, options?: Partial<Parameters<typeof createClient>[0]>): Client;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    workers?: readonly WorkerName[];
    config?: Partial<Config>;
    overrides?: AppOverrides;
    gateway?: boolean;
  } = {},
): Promise<AppHarness> {
  const dir = await mkdtemp(path.join(tmpdir(), "trendgate-test-"));
  const env = await createTestEnv({
    VECTOR_STORE_PATH: path.join(dir, "vectors"),
    PUBLISH_JSONL_PATH: path.join(dir, "published.jsonl"),
    BOOTSTRAP_KEYS: false,
    OUTBOX_POLL_MS: 50,
    WORKER_BLOCK_MS: 200,
    SWEEP_INTERVAL_MS: 200,
    ...options.config,
  });
  const app = await startApp(
    env.config,
    { gateway: options.gateway ?? true, workers: options.workers ?? WORKER_NAMES, port: 0 },
    { logger: env.logger, ...options.overrides },
  );
  const roles: Role[] = ["integrator", "moderator", "operator", "viewer"];
  const keys = {} as Record<Role, string>;
  for (const role of roles)
    keys[role] = (await app.services.auth.createKey(role, `test-${role}`)).key;
  const url = app.gateway?.url ?? "";
  const clients: Client[] = [];
  return {
    env,
    app,
    url,
    wsUrl: app.gateway?.wsUrl ?? "",
    dir,
    keys,
    async gql(query, variables, key = keys.operator) {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as GqlResult;
      return { ...body, status: res.status } as never;
    },
    ws(key = keys.moderator, extra = {}) {
      const client = createClient({
        url: app.gateway!.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: key ? { authorization: `Bearer ${key}` } : {},
        retryAttempts: 0,
        ...extra,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      await env.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Collects a subscription's `next` payloads; `take(n)` waits for n of them. */
export function collect<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
) {
  const items: { data?: T; errors?: GqlResult["errors"] }[] = [];
  let error: unknown;
  let completed = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        items.push(value as never);
        wake();
      },
      error: (e) => {
        error = e;
        wake();
      },
      complete: () => {
        completed = true;
        wake();
      },
    },
  );
  return {
    items,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
    unsubscribe,
    async take(n: number, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (items.length < n) {
        if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`got ${items.length} of ${n} events within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 200));
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return items.slice(0, n);
    },
  };
}
