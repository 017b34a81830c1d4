import { readFile } from "node:fs/promises";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type AppHarness, collect, eventually, startHarness } from "../support/app-harness.js";

/**
 * Issue 14 "what it must show" for routing and k-of-n consensus, through a whole Trendgate
 * (gateway, every worker, the bundled MCP publish adapter): an English toxic item that the
 * policy says needs two reviews, an `en` and a `de` moderator, then a second `en` one.
 */
let h: AppHarness;
let en1: string;
let en2: string;
let de: string;
let bobId: string;
beforeAll(async () => {
  h = await startHarness();
  const auth = h.app.services.auth;
  en1 = (await auth.createKey("moderator", "ada", undefined, { languages: "en" })).key;
  const bob = await auth.createKey("moderator", "bob", undefined, {
    languages: "en",
    skills: "toxicity",
  });
  en2 = bob.key;
  bobId = bob.id;
  de = (await auth.createKey("moderator", "dora", undefined, { languages: "de" })).key;
}, 120_000);
afterAll(async () => h?.close());

const TOXIC = {
  source: "forum",
  externalId: "toxic-en-1",
  body: "I will kill you and your whole family if you ever show up in this town again, you worthless idiot.",
};

const ESCALATION = `id status claimToken claimedByReviewer { id name } resolution { resolvedByReviewer { id name } } reviews { reviewer reviewedBy { id name } decision note at counted } reviewProgress { required received } trend { id status language }`;

interface EscalationView {
  id: string;
  status: string;
  claimToken: string;
  claimedByReviewer: { id: string; name: string } | null;
  resolution: { resolvedByReviewer: { id: string; name: string } | null } | null;
  reviews: {
    reviewer: string;
    reviewedBy: { id: string; name: string };
    decision: string | null;
    note: string | null;
    counted: boolean;
  }[];
  reviewProgress: { required: number; received: number };
  trend: { id: string; status: string; language: string };
}

async function claimNext(key: string) {
  return h.gql<{ claimNextEscalation: EscalationView | null }>(
    `mutation { claimNextEscalation { ${ESCALATION} } }`,
    {},
    key,
  );
}

async function resolve(key: string, id: string, input: Record<string, unknown>) {
  return h.gql<{ resolveEscalation: EscalationView }>(
    `mutation($id: ID!, $input: ResolveEscalationInput!) { resolveEscalation(id: $id, input: $input) { ${ESCALATION} } }`,
    { id, input },
    key,
  );
}

async function escalation(key: string, id: string) {
  const r = await h.gql<{ escalation: EscalationView }>(
    `query($id: ID!) { escalation(id: $id) { ${ESCALATION} } }`,
    { id },
    key,
  );
  return r.data!.escalation;
}

