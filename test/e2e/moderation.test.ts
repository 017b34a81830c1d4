import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

import { startGatewayServer } from "../../src/http/gateway-server.js";
import { type AppHarness, collect, eventually, startHarness } from "../support/app-harness.js";

/**
 * Moderation over the public API: subscriptions that resume by cursor, claims with leases and
 * fencing tokens, SLA alerts, and the same error codes over HTTP, WebSocket and REST.
 */
let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({
    config: {
      CLAIM_LEASE_MS: 1000,
      ESCALATION_SLA_MS: { toxicity: 1500 } as never,
      SWEEP_INTERVAL_MS: 200,
    },
  });
}, 120_000);
afterAll(async () => h?.close());

const THREAT = "I will kill you if you show up here again";
let counter = 0;

/** Posts a threat and waits for its escalation; through the services while the gateway is down. */
async function escalate(viaGateway = true): Promise<{ trendId: string; escalationId: string }> {
  const input = {
    source: "forum",
    externalId: `m-${++counter}-${Date.now()}`,
    body: `${THREAT} (${counter})`,
  };
  const trendId = viaGateway
    ? (
        await h.gql<{ ingestTrend: { id: string } }>(
          `mutation($input: TrendInput!) { ingestTrend(input: $input) { id } }`,
          { input },
          h.keys.integrator,
        )
      ).data!.ingestTrend.id
    : (await h.app.services.ingest.ingest(input, "test")).id;
  const escalationId = await eventually(async () => {
    const row = await h.env.db
      .selectFrom("escalations")
      .select("id")
      .where("trend_id", "=", trendId)
      .executeTakeFirst();
    return row?.id;
  }, 60_000);
  return { trendId, escalationId };
}

const CREATED = `subscription($after: String) { escalationCreated(after: $after) { id trendId cursor } }`;
const RESOLVE = `mutation($id: ID!, $input: ResolveEscalationInput!) { resolveEscalation(id: $id, input: $input) { id status claimToken } }`;

