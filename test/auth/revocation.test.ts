import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

import { type App, startApp } from "../../src/main.js";
import { reloadConfiguredKeys } from "../../src/services/configured-keys.js";
import { type AppHarness, collect, startHarness } from "../support/app-harness.js";

/** Issue 12 item 3: a revoked key stops working on open sockets too, on every gateway, within a second. */
const run = promisify(execFile);
let h: AppHarness;
let second: App;

beforeAll(async () => {
  h = await startHarness({ workers: ["relay"] });
  // A second gateway process on the same database and Redis prefix (as `trendgate serve` twice).
  second = await startApp(
    h.env.config,
    { gateway: true, workers: [], port: 0 },
    { logger: h.env.logger },
  );
}, 60_000);
afterAll(async () => {
  await second?.stop();
  await h?.close();
});

function socket(url: string, key: string) {
  const closed: { code?: number; at?: number } = {};
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
    // The close is what these tests wait for; graphql-ws would also print it.
    onNonLazyError: () => undefined,
    on: {
      closed: (event) => {
        closed.code = (event as { code: number }).code;
        closed.at = Date.now();
      },
    },
  });
  return { client, closed };
}

const OVERRIDE = `mutation($id: ID!) { overridePublish(trendId: $id, justification: "after revocation") { id } }`;

describe("revocation that bites", () => {
  it("should close an operator's open sockets on both gateways with 4403 within a second of `trendgate keys revoke`, and refuse the mutation on the socket", async () => {
    const operator = await h.app.services.auth.createKey("operator", "soon-revoked");
    const one = socket(h.wsUrl, operator.key);
    const two = socket(second.gateway!.wsUrl, operator.key);
    // Both sockets work before the revocation.
    for (const s of [one, two]) {
      const [me] = await collect(s.client, "{ me { role } }").take(1);
      expect(me!.data).toEqual({ me: { role: "OPERATOR" } });
    }
    const revokedAt = Date.now();
    await run(process.execPath, [path.resolve("bin/trendgate.js"), "keys", "revoke", operator.id], {
      env: {
        ...process.env,
        DATABASE_URL: h.env.config.DATABASE_URL,
        STREAM_PREFIX: h.env.prefix,
        LOG_LEVEL: "silent",
      },
    });
    const cliDone = Date.now();
    const attempt = collect(one.client, OVERRIDE, { id: "00000000-0000-4000-8000-000000000000" });
    await expect(attempt.take(1, 5000)).rejects.toThrow();
    expect(attempt.items).toEqual([]);
    // The operation ended because the socket closed for the revoked key, not by a timeout.
    expect((attempt.error as { code?: number } | undefined)?.code).toBe(4403);
    for (const s of [one, two]) {
      await expect.poll(() => s.closed.code, { timeout: 3000 }).toBe(4403);
      // Measured from the CLI's exit (its process start dominates the rest).
      expect(s.closed.at! - cliDone).toBeLessThan(1000);
    }
    expect(cliDone).toBeGreaterThan(revokedAt);
    // And a new socket or HTTP request with it is refused.
    expect((await h.gql("{ me { role } }", {}, operator.key)).errors?.[0]?.extensions?.code).toBe(
      "UNAUTHENTICATED",
    );
  }, 60_000);

  it("should close the sockets of a key revoked with the revokeApiKey mutation, and answer NOT_FOUND for an unknown id", async () => {
    const viewer = await h.app.services.auth.createKey("viewer", "to-revoke");
    const s = socket(h.wsUrl, viewer.key);
    await collect(s.client, "{ me { role } }").take(1);
    const r = await h.gql(
      `mutation($id: ID!) { revokeApiKey(id: $id) }`,
      { id: viewer.id },
      h.keys.operator,
    );
    expect(r.data).toEqual({ revokeApiKey: true });
    await expect.poll(() => s.closed.code, { timeout: 2000 }).toBe(4403);
    const again = await h.gql(
      `mutation($id: ID!) { revokeApiKey(id: $id) }`,
      { id: viewer.id },
      h.keys.operator,
    );
    expect(again.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("should close a socket even when the announcement is missed: every socket's key is re-checked each second", async () => {
    const viewer = await h.app.services.auth.createKey("viewer", "quiet-revoke");
    const s = socket(h.wsUrl, viewer.key);
    await collect(s.client, "{ me { role } }").take(1);
    // Revoked behind the gateways' backs: no announcement on Redis.
    await h.env.db
      .updateTable("api_keys")
      .set({ revoked_at: new Date() })
      .where("id", "=", viewer.id)
      .execute();
    await expect.poll(() => s.closed.code, { timeout: 4000 }).toBe(4403);
  });

  it("should disable a configured key removed from TRENDGATE_API_KEYS_FILE on reload (SIGHUP), closing its sockets", async () => {
    const file = path.join(h.dir, "keys.txt");
    await writeFile(file, "operator@acme:file-operator-key-1\nviewer:file-viewer-key-2\n");
    const config = { ...h.env.config, TRENDGATE_API_KEYS_FILE: file };
    await reloadConfiguredKeys(h.app.services.auth, config);
    const principal = await h.app.services.auth.authenticate("file-operator-key-1");
    expect(principal).toMatchObject({ role: "operator", tenants: ["acme"] });
    const s = socket(h.wsUrl, "file-operator-key-1");
    await collect(s.client, "{ me { role } }").take(1);
    await writeFile(file, "viewer:file-viewer-key-2\n");
    await reloadConfiguredKeys(h.app.services.auth, config);
    expect(await h.app.services.auth.authenticate("file-operator-key-1")).toBeUndefined();
    expect(await h.app.services.auth.authenticate("file-viewer-key-2")).toMatchObject({
      role: "viewer",
    });
    await expect.poll(() => s.closed.code, { timeout: 3000 }).toBe(4403);
  });
});
