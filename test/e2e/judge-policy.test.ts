import { readFile } from "node:fs/promises";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";

/**
 * Policy versions and audit samples through the whole pipeline (real models, every worker),
 * with AUDIT_SAMPLE_RATE=1: every item the Judge would publish waits for a moderator first.
 */
let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({ config: { AUDIT_SAMPLE_RATE: 1 } });
}, 120_000);
afterAll(async () => h?.close());

const CLEAN = {
  source: "newswire",
  title: "Central bank holds rates",
  body: "The central bank kept its benchmark interest rate unchanged on Tuesday, citing easing inflation and a resilient labour market. Analysts expect a cut later this year.",
};

async function ingest(externalId: string): Promise<string> {
  const r = await h.gql<{ ingestTrend: { id: string } }>(
    `mutation($input: TrendInput!) { ingestTrend(input: $input) { id } }`,
    { input: { ...CLEAN, externalId } },
    h.keys.integrator,
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.ingestTrend.id;
}

async function auditEscalation(
  trendId: string,
): Promise<{ id: string; issueType: string; rule: string }> {
  return eventually(async () => {
    const r = await h.gql<{
      escalations: {
        edges: { node: { id: string; trendId: string; issueType: string; rule: string } }[];
      };
    }>(
      `{ escalations(issueType: [AUDIT_SAMPLE], first: 50) { edges { node { id trendId issueType rule } } } }`,
      {},
      h.keys.moderator,
    );
    return r.data?.escalations.edges.map((e) => e.node).find((n) => n.trendId === trendId);
  }, 60_000);
}

async function judgeActor(trendId: string): Promise<string | undefined> {
  const r = await h.gql<{
    provenance: { entries: { step: string; actor: string; output: { policyVersion?: number } }[] };
  }>(
    `query($id: ID!) { provenance(trendId: $id) { entries { step actor output } } }`,
    { id: trendId },
    h.keys.operator,
  );
  return r.data?.provenance.entries.find((e) => e.step === "judge")?.actor;
}

const status = async (id: string) =>
  (
    await h.gql<{ trend: { status: string } }>(
      `query($id: ID!) { trend(id: $id) { status } }`,
      { id },
      h.keys.viewer,
    )
  ).data?.trend.status;
const resolve = (id: string, decision: "APPROVE" | "REJECT") =>
  h.gql(
    `mutation($id: ID!, $d: Decision!, $r: String) { resolveEscalation(id: $id, input: { decision: $d, reasonCode: $r }) { status } }`,
    { id, d: decision, r: decision === "REJECT" ? "VIOLENCE" : null },
    h.keys.moderator,
  );

describe("audit samples and policy versions end to end", { timeout: 120_000 }, () => {
  it("should hold back a publishable item as AUDIT_SAMPLE; APPROVE publishes it, REJECT does not", async () => {
    const approved = await ingest("audit-approve");
    const rejected = await ingest("audit-reject");
    const a = await auditEscalation(approved);
    const b = await auditEscalation(rejected);
    expect(a).toMatchObject({ issueType: "AUDIT_SAMPLE", rule: "audit_sample" });
    expect(await judgeActor(approved)).toBe("judge:policy-v1");
    expect((await resolve(a.id, "APPROVE")).errors).toBeUndefined();
    expect((await resolve(b.id, "REJECT")).errors).toBeUndefined();
    await eventually(
      async () => ((await status(approved)) === "PUBLISHED" ? true : undefined),
      60_000,
    );
    expect(await status(rejected)).toBe("REJECTED");
    const published = (await readFile(`${h.dir}/published.jsonl`, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { trendId: string });
    expect(published.map((p) => p.trendId)).toEqual([approved]);
  });

  it("should judge with a newly applied version within moments, naming it in provenance", async () => {
    const applied = await h.gql<{ applyJudgePolicy: { version: number } }>(
      `mutation($p: JSON!) { applyJudgePolicy(policy: $p, justification: "tighter confidence") { version } }`,
      { p: { thresholds: { minConfidence: 0.65, maxToxicity: 0.8, toxicityCeiling: 0.97 } } },
    );
    expect(applied.data?.applyJudgePolicy.version).toBe(2);
    // The Judge re-reads the active version at most once a second: an item judged inside that
    // window may still name v1; one judged a moment later names v2.
    const appliedAt = Date.now();
    let actor: string | undefined;
    for (let n = 0; actor !== "judge:policy-v2"; n++) {
      const id = await ingest(`after-apply-${n}`);
      actor = await eventually(() => judgeActor(id), 60_000);
      if (actor !== "judge:policy-v2") expect(Date.now() - appliedAt).toBeLessThan(5000);
    }
    expect(actor).toBe("judge:policy-v2");
  });
});
