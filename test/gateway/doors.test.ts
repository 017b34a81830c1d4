import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Database } from "../../src/db/types.js";
import { healthRoute } from "../../src/http/health-route.js";
import type { AppServices } from "../../src/services/app-services.js";
import { type AppHarness, collect, startHarness } from "../support/app-harness.js";
import { flatEmbedder } from "../support/stage-fixtures.js";

/** Issue 12 item 6, through a real gateway. */
const TOKEN = "doors-metrics-token-0123456789";

let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({
    workers: [],
    overrides: { embedder: flatEmbedder("flat") },
    config: {
      METRICS_TOKEN: TOKEN,
      METRICS_PORT: 0,
      METRICS_CACHE_MS: 60_000,
      WS_MAX_SOCKETS_PER_KEY: 2,
      WS_MAX_SUBSCRIPTIONS_PER_SOCKET: 2,
      RATE_LIMIT_SIMILAR_TEXT_PER_MINUTE: 2,
      RATE_LIMIT_INGEST_PER_MINUTE: 3,
      MAX_LIST_COST: 2000,
    },
  });
}, 60_000);
afterAll(async () => h?.close());

describe("doors", () => {
  it("should not serve /metrics on the API port without the metrics token, and serve it with it or on METRICS_PORT", async () => {
    expect((await fetch(`${h.url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.keys.operator}` } }))
        .status,
    ).toBe(401);
    const ok = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("trendgate_stream_group_lag");
    const apart = await fetch(`http://127.0.0.1:${h.app.gateway!.metricsPort}/metrics`);
    expect(apart.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${h.app.gateway!.metricsPort}/graphql`)).status).toBe(
      404,
    );
  });

  it("should serve scrapes within METRICS_CACHE_MS from one render", async () => {
    const render = h.app.metrics.render.bind(h.app.metrics);
    let renders = 0;
    h.app.metrics.render = () => {
      renders++;
      return render();
    };
    try {
      await Promise.all(
        [1, 2, 3].map(() =>
          fetch(`http://127.0.0.1:${h.app.gateway!.metricsPort}/metrics`).then((r) => r.text()),
        ),
      );
      expect(renders).toBe(0); // the first test's render is still fresh
    } finally {
      h.app.metrics.render = render;
    }
  });

  it("should name the dependency that is down at /healthz without the driver's message", async () => {
    const broken = new Kysely<Database>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({
          connectionString: "postgres://secret-user:secret-pass@127.0.0.1:1/nowhere",
          connectionTimeoutMillis: 500,
        }),
      }),
    });
    const services = { db: broken, redis: h.app.services.redis } as unknown as AppServices;
    let status = 0;
    let body: unknown;
    const res = {
      status: (s: number) => ((status = s), res),
      json: (b: unknown) => void (body = b),
    };
    await healthRoute(services)({} as never, res as never, () => undefined);
    await broken.destroy();
    expect(status).toBe(503);
    expect(body).toEqual({
      status: "degraded",
      down: ["postgres"],
      postgres: { ok: false, error: "unreachable" },
      redis: { ok: true },
    });
    expect(JSON.stringify(body)).not.toMatch(/secret|ECONNREFUSED|127\.0\.0\.1/);
  });

  it("should send CSP, frame-ancestors and nosniff on the console", async () => {
    const res = await fetch(`${h.url}/console/`);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ wss:/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  it("should cap sockets per key (4429) and subscriptions per socket (RATE_LIMITED)", async () => {
    const key = (await h.app.services.auth.createKey("moderator", "capped")).key;
    const open = (closed: (code: number) => void = () => undefined) =>
      h.ws(key, {
        lazy: false,
        onNonLazyError: () => undefined,
        on: { closed: (e) => closed((e as { code: number }).code) },
      });
    const a = open();
    open();
    await expect.poll(() => h.app.gateway!.sockets.openSockets).toBe(2);
    const code = await new Promise<number>((resolve) => open(resolve));
    expect(code).toBe(4429);
    collect(a, "subscription { escalationCreated { id } }");
    collect(a, "subscription { escalationResolved { id } }");
    const third = collect(a, "subscription { escalationUpdated { id } }");
    const refused = await third.take(1).then(
      (items) => JSON.stringify(items),
      (e: Error) => e.message,
    );
    expect(refused).toContain("subscriptions per socket");
  });

  it("should refuse a document over armor's token limit over WebSocket as over HTTP", async () => {
    const huge = `{ ${Array.from({ length: 1200 }, (_, i) => `a${i}: __typename`).join(" ")} }`;
    const http = await h.gql(huge);
    expect(http.errors?.[0]?.message).toMatch(/token/i);
    const ws = await collect(h.ws(h.keys.operator), huge)
      .take(1)
      .then(
        (items) => JSON.stringify(items),
        (e: Error) => e.message,
      );
    expect(ws).toMatch(/token/i);
  });

  it("should count lists by their first, also from a variable (graphql-armor only reads a literal)", async () => {
    const query = `query($n: Int!) { trends(first: $n) { edges { node { id escalations { id status issueType } } } } }`;
    const big = await h.gql(query, { n: 500 });
    expect(big.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(big.errors?.[0]?.message).toMatch(/cost \d+ is over the limit of 2000/);
    expect((await h.gql(query, { n: 20 })).errors).toBeUndefined();
    const ws = await collect(h.ws(h.keys.operator), query, { n: 500 })
      .take(1)
      .then(
        (items) => JSON.stringify(items),
        (e: Error) => e.message,
      );
    expect(ws).toMatch(/over the limit of 2000/);
  });

  it("should rate-limit similarTrends(text:) and ingest per key with RATE_LIMITED and retryAfter", async () => {
    const key = (await h.app.services.auth.createKey("integrator", "limited")).key;
    const SIMILAR = `{ similarTrends(text: "rates") { score } }`;
    expect((await h.gql(SIMILAR, {}, key)).errors).toBeUndefined();
    expect((await h.gql(SIMILAR, {}, key)).errors).toBeUndefined();
    const third = await h.gql(SIMILAR, {}, key);
    expect(third.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryable: true });
    expect(third.errors?.[0]?.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
    // Another key has its own budget.
    expect((await h.gql(SIMILAR, {}, h.keys.viewer)).errors).toBeUndefined();

    const INGEST = `mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id } }`;
    const item = { source: "rl", body: "A rate-limited post." };
    expect((await h.gql(INGEST, { inputs: [item, item] }, key)).errors).toBeUndefined();
    const over = await h.gql(INGEST, { inputs: [item, item] }, key);
    expect(over.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  });
});