describe("routing and two-reviewer consensus, end to end", { timeout: 120_000 }, () => {
  it("should show each moderator their profile", async () => {
    const r = await h.gql<{
      me: { name: string; languages: string[]; skills: string[]; capacity: number };
    }>("{ me { id name role languages skills capacity } }", {}, en2);
    expect(r.data!.me).toMatchObject({
      name: "bob",
      languages: ["en"],
      skills: ["toxicity"],
      capacity: 3,
    });
  });

  it("should keep the English item from the de reviewer, wait IN_REVIEW after one APPROVE, refuse a second review by the same key, and publish after the second en APPROVE", async () => {
    const applied = await h.gql(
      `mutation($policy: JSON!) { applyJudgePolicy(policy: $policy, justification: "toxic items need two reviewers") { version } }`,
      { policy: { review: { requiredReviews: { TOXICITY: 2 } } } },
    );
    expect(applied.errors).toBeUndefined();

    const ingested = await h.gql<{ ingestTrend: { id: string } }>(
      `mutation($input: TrendInput!) { ingestTrend(input: $input) { id } }`,
      { input: TOXIC },
      h.keys.integrator,
    );
    const trendId = ingested.data!.ingestTrend.id;
    const escalationId = await eventually(async () => {
      const r = await h.gql<{
        trend: {
          status: string;
          language: string;
          escalations: { id: string; issueType: string }[];
        };
      }>(`query($id: ID!) { trend(id: $id) { status language escalations { id issueType } } }`, {
        id: trendId,
      });
      const t = r.data?.trend;
      return t?.status === "ESCALATED" ? t.escalations[0]?.id : undefined;
    }, 60_000);

    // The de reviewer never gets it: nothing from the queue, FORBIDDEN (saying why) by id.
    expect((await claimNext(de)).data!.claimNextEscalation).toBeNull();
    const deClaim = await h.gql(
      `mutation($id: ID!) { claimEscalation(id: $id) { id } }`,
      { id: escalationId },
      de,
    );
    expect(deClaim.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(deClaim.errors?.[0]?.message).toContain('"en"');

    // Another reviewer's live queue hears of the review, without its decision (subscribed from
    // the stream position read now, so no event falls before the subscription).
    const position = await h.gql<{ escalations: { streamCursor: string } }>(
      "{ escalations(first: 1) { streamCursor } }",
      {},
      en2,
    );
    const updates = collect<{
      escalationUpdated: { id: string; status: string; reviews: { decision: string | null }[] };
    }>(
      h.ws(en2),
      "subscription($after: String) { escalationUpdated(after: $after) { id status reviews { decision } } }",
      {
        after: position.data!.escalations.streamCursor,
      },
    );

    // First en reviewer: claim, APPROVE → still ESCALATED, escalation IN_REVIEW (1 of 2).
    const claimed = (await claimNext(en1)).data!.claimNextEscalation!;
    expect(claimed).toMatchObject({
      id: escalationId,
      status: "CLAIMED",
      trend: { language: "en" },
    });
    const first = await resolve(en1, escalationId, {
      decision: "APPROVE",
      note: "heated, not a threat",
      claimToken: claimed.claimToken,
    });
    expect(first.errors).toBeUndefined();
    expect(first.data!.resolveEscalation).toMatchObject({
      status: "IN_REVIEW",
      reviewProgress: { required: 2, received: 1 },
    });
    expect(first.data!.resolveEscalation.trend.status).toBe("ESCALATED");

    const heard = await eventually(async () =>
      updates.items
        .map((i) => i.data?.escalationUpdated)
        .find((e) => e?.id === escalationId && e.status === "IN_REVIEW"),
    );
    expect(heard.reviews).toEqual([{ decision: null }]);
    updates.unsubscribe();

    // Others do not see the pending decision; an operator does; the reviewer sees their own.
    expect((await escalation(en2, escalationId)).reviews).toEqual([
      expect.objectContaining({
        decision: null,
        note: null,
        reviewer: "ada",
        reviewedBy: expect.objectContaining({ name: "ada" }),
      }),
    ]);
    expect((await escalation(h.keys.operator, escalationId)).reviews[0]).toMatchObject({
      decision: "APPROVE",
      note: "heated, not a threat",
    });
    expect((await escalation(en1, escalationId)).reviews[0]).toMatchObject({ decision: "APPROVE" });

    // The same reviewer again → CONFLICT; and the queue no longer offers it to them.
    const again = await resolve(en1, escalationId, { decision: "APPROVE" });
    expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect((await claimNext(en1)).data!.claimNextEscalation).toBeNull();
    expect((await claimNext(de)).data!.claimNextEscalation).toBeNull();

    // Second en reviewer: APPROVE → APPROVED, then PUBLISHED once.
    const second = (await claimNext(en2)).data!.claimNextEscalation!;
    expect(second.id).toBe(escalationId);
    expect(second.claimedByReviewer).toEqual({ id: bobId, name: "bob" });
    const final = await resolve(en2, escalationId, {
      decision: "APPROVE",
      claimToken: second.claimToken,
    });
    expect(final.errors).toBeUndefined();
    expect(final.data!.resolveEscalation.status).toBe("RESOLVED");
    expect(final.data!.resolveEscalation.resolution?.resolvedByReviewer).toEqual({
      id: bobId,
      name: "bob",
    });
    expect(["APPROVED", "PUBLISHED"]).toContain(final.data!.resolveEscalation.trend.status);
    await eventually(
      async () =>
        (await escalation(h.keys.viewer, escalationId)).trend.status === "PUBLISHED"
          ? true
          : undefined,
      60_000,
    );
    const published = (await readFile(`${h.dir}/published.jsonl`, "utf8"))
      .split("\n")
      .filter((l) => l.includes(trendId));
    expect(published).toHaveLength(1);

    // After the outcome every moderator sees both decisions.
    const decided = await escalation(en1, escalationId);
    expect(decided.reviews.map((r) => [r.reviewer, r.decision, r.counted])).toEqual([
      ["ada", "APPROVE", true],
      ["bob", "APPROVE", true],
    ]);
  });
});
