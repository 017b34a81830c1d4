import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openEscalation } from "../../src/pipeline/review/open-escalation.js";
import { type AppHarness, collect, eventually, startHarness } from "../support/app-harness.js";

/** Issue 12 items 1, 2 and 7 through a real gateway: tenants, field permissions, claims by key id, separation of duties. */
let h: AppHarness;
let acme: string;
let globex: string;

beforeAll(async () => {
  h = await startHarness({ workers: ["relay"], config: { SEPARATION_OF_DUTIES: true } });
  acme = (await h.app.services.auth.createKey("integrator", "acme-int", ["acme"])).key;
  globex = (await h.app.services.auth.createKey("integrator", "globex-int", ["globex"])).key;
}, 60_000);
afterAll(async () => h?.close());

const INGEST = `mutation($input: TrendInput!) { ingestTrend(input: $input) { id traceId duplicate } }`;
type Receipt = { ingestTrend: { id: string; traceId: string; duplicate: boolean } };

async function ingest(key: string, externalId: string, body = "Rates held steady this quarter.") {
  const r = await h.gql<Receipt>(INGEST, { input: { source: "wire", externalId, body } }, key);
  expect(r.errors).toBeUndefined();
  return r.data!.ingestTrend;
}

async function escalate(trend: { id: string; traceId: string }): Promise<string> {
  const id = await h.env.db.transaction().execute((trx) =>
    openEscalation(
      trx,
      { id: trend.id, trace_id: trend.traceId },
      {
        issueType: "low_confidence",
        reason: "confidence 0.41 below 0.6",
        rule: "confidence_threshold",
        scores: { confidence: 0.41 },
      },
    ),
  );
  return id!;
}

describe("tenants", () => {
  it("should give two integrators of two tenants posting the same source + externalId two trends, neither readable by the other", async () => {
    const a = await ingest(acme, "same-1");
    const b = await ingest(globex, "same-1");
    expect(a.id).not.toBe(b.id);
    expect([a.duplicate, b.duplicate]).toEqual([false, false]);
    expect((await ingest(acme, "same-1")).id).toBe(a.id);

    const TREND = `query($id: ID!) { trend(id: $id) { id } }`;
    expect((await h.gql(TREND, { id: b.id }, acme)).errors?.[0]?.extensions?.code).toBe(
      "NOT_FOUND",
    );
    expect((await h.gql(TREND, { id: a.id }, globex)).errors?.[0]?.extensions?.code).toBe(
      "NOT_FOUND",
    );
    expect(
      (
        await h.gql(
          `query($id: ID) { provenance(trendId: $id) { entries { id } } }`,
          { id: a.id },
          globex,
        )
      ).errors?.[0]?.extensions?.code,
    ).toBe("NOT_FOUND");
    expect(
      (
        await h.gql(
          `query($t: String) { provenance(traceId: $t) { entries { id } } }`,
          { t: a.traceId },
          globex,
        )
      ).errors?.[0]?.extensions?.code,
    ).toBe("NOT_FOUND");

    const list = await h.gql<{ trends: { edges: { node: { id: string } }[] } }>(
      `{ trends(first: 100) { edges { node { id } } } }`,
      {},
      globex,
    );
    const ids = list.data!.trends.edges.map((e) => e.node.id);
    expect(ids).toContain(b.id);
    expect(ids).not.toContain(a.id);
    // Staff without --tenants see both.
    const all = await h.gql<{ trends: { edges: { node: { id: string } }[] } }>(
      `{ trends(first: 100) { edges { node { id } } } }`,
      {},
      h.keys.viewer,
    );
    expect(all.data!.trends.edges.map((e) => e.node.id)).toEqual(
      expect.arrayContaining([a.id, b.id]),
    );
  });

  it("should limit a moderator made with --tenants to those tenants' escalations, on lists, by id, on claims and on the live feed", async () => {
    const mod = await h.app.services.auth.createKey("moderator", "acme-mod", ["acme"]);
    const feed = collect(h.ws(mod.key), `subscription { escalationCreated { id trendId } }`);
    const aTrend = await ingest(acme, "mod-a");
    const bTrend = await ingest(globex, "mod-b");
    const bEsc = await escalate(bTrend);
    const aEsc = await escalate(aTrend);
    const [event] = await feed.take(1);
    expect((event!.data as { escalationCreated: { id: string } }).escalationCreated.id).toBe(aEsc);

    const list = await h.gql<{ escalations: { edges: { node: { id: string } }[] } }>(
      `{ escalations(first: 100) { edges { node { id } } } }`,
      {},
      mod.key,
    );
    const ids = list.data!.escalations.edges.map((e) => e.node.id);
    expect(ids).toContain(aEsc);
    expect(ids).not.toContain(bEsc);
    expect(
      (await h.gql(`query($id: ID!) { escalation(id: $id) { id } }`, { id: bEsc }, mod.key))
        .errors?.[0]?.extensions?.code,
    ).toBe("NOT_FOUND");
    expect(
      (await h.gql(`mutation($id: ID!) { claimEscalation(id: $id) { id } }`, { id: bEsc }, mod.key))
        .errors?.[0]?.extensions?.code,
    ).toBe("NOT_FOUND");
    expect(feed.items).toHaveLength(1);
  });
});

