import { readFileSync } from "node:fs";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { printTrendgateSchema, SCHEMA_FILE } from "../../src/schema/print-schema.js";
import { type AppHarness, startHarness } from "../support/app-harness.js";

let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({ workers: [], config: { MAX_QUERY_DEPTH: 6, MAX_BODY_BYTES: 20_000 } });
});
afterAll(async () => h?.close());

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${h.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${h.keys.operator}`,
      ...headers,
    },
    body,
  });

describe("gateway protection", () => {
  it("should refuse a query deeper than the limit before any resolver runs", async () => {
    const deep = `{ trends { edges { node { escalations { trend { escalations { trend { id } } } } } } } }`;
    const res = await h.gql(deep);
    expect(res.data).toBeUndefined();
    expect(res.errors?.[0]?.message).toMatch(/depth/i);
    expect(res.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("should refuse batched requests", async () => {
    const res = await post(
      JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]),
    );
    expect(res.status).toBe(400);
  });

  it("should refuse an oversized request body with 413", async () => {
    const res = await post(
      JSON.stringify({ query: `{ __typename }`, variables: { pad: "x".repeat(30_000) } }),
    );
    expect(res.status).toBe(413);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("should refuse a simple cross-site request (CSRF prevention)", async () => {
    const res = await fetch(`${h.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, {
      method: "GET",
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF|preflight/i);
  });

  it("should answer UNAUTHENTICATED without a key and FORBIDDEN for a role that may not", async () => {
    const noKey = await h.gql(`{ trends { edges { cursor } } }`, {}, null);
    expect(noKey.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const wrongKey = await h.gql(`{ trends { edges { cursor } } }`, {}, "tg_viewer_not-a-real-key");
    expect(wrongKey.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const viewer = await h.gql(
      `mutation { ingestTrend(input: { source: "s", body: "b" }) { id } }`,
      {},
      h.keys.viewer,
    );
    expect(viewer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("should report Postgres and Redis reachability at /healthz", async () => {
    const res = await fetch(`${h.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "ok",
      postgres: { ok: true },
      redis: { ok: true },
    });
  });

  it("should keep schema.graphql in step with the code (run `npm run schema:print` when this fails)", async () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(await printTrendgateSchema());
  });
});
