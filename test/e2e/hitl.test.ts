import { readFile } from "node:fs/promises";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type AppHarness, collect, eventually, startHarness } from "../support/app-harness.js";

/**
 * The whole pipeline, as `trendgate start` runs it: real offline models, the Postgres vector
 * store, the bundled MCP publish adapter over stdio, Postgres and Redis.
 */
let h: AppHarness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => h?.close());

const CLEAN = {
  source: "newswire",
  title: "Central bank holds rates",
  body: "The central bank kept its benchmark interest rate unchanged on Tuesday, citing easing inflation and a resilient labour market. Analysts expect a cut later this year.",
};
const THREAT = { source: "forum", body: "I will kill you if you show up here again" };

const ESCALATION_FIELDS = `id trendId issueType reason rule status claimedBy claimToken cursor resolution { decision note resolvedBy } trend { id status toxicityScore confidence }`;

async function ingest(input: Record<string, unknown>): Promise<{ id: string; traceId: string }> {
  const r = await h.gql<{ ingestTrend: { id: string; traceId: string } }>(
    `mutation($input: TrendInput!) { ingestTrend(input: $input) { id traceId status } }`,
    { input },
    h.keys.integrator,
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.ingestTrend;
}

async function trendStatus(id: string): Promise<string> {
  const r = await h.gql<{ trend: { status: string } }>(
    `query($id: ID!) { trend(id: $id) { status } }`,
    { id },
    h.keys.viewer,
  );
  return r.data!.trend.status;
}

async function publishedLines(): Promise<{ trendId: string; externalRef?: string }[]> {
  const text = await readFile(`${h.dir}/published.jsonl`, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { trendId: string; externalRef?: string });
}

const resolveMutation = `mutation($id: ID!, $input: ResolveEscalationInput!) { resolveEscalation(id: $id, input: $input) { ${ESCALATION_FIELDS} } }`;

describe("the pipeline end to end", { timeout: 90_000 }, () => {
  it("should publish a clean item automatically through the MCP adapter", async () => {
    const { id } = await ingest({ ...CLEAN, externalId: "clean-1" });
    await eventually(
      async () => ((await trendStatus(id)) === "PUBLISHED" ? true : undefined),
      60_000,
    );
    const lines = (await publishedLines()).filter((l) => l.trendId === id);
    expect(lines).toHaveLength(1);
    const r = await h.gql<{
      trend: {
        embeddingStatus: string;
        embedding: { dimension: number; model: string };
        publication: { externalRef: string; approvalPath: string };
      };
    }>(
      `query($id: ID!) { trend(id: $id) { embeddingStatus embedding { dimension model } publication { externalRef approvalPath } } }`,
      { id },
      h.keys.viewer,
    );
    expect(r.data!.trend.embeddingStatus).toBe("SUCCEEDED");
    expect(r.data!.trend.embedding.dimension).toBeGreaterThan(0);
    expect(r.data!.trend.publication.approvalPath).toBe("judge");
    expect(r.data!.trend.publication.externalRef).toBe(lines[0]!.externalRef);
  });

  it("should deliver a toxic item to an escalationCreated subscriber, and APPROVE turns it APPROVED then PUBLISHED with every transition seen", async () => {
    const subscribers = h.app.services.pubsub.subscriberCount();
    const moderator = h.ws(h.keys.moderator);
    const created = collect<{
      escalationCreated: { id: string; trendId: string; issueType: string; cursor: string };
    }>(moderator, `subscription { escalationCreated { ${ESCALATION_FIELDS} } }`);
    const updates = collect<{ trendUpdated: { trendId: string; from: string | null; to: string } }>(
      h.ws(h.keys.viewer),
      `subscription { trendUpdated { trendId from to cursor } }`,
    );
    // Both live subscriptions established before the item exists (they hear only what follows).
    await eventually(async () =>
      h.app.services.pubsub.subscriberCount() >= subscribers + 2 ? true : undefined,
    );
    const { id } = await ingest({ ...THREAT, externalId: "threat-approve" });
    const [event] = await created.take(1, 60_000);
    const escalation = event!.data!.escalationCreated;
    expect(escalation.trendId).toBe(id);
    expect(escalation.issueType).toBe("TOXICITY");
    expect(escalation.cursor).toMatch(/^\d+-\d+$/);

    const resolved = await h.gql<{
      resolveEscalation: { status: string; resolution: { decision: string; resolvedBy: string } };
    }>(
      resolveMutation,
      {
        id: escalation.id,
        input: { decision: "APPROVE", note: "quoted from a film, fine in context" },
      },
      h.keys.moderator,
    );
    expect(resolved.errors).toBeUndefined();
    expect(resolved.data!.resolveEscalation.status).toBe("RESOLVED");
    await eventually(
      async () => ((await trendStatus(id)) === "PUBLISHED" ? true : undefined),
      30_000,
    );
    await eventually(async () =>
      updates.items.filter(
        (u) => u.data?.trendUpdated.trendId === id && u.data.trendUpdated.to === "PUBLISHED",
      ).length
        ? true
        : undefined,
    );
    const transitions = updates.items
      .filter((u) => u.data?.trendUpdated.trendId === id)
      .map((u) => u.data!.trendUpdated.to);
    expect(transitions).toEqual([
      "RECEIVED",
      "PLANNED",
      "ENRICHED",
      "EMBEDDED",
      "ESCALATED",
      "APPROVED",
      "PUBLISHED",
    ]);
    expect((await publishedLines()).filter((l) => l.trendId === id)).toHaveLength(1);

    const prov = await h.gql<{
      provenance: { entries: { step: string; actor: string; input: { note?: string } }[] };
    }>(
      `query($id: ID!) { provenance(trendId: $id) { entries { step actor input } } }`,
      { id },
      // Reviewer identities, notes and justifications are for moderators and operators (issue 12).
      h.keys.moderator,
    );
    const resolution = prov.data!.provenance.entries.find((e) => e.step === "resolution");
    expect(resolution?.actor).toBe("moderator:test-moderator");
    expect(resolution?.input.note).toBe("quoted from a film, fine in context");
  });

  it("should never publish an item a moderator REJECTED", async () => {
    const { id } = await ingest({ ...THREAT, externalId: "threat-reject" });
    const escalationId = await eventually(async () => {
      const r = await h.gql<{ trend: { escalations: { id: string }[] } }>(
        `query($id: ID!) { trend(id: $id) { escalations { id } } }`,
        { id },
        h.keys.viewer,
      );
      return r.data?.trend.escalations[0]?.id;
    }, 60_000);
    const r = await h.gql(
      resolveMutation,
      { id: escalationId, input: { decision: "REJECT", reasonCode: "VIOLENCE", note: "a threat" } },
      h.keys.moderator,
    );
    expect(r.errors).toBeUndefined();
    expect(await trendStatus(id)).toBe("REJECTED");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await trendStatus(id)).toBe("REJECTED");
    expect((await publishedLines()).filter((l) => l.trendId === id)).toHaveLength(0);
  });

  it("should let exactly one of two racing moderators resolve, with one hitl:resolution event", async () => {
    const { id } = await ingest({ ...THREAT, externalId: "threat-race" });
    const escalationId = await eventually(async () => {
      const r = await h.gql<{ trend: { escalations: { id: string }[] } }>(
        `query($id: ID!) { trend(id: $id) { escalations { id } } }`,
        { id },
        h.keys.viewer,
      );
      return r.data?.trend.escalations[0]?.id;
    }, 60_000);
    const second = (await h.app.services.auth.createKey("moderator", "second-moderator")).key;
    const [a, b] = await Promise.all([
      h.gql(
        resolveMutation,
        { id: escalationId, input: { decision: "APPROVE" } },
        h.keys.moderator,
      ),
      h.gql(
        resolveMutation,
        { id: escalationId, input: { decision: "REJECT", reasonCode: "VIOLENCE" } },
        second,
      ),
    ]);
    const outcomes = [a, b].map((r) => (r.errors ? r.errors[0]!.extensions!.code : "OK")).sort();
    expect(outcomes).toEqual(["CONFLICT", "OK"]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const events = await h.env.redis.xrange(h.env.keys.key("hitl:resolution"), "-", "+");
    const forThis = events.filter(([, fields]) => fields[1]!.includes(escalationId));
    expect(forThis).toHaveLength(1);
  });

  it("should publish a REJECTED item after an operator override and show who and why in provenance", async () => {
    const { id } = await ingest({ ...THREAT, externalId: "threat-override" });
    const escalationId = await eventually(async () => {
      const r = await h.gql<{ trend: { escalations: { id: string }[] } }>(
        `query($id: ID!) { trend(id: $id) { escalations { id } } }`,
        { id },
        h.keys.viewer,
      );
      return r.data?.trend.escalations[0]?.id;
    }, 60_000);
    await h.gql(
      resolveMutation,
      { id: escalationId, input: { decision: "REJECT", reasonCode: "VIOLENCE" } },
      h.keys.moderator,
    );
    const empty = await h.gql(
      `mutation($id: ID!) { overridePublish(trendId: $id, justification: "   ") { id } }`,
      { id },
      h.keys.operator,
    );
    expect(empty.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const byModerator = await h.gql(
      `mutation($id: ID!) { overridePublish(trendId: $id, justification: "x") { id } }`,
      { id },
      h.keys.moderator,
    );
    expect(byModerator.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const ok = await h.gql(
      `mutation($id: ID!) { overridePublish(trendId: $id, justification: "legal cleared it: satire") { id operator } }`,
      { id },
      h.keys.operator,
    );
    expect(ok.errors).toBeUndefined();
    await eventually(
      async () => ((await trendStatus(id)) === "PUBLISHED" ? true : undefined),
      30_000,
    );
    const prov = await h.gql<{
      provenance: { entries: { step: string; actor: string; input: Record<string, unknown> }[] };
    }>(
      `query($id: ID!) { provenance(trendId: $id) { entries { step actor input } } }`,
      { id },
      // Reviewer identities, notes and justifications are for moderators and operators (issue 12).
      h.keys.moderator,
    );
    const override = prov.data!.provenance.entries.find((e) => e.step === "override");
    expect(override?.actor).toBe("operator:test-operator");
    expect(override?.input.justification).toBe("legal cleared it: satire");
    const publish = prov.data!.provenance.entries.find((e) => e.step === "publish");
    expect(publish?.input.approvalPath).toBe("override");
  });

  it("should return the topically closest items first from similarTrends(text)", async () => {
    const items = [
      {
        externalId: "sim-1",
        title: "Striker scores twice in cup final",
        body: "The striker scored two goals as the home team won the cup final in front of a sold-out stadium.",
      },
      {
        externalId: "sim-2",
        title: "New smartphone chip announced",
        body: "The chipmaker unveiled a faster processor for smartphones with better battery life and an improved camera pipeline.",
      },
      {
        externalId: "sim-3",
        title: "Heavy rain floods city streets",
        body: "Heavy rain flooded streets across the city overnight and forecasters warn of more storms this week.",
      },
    ];
    const ids = [];
    for (const item of items) ids.push((await ingest({ source: "sim", ...item })).id);
    await eventually(async () => {
      const r = await h.gql<{ trends: { edges: { node: { embeddingStatus: string } }[] } }>(
        `{ trends(filter: { source: "sim" }) { edges { node { embeddingStatus } } } }`,
        {},
        h.keys.viewer,
      );
      return r.data!.trends.edges.every((e) => e.node.embeddingStatus === "SUCCEEDED") &&
        r.data!.trends.edges.length === 3
        ? true
        : undefined;
    }, 60_000);
    const r = await h.gql<{ similarTrends: { trend: { id: string }; score: number }[] }>(
      `{ similarTrends(text: "football match goal soccer team", first: 3, filter: { source: "sim" }) { trend { id } score } }`,
      {},
      h.keys.viewer,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.similarTrends[0]!.trend.id).toBe(ids[0]);
    const scores = r.data!.similarTrends.map((s) => s.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });
});