describe("field permissions", () => {
  let escalationId: string;
  let trendId: string;
  beforeAll(async () => {
    const trend = await ingest(acme, "fields-1");
    trendId = trend.id;
    escalationId = await escalate(trend);
    const resolved = await h.gql(
      `mutation($id: ID!) { resolveEscalation(id: $id, input: { decision: APPROVE, note: "private moderator note" }) { id } }`,
      { id: escalationId },
      h.keys.moderator,
    );
    expect(resolved.errors).toBeUndefined();
  });

  const NOTE = `query($id: ID!) { escalation(id: $id) { status resolution { decision note } } }`;

  it("should not give a resolution note to a viewer or an integrator, over HTTP and WebSocket, and show it to a moderator", async () => {
    for (const key of [h.keys.viewer, acme]) {
      const r = await h.gql<{ escalation: unknown }>(NOTE, { id: escalationId }, key);
      expect(r.errors).toBeUndefined();
      expect(r.data!.escalation).toEqual({
        status: "RESOLVED",
        resolution: { decision: "APPROVE", note: null },
      });
    }
    const ws = collect(h.ws(h.keys.viewer), NOTE, { id: escalationId });
    const [answer] = await ws.take(1);
    expect(answer!.data).toEqual({
      escalation: { status: "RESOLVED", resolution: { decision: "APPROVE", note: null } },
    });
    const mod = await h.gql<{ escalation: { resolution: { note: string } } }>(
      NOTE,
      { id: escalationId },
      h.keys.moderator,
    );
    expect(mod.data!.escalation.resolution.note).toBe("private moderator note");
  });

  it("should show an integrator status, decision and the public reason code, but not reasons, rules, scores or claim tokens", async () => {
    const ok = await h.gql<{
      escalation: { status: string; issueType: string; resolution: { decision: string } };
    }>(
      `query($id: ID!) { escalation(id: $id) { status issueType resolution { decision } } }`,
      { id: escalationId },
      acme,
    );
    expect(ok.data!.escalation).toEqual({
      status: "RESOLVED",
      issueType: "LOW_CONFIDENCE",
      resolution: { decision: "APPROVE" },
    });
    const internals = `query($id: ID!) { escalation(id: $id) { reason rule scores claimToken claimedBy resolution { resolvedBy } } }`;
    const hidden = await h.gql<{ escalation: unknown }>(internals, { id: escalationId }, acme);
    expect(hidden.data!.escalation).toEqual({
      reason: "low_confidence",
      rule: null,
      scores: {},
      claimToken: "",
      claimedBy: null,
      resolution: { resolvedBy: "moderator" },
    });
    const staff = await h.gql<{
      escalation: { reason: string; rule: string; resolution: { resolvedBy: string } };
    }>(internals, { id: escalationId }, h.keys.moderator);
    expect(staff.data!.escalation).toMatchObject({
      reason: "confidence 0.41 below 0.6",
      rule: "confidence_threshold",
      resolution: { resolvedBy: "test-moderator" },
    });
  });

  it("should redact notes and reviewer identities from an integrator's provenance", async () => {
    const r = await h.gql<{
      provenance: { entries: { step: string; actor: string; input: Record<string, unknown> }[] };
    }>(
      `query($id: ID) { provenance(trendId: $id) { entries { step actor input output } } }`,
      { id: trendId },
      acme,
    );
    expect(r.errors).toBeUndefined();
    const resolution = r.data!.provenance.entries.find((e) => e.step === "resolution")!;
    expect(resolution.actor).toBe("moderator");
    expect(resolution.input).toEqual({
      decision: "APPROVE",
      issueType: "low_confidence",
      reasonCode: null,
    });
    expect(JSON.stringify(r.data)).not.toContain("private moderator note");
    expect(JSON.stringify(r.data)).not.toContain("test-moderator");
  });
});

describe("claims and separation of duties", () => {
  it("should compare claim holders by key id: another key with the same name cannot resolve over a live claim", async () => {
    const trend = await ingest(acme, "claim-1");
    const id = await escalate(trend);
    const first = await h.app.services.auth.createKey("moderator", "sam");
    const second = await h.app.services.auth.createKey("moderator", "sam");
    expect(
      (await h.gql(`mutation($id: ID!) { claimEscalation(id: $id) { id } }`, { id }, first.key))
        .errors,
    ).toBeUndefined();
    const stolen = await h.gql(
      `mutation($id: ID!) { resolveEscalation(id: $id, input: { decision: REJECT, reasonCode: "VIOLENCE" }) { id } }`,
      { id },
      second.key,
    );
    expect(stolen.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const row = await h.env.db
      .selectFrom("escalations")
      .select(["claimed_by_key", "claim_expires_at"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(row.claimed_by_key).toBe(first.id);
  });

  it("should refuse, with SEPARATION_OF_DUTIES, a resolution by the key that ingested the item", async () => {
    const trend = await ingest(h.keys.operator, "sod-1");
    const id = await escalate(trend);
    const own = await h.gql(
      `mutation($id: ID!) { resolveEscalation(id: $id, input: { decision: APPROVE }) { id } }`,
      { id },
      h.keys.operator,
    );
    expect(own.errors?.[0]?.extensions).toMatchObject({
      code: "FORBIDDEN",
      reason: "SEPARATION_OF_DUTIES",
    });
    const other = await h.gql(
      `mutation($id: ID!) { resolveEscalation(id: $id, input: { decision: APPROVE }) { status } }`,
      { id },
      h.keys.moderator,
    );
    expect(other.errors).toBeUndefined();
    await eventually(async () =>
      (
        await h.env.db
          .selectFrom("escalations")
          .select("status")
          .where("id", "=", id)
          .executeTakeFirst()
      )?.status === "RESOLVED"
        ? true
        : undefined,
    );
  });
});