describe("moderation", { timeout: 120_000 }, () => {
  it("should deliver exactly the three escalations created while a moderator was away, in order, after reconnecting with its cursor", async () => {
    const first = collect<{ escalationCreated: { id: string; cursor: string } }>(h.ws(), CREATED);
    await new Promise((r) => setTimeout(r, 200));
    await escalate();
    const [seen] = await first.take(1, 60_000);
    const cursor = seen!.data!.escalationCreated.cursor;
    first.unsubscribe();

    const missed = [];
    for (let i = 0; i < 3; i++) missed.push((await escalate()).escalationId);
    const resumed = collect<{ escalationCreated: { id: string; cursor: string } }>(
      h.ws(),
      CREATED,
      { after: cursor },
    );
    const got = await resumed.take(3, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(resumed.items.map((i) => i.data!.escalationCreated.id)).toEqual(missed);
    expect(got).toHaveLength(3);
  });

  it("should lose nothing when the gateway restarts while a subscriber waits", async () => {
    const events: { id: string; cursor: string }[] = [];
    let lastCursor: string | undefined;
    const port = h.app.gateway!.port;
    // graphql-ws re-subscribes on reconnect with the variables it was given; the client keeps
    // the cursor it saw last and passes it when subscribing again (what the console does).
    const subscribe = (client: ReturnType<typeof createClient>) =>
      client.subscribe<{ escalationCreated: { id: string; cursor: string } }>(
        { query: CREATED, variables: { after: lastCursor } },
        {
          next: (v) => {
            const e = v.data!.escalationCreated;
            events.push(e);
            lastCursor = e.cursor;
          },
          error: () => undefined,
          complete: () => undefined,
        },
      );
    const url = h.wsUrl;
    let client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${h.keys.moderator}` },
      retryAttempts: 0,
    });
    subscribe(client);
    const before = await escalate();
    await eventually(
      async () => (events.some((e) => e.id === before.escalationId) ? true : undefined),
      30_000,
    );

    await h.app.gateway!.close();
    const during = [await escalate(false), await escalate(false)];
    const gateway = await startGatewayServer(h.app.services, { port });
    (h.app as { gateway?: typeof gateway }).gateway = gateway;
    await client.dispose();
    client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${h.keys.moderator}` },
      retryAttempts: 0,
    });
    subscribe(client);
    const after = await escalate();
    const wanted = [before, ...during, after].map((e) => e.escalationId);
    await eventually(
      async () => (wanted.every((id) => events.some((e) => e.id === id)) ? true : undefined),
      30_000,
    );
    const ids = events.map((e) => e.id).filter((id) => wanted.includes(id));
    expect(ids).toEqual(wanted);
    await client.dispose();
  });

  it("should close a WebSocket with 4403 for a wrong key, and with 4401 without one", async () => {
    const closeCode = (connectionParams: Record<string, unknown>) =>
      new Promise<number>((resolve) => {
        const client = createClient({
          url: h.wsUrl,
          webSocketImpl: WebSocket,
          connectionParams,
          retryAttempts: 0,
          on: { closed: (event) => resolve((event as { code: number }).code) },
        });
        client.subscribe(
          { query: CREATED },
          { next: () => undefined, error: () => undefined, complete: () => undefined },
        );
      });
    expect(await closeCode({ authorization: "Bearer tg_moderator_wrong" })).toBe(4403);
    expect(await closeCode({})).toBe(4401);
  });

  it("should answer NOT_FOUND, BAD_USER_INPUT and FORBIDDEN alike over HTTP and WebSocket, UNAUTHENTICATED over HTTP", async () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    const cases: [string | null, Record<string, unknown>, string][] = [
      [h.keys.moderator, { id: unknown, input: { decision: "APPROVE" } }, "NOT_FOUND"],
      [h.keys.moderator, { id: unknown, input: { decision: "MAYBE" } }, "BAD_USER_INPUT"],
      [h.keys.integrator, { id: unknown, input: { decision: "APPROVE" } }, "FORBIDDEN"],
    ];
    // Without a key: UNAUTHENTICATED over HTTP; over WebSocket the socket is closed with 4401 first
    // (the test above).
    expect(
      (await h.gql(RESOLVE, { id: unknown, input: { decision: "APPROVE" } }, null)).errors?.[0]
        ?.extensions?.code,
    ).toBe("UNAUTHENTICATED");
    for (const [key, variables, code] of cases) {
      const http = await h.gql(RESOLVE, variables, key);
      expect(http.errors?.[0]?.extensions?.code, `HTTP ${code}`).toBe(code);
      const ws = collect(h.ws(key), RESOLVE, variables);
      await eventually(async () => (ws.items.length || ws.error ? true : undefined), 10_000);
      const errors = ws.items[0]?.errors ?? (ws.error as { extensions?: { code?: string } }[]);
      expect(errors?.[0]?.extensions?.code, `WebSocket ${code}`).toBe(code);
    }
  });

  it("should resolve over REST with the same semantics and codes", async () => {
    const { escalationId } = await escalate();
    const rest = (id: string, body: unknown, key: string | null) =>
      fetch(`${h.url}/escalations/${id}/resolve`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: JSON.stringify(body),
      });
    expect((await rest(escalationId, { decision: "APPROVE" }, null)).status).toBe(401);
    expect((await rest(escalationId, { decision: "APPROVE" }, h.keys.viewer)).status).toBe(403);
    const bad = await rest(escalationId, { decision: "YES" }, h.keys.moderator);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("BAD_USER_INPUT");
    expect(
      (
        await rest(
          "00000000-0000-4000-8000-000000000000",
          { decision: "APPROVE" },
          h.keys.moderator,
        )
      ).status,
    ).toBe(404);
    const ok = await rest(
      escalationId,
      { decision: "REJECT", reasonCode: "VIOLENCE", note: "threat" },
      h.keys.moderator,
    );
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { escalation: { status: string } }).escalation.status).toBe(
      "RESOLVED",
    );
    const again = await rest(escalationId, { decision: "APPROVE" }, h.keys.moderator);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("CONFLICT");
  });

  it("should return an abandoned claim to the queue and refuse a resolution carrying a stale fencing token", async () => {
    const { escalationId } = await escalate();
    const other = (await h.app.services.auth.createKey("moderator", "other-moderator")).key;
    const claim = `mutation($id: ID!) { claimEscalation(id: $id) { id status claimedBy claimToken } }`;
    const first = await h.gql<{ claimEscalation: { claimToken: string; claimedBy: string } }>(
      claim,
      { id: escalationId },
      h.keys.moderator,
    );
    expect(first.data!.claimEscalation.claimedBy).toBe("test-moderator");
    const blocked = await h.gql(claim, { id: escalationId }, other);
    expect(blocked.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    // The lease (1 s here) lapses; the sweeper returns the escalation to the queue.
    await eventually(async () => {
      const r = await h.gql<{ escalation: { status: string } }>(
        `query($id: ID!) { escalation(id: $id) { status } }`,
        { id: escalationId },
        h.keys.viewer,
      );
      return r.data!.escalation.status === "OPEN" ? true : undefined;
    }, 15_000);
    const second = await h.gql<{ claimEscalation: { claimToken: string } }>(
      claim,
      { id: escalationId },
      other,
    );
    expect(Number(second.data!.claimEscalation.claimToken)).toBeGreaterThan(
      Number(first.data!.claimEscalation.claimToken),
    );
    const stale = await h.gql(
      RESOLVE,
      {
        id: escalationId,
        input: { decision: "APPROVE", claimToken: first.data!.claimEscalation.claimToken },
      },
      h.keys.moderator,
    );
    expect(stale.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const fresh = await h.gql<{ resolveEscalation: { status: string } }>(
      RESOLVE,
      {
        id: escalationId,
        input: { decision: "APPROVE", claimToken: second.data!.claimEscalation.claimToken },
      },
      other,
    );
    expect(fresh.data?.resolveEscalation.status).toBe("RESOLVED");
  });

  it("should raise an operator alert for an escalation waiting past its SLA", async () => {
    const alerts = collect<{ operatorAlerts: { kind: string; data: { escalationId: string } } }>(
      h.ws(h.keys.operator),
      `subscription { operatorAlerts { kind severity message data trendId cursor } }`,
    );
    const { escalationId } = await escalate();
    await eventually(
      async () =>
        alerts.items.some(
          (a) =>
            a.data?.operatorAlerts.kind === "ESCALATION_SLA" &&
            a.data.operatorAlerts.data.escalationId === escalationId,
        )
          ? true
          : undefined,
      20_000,
    );
    const forThis = alerts.items.filter(
      (a) =>
        a.data?.operatorAlerts.data.escalationId === escalationId &&
        a.data.operatorAlerts.kind === "ESCALATION_SLA",
    );
    expect(forThis).toHaveLength(1);
  });
});
