import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { ActiveJudgePolicy } from "../../src/pipeline/judge/active-policy.js";
import { createJudgeBatchHandler } from "../../src/pipeline/judge/judge-batch.js";
import { createJudgeHandler } from "../../src/pipeline/judge/judge-worker.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import {
  embeddedTrend as seedEmbeddedTrend,
  seedJudgePolicy,
  stageJob,
} from "../support/stage-fixtures.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let policy: ActiveJudgePolicy;
beforeAll(async () => {
  env = await createTestEnv();
  policy = seedJudgePolicy(env);
});
afterAll(async () => {
  await env?.close();
});

const CLEAN = { toxicity: 0.05, confidence: 0.9 };
const UNSURE = { toxicity: 0.05, confidence: 0.2 };
const TOXIC = { toxicity: 0.85, confidence: 0.95 };
const OVER_CEILING = { toxicity: 0.999, confidence: 0.95 };

const embeddedTrend = (scores = UNSURE) =>
  seedEmbeddedTrend(env.db, scores, { sentiment_score: 0.1 });

const jobFor = (trendId: string) => stageJob(STREAMS.judgeJobs, "trend.embedded", trendId);

const signal = new AbortController().signal;
const batch = (auditSampleRate = 0) =>
  createJudgeBatchHandler({
    db: env.db,
    policy,
    logger: env.logger,
    auditSampleRate,
    batchDecisions: true,
  });
const perItem = (auditSampleRate = 0) =>
  createJudgeHandler({ db: env.db, policy, logger: env.logger, auditSampleRate });

/** Everything a judge step wrote for a trend, with its own ids replaced by placeholders. */
async function effects(trendId: string) {
  const trend = await env.db
    .selectFrom("enriched_trends")
    .select(["status", "budget_spent", "trace_id"])
    .where("id", "=", trendId)
    .executeTakeFirstOrThrow();
  const charges = await env.db
    .selectFrom("budget_charges")
    .select(["step", "cost", "unit"])
    .where("trend_id", "=", trendId)
    .execute();
  const prov = await env.db
    .selectFrom("provenance_log")
    .selectAll()
    .where("trend_id", "=", trendId)
    .orderBy("id")
    .execute();
  const escalations = await env.db
    .selectFrom("escalations")
    .selectAll()
    .where("trend_id", "=", trendId)
    .execute();
  const incidents = await env.db
    .selectFrom("incidents")
    .selectAll()
    .where("trend_id", "=", trendId)
    .execute();
  const overrides = await env.db
    .selectFrom("publish_overrides")
    .select("id")
    .where("trend_id", "=", trendId)
    .execute();
  const outbox = await env.db.selectFrom("outbox").selectAll().orderBy("id").execute();
  const ids = new Map<string, string>([
    [trendId, "<trend>"],
    [trend.trace_id, "<trace>"],
    ...escalations.map((e) => [e.id, "<escalation>"] as [string, string]),
    ...prov.map((p) => [String(p.id), "<provenance>"] as [string, string]),
    ...overrides.map((o) => [o.id, "<override>"] as [string, string]),
    ...incidents.map((i) => [i.id, "<incident>"] as [string, string]),
  ]);
  const scrub = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(value), (key, v: unknown) =>
      key === "id" || key === "createdAt" || key === "created_at" || key === "traceparent"
        ? "<fresh>"
        : typeof v === "string"
          ? (ids.get(v) ?? v.replaceAll(trendId, "<trend>"))
          : v,
    );
  const mine = outbox.filter((o) => (o.payload as { trendId?: string }).trendId === trendId);
  return {
    trend: { status: trend.status, budget_spent: trend.budget_spent },
    charges,
    provenance: prov.map((p) => scrub({ ...p, id: 0, created_at: 0, parent_id: p.parent_id })),
    escalations: escalations.map((e) =>
      scrub({ ...e, created_at: 0, stream_cursor: e.stream_cursor }),
    ),
    incidents: incidents.map((i) => scrub(i)),
    events: mine.map((o) => ({ stream: o.stream, payload: scrub(o.payload) })),
  };
}

describe("judge batch escalations and rejections", () => {
  it("should write what the per-item handler writes for an escalation, a toxicity escalation and an override", async () => {
    const [a, b, toxicA, toxicB, overA, overB] = [
      await embeddedTrend(),
      await embeddedTrend(),
      await embeddedTrend(TOXIC),
      await embeddedTrend(TOXIC),
      await embeddedTrend(),
      await embeddedTrend(),
    ];
    for (const id of [overA, overB])
      await env.db
        .insertInto("publish_overrides")
        .values({
          id: randomUUID(),
          trend_id: id,
          operator: "ops",
          justification: "urgent",
          incident_id: null,
        })
        .execute();
    expect(await batch()([a, toxicA, overA].map(jobFor), signal)).toEqual([]);
    for (const id of [b, toxicB, overB]) await perItem()(jobFor(id), signal);

    for (const [x, y] of [
      [a, b],
      [toxicA, toxicB],
      [overA, overB],
    ] as const) {
      const [fromBatch, fromItem] = [await effects(x), await effects(y)];
      expect(fromBatch.trend.status).toBe("ESCALATED");
      expect(fromBatch.escalations).toHaveLength(1);
      expect(fromBatch).toEqual(fromItem);
    }
    expect((await effects(overA)).events.map((e) => e.stream)).toContain(STREAMS.publishJobs);
  });

  it("should write what the per-item handler writes for a rejection: incident with its provenance chain, alert", async () => {
    const [a, b] = [await embeddedTrend(OVER_CEILING), await embeddedTrend(OVER_CEILING)];
    // Earlier steps' entries: the incident's chain lists them, in order, before the judge's.
    for (const id of [a, b])
      for (const step of ["etl", "embed"])
        await env.db
          .insertInto("provenance_log")
          .values({
            trace_id: "t",
            trend_id: id,
            step,
            actor: `worker:${step}`,
            input: "{}",
            output: "{}",
          })
          .execute();
    expect(await batch()([jobFor(a)], signal)).toEqual([]);
    await perItem()(jobFor(b), signal);
    const [fromBatch, fromItem] = [await effects(a), await effects(b)];
    expect(fromBatch.trend.status).toBe("REJECTED");
    expect(fromBatch.incidents).toHaveLength(1);
    expect(fromBatch.incidents[0]).toMatchObject({
      provenance: [
        { step: "etl" },
        { step: "embed" },
        { step: "judge", actor: expect.stringMatching(/^judge:policy-v/) },
      ],
    });
    expect(fromBatch.events.map((e) => e.stream)).toEqual([
      STREAMS.trendUpdates,
      STREAMS.operatorAlerts,
    ]);
    expect(fromBatch).toEqual(fromItem);
  });

  it("should write what the per-item handler writes for an audit sample", async () => {
    const [a, b] = [await embeddedTrend(CLEAN), await embeddedTrend(CLEAN)];
    expect(await batch(1)([jobFor(a)], signal)).toEqual([]);
    await perItem(1)(jobFor(b), signal);
    const [fromBatch, fromItem] = [await effects(a), await effects(b)];
    expect(fromBatch.escalations[0]).toMatchObject({ issue_type: "audit_sample" });
    expect(fromBatch).toEqual(fromItem);
  });

  it("should change nothing when the read is delivered again, by batch or by the per-item handler", async () => {
    const ids = [
      await embeddedTrend(),
      await embeddedTrend(TOXIC),
      await embeddedTrend(OVER_CEILING),
    ];
    const jobs = ids.map(jobFor);
    await batch()(jobs, signal);
    const before = await Promise.all(ids.map(effects));
    expect(await batch()(jobs, signal)).toEqual([]);
    for (const job of jobs) await perItem()(job, signal);
    expect(await Promise.all(ids.map(effects))).toEqual(before);
  });

  it("should announce nothing when an unresolved escalation of the kind is open already", async () => {
    const id = await embeddedTrend();
    await env.db
      .insertInto("escalations")
      .values({
        id: randomUUID(),
        trend_id: id,
        issue_type: "low_confidence",
        reason: "earlier",
        rule: "earlier",
        scores: "{}",
      })
      .execute();
    expect(await batch()([jobFor(id)], signal)).toEqual([]);
    const { trend, escalations, events } = await effects(id);
    expect(trend.status).toBe("ESCALATED");
    expect(escalations.map((e) => (e as { reason: string }).reason)).toEqual(["earlier"]);
    expect(events.map((e) => e.stream)).toEqual([STREAMS.trendUpdates]);
  });

  it("should roll the whole read back when a judge step was charged already, then write once on redelivery", async () => {
    const [charged, other] = [await embeddedTrend(), await embeddedTrend()];
    await env.db
      .insertInto("budget_charges")
      .values({ trend_id: charged, step: "judge", cost: 1, unit: "compute_unit" })
      .execute();
    const jobs = [jobFor(charged), jobFor(other)];
    await expect(batch()(jobs, signal)).rejects.toThrow(/charged already/);
    const rolledBack = await effects(other);
    expect(rolledBack.trend.status).toBe("EMBEDDED");
    expect([rolledBack.escalations, rolledBack.events, rolledBack.provenance]).toEqual([
      [],
      [],
      [],
    ]);

    await env.db.deleteFrom("budget_charges").where("trend_id", "=", charged).execute();
    expect(await batch()(jobs, signal)).toEqual([]);
    for (const id of [charged, other]) {
      const { trend, escalations, events } = await effects(id);
      expect(trend.status).toBe("ESCALATED");
      expect(escalations).toHaveLength(1);
      expect(events.map((e) => e.stream)).toEqual([
        STREAMS.trendUpdates,
        STREAMS.escalations,
        STREAMS.webhooks,
      ]);
    }
  });

  it.each([
    ["the override lookup", "publish_overrides"],
    ["the incident insert", "incidents"],
  ])(
    "should leave no half-write when the transaction dies at %s, and write once when the read comes again",
    async (_, table) => {
      const [unsure, rejected] = [await embeddedTrend(), await embeddedTrend(OVER_CEILING)];
      const jobs = [unsure, rejected].map(jobFor);
      // A query after the escalation statement fails, as a dropped connection would.
      const dying = env.db.withPlugin({
        transformQuery: (args) => {
          if (JSON.stringify(args.node).includes(`"${table}"`))
            throw new Error("connection terminated");
          return args.node;
        },
        transformResult: (args) => Promise.resolve(args.result),
      });
      const crashed = createJudgeBatchHandler({
        db: dying,
        policy,
        logger: env.logger,
        batchDecisions: true,
      });
      await expect(crashed(jobs, signal)).rejects.toThrow(/connection terminated/);
      for (const id of [unsure, rejected]) {
        const after = await effects(id);
        expect(after.trend.status).toBe("EMBEDDED");
        expect([
          after.charges,
          after.escalations,
          after.incidents,
          after.events,
          after.provenance,
        ]).toEqual([[], [], [], [], []]);
      }

      expect(await batch()(jobs, signal)).toEqual([]);
      expect(await batch()(jobs, signal)).toEqual([]);
      const once = await effects(unsure);
      expect(once.trend.status).toBe("ESCALATED");
      expect([once.charges.length, once.escalations.length, once.provenance.length]).toEqual([
        1, 1, 1,
      ]);
      expect(once.events.map((e) => e.stream)).toEqual([
        STREAMS.trendUpdates,
        STREAMS.escalations,
        STREAMS.webhooks,
      ]);
      const rejectedOnce = await effects(rejected);
      expect(rejectedOnce.trend.status).toBe("REJECTED");
      expect([
        rejectedOnce.charges.length,
        rejectedOnce.incidents.length,
        rejectedOnce.provenance.length,
      ]).toEqual([1, 1, 1]);
      expect(rejectedOnce.events.map((e) => e.stream)).toEqual([
        STREAMS.trendUpdates,
        STREAMS.operatorAlerts,
      ]);
    },
  );

  it("should hand back an escalation over budget for the per-item handler to pause", async () => {
    const poor = await embeddedTrend();
    await env.db
      .updateTable("enriched_trends")
      .set({ budget_limit: 0 })
      .where("id", "=", poor)
      .execute();
    const job = jobFor(poor);
    expect(await batch()([job], signal)).toEqual([job]);
    expect((await effects(poor)).trend.status).toBe("EMBEDDED");
  });
});
