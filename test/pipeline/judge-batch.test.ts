import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { ActiveJudgePolicy } from "../../src/pipeline/judge/active-policy.js";
import { createJudgeBatchHandler } from "../../src/pipeline/judge/judge-batch.js";
import { createJudgeHandler } from "../../src/pipeline/judge/judge-worker.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { eventually } from "../support/app-harness.js";
import {
  embeddedTrend as seedEmbeddedTrend,
  seedJudgePolicy,
  stageJob,
  trendStatus,
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
const TOXIC = { toxicity: 0.99, confidence: 0.95 };

const embeddedTrend = (scores = CLEAN) => seedEmbeddedTrend(env.db, scores);

const jobFor = (trendId: string) => stageJob(STREAMS.judgeJobs, "trend.embedded", trendId);

const batch = () => createJudgeBatchHandler({ db: env.db, policy, logger: env.logger });
const perItem = () => createJudgeHandler({ db: env.db, policy, logger: env.logger });
const signal = new AbortController().signal;

const status = (id: string) => trendStatus(env.db, id);
const count = async () => ({
  log: (await env.db.selectFrom("provenance_log").select("id").execute()).length,
  outbox: (await env.db.selectFrom("outbox").select("id").execute()).length,
  charges: (await env.db.selectFrom("budget_charges").select("trend_id").execute()).length,
  escalations: (await env.db.selectFrom("escalations").select("id").execute()).length,
  incidents: (await env.db.selectFrom("incidents").select("id").execute()).length,
});

describe("judge batch handler", () => {
  it("should move a read's READY items in one commit, with the per-item path's rows and events", async () => {
    const ids = await Promise.all([1, 2, 3].map(() => embeddedTrend()));
    const outboxBefore = new Set(
      (await env.db.selectFrom("outbox").select("id").execute()).map((o) => o.id),
    );
    expect(await batch()(ids.map(jobFor), signal)).toEqual([]);

    const { version } = await policy.current();
    for (const id of ids) {
      expect(await status(id)).toBe("READY");
      const charges = await env.db
        .selectFrom("budget_charges")
        .select("step")
        .where("trend_id", "=", id)
        .execute();
      expect(charges.map((c) => c.step)).toEqual(["judge"]);
      const log = await env.db
        .selectFrom("provenance_log")
        .select(["step", "actor", "output"])
        .where("trend_id", "=", id)
        .execute();
      expect(log).toHaveLength(1);
      expect(log[0]!.actor).toBe(`judge:policy-v${version}`);
      expect(log[0]!.output).toMatchObject({ outcome: "READY", policyVersion: version });
    }
    const events = (
      await env.db.selectFrom("outbox").select(["id", "stream", "payload"]).orderBy("id").execute()
    ).filter((o) => !outboxBefore.has(o.id));
    for (const id of ids) {
      const mine = events.filter((e) => (e.payload as { trendId?: string }).trendId === id);
      expect(mine.map((e) => [e.stream, (e.payload as { type: string }).type])).toEqual([
        [STREAMS.trendUpdates, "trend.updated"],
        [STREAMS.publishJobs, "trend.ready"],
      ]);
    }
  });

  it("should write what the per-item handler writes for a READY item", async () => {
    const [a, b] = [await embeddedTrend(), await embeddedTrend()];
    await batch()([jobFor(a)], signal);
    await perItem()(jobFor(b), signal);
    const row = (id: string) =>
      env.db
        .selectFrom("enriched_trends")
        .select(["status", "budget_spent"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
    expect(await row(a)).toEqual(await row(b));
    const prov = (id: string) =>
      env.db
        .selectFrom("provenance_log")
        .select(["actor", "input", "output"])
        .where("trend_id", "=", id)
        .executeTakeFirstOrThrow();
    expect(await prov(a)).toEqual(await prov(b));
    const publishJob = async (id: string) => {
      const rows = await env.db
        .selectFrom("outbox")
        .select(["stream", "payload"])
        .where("stream", "=", STREAMS.publishJobs)
        .execute();
      const p = rows.find((r) => (r.payload as { trendId?: string }).trendId === id)!.payload as {
        payload: unknown;
      };
      return p.payload;
    };
    expect(await publishJob(a)).toEqual({ ...((await publishJob(b)) as object), trendId: a });
  });

  it("should change nothing when the same read is delivered again", async () => {
    const ids = await Promise.all([1, 2].map(() => embeddedTrend()));
    const jobs = ids.map(jobFor);
    await batch()(jobs, signal);
    const before = await count();
    expect(await batch()(jobs, signal)).toEqual([]);
    expect(await count()).toEqual(before);
  });

  it("should hand back escalations, rejections, unknown, repeated and over-budget items, and commit the rest", async () => {
    const [ok, unsure, toxic, poor, twice] = [
      await embeddedTrend(),
      await embeddedTrend(UNSURE),
      await embeddedTrend(TOXIC),
      await embeddedTrend(),
      await embeddedTrend(),
    ];
    await env.db
      .updateTable("enriched_trends")
      .set({ budget_limit: 0 })
      .where("id", "=", poor)
      .execute();
    const unknown = jobFor("00000000-0000-4000-8000-000000000000");
    const [unsureJob, toxicJob, poorJob, second] = [
      jobFor(unsure),
      jobFor(toxic),
      jobFor(poor),
      jobFor(twice),
    ];
    const alone = await batch()(
      [jobFor(ok), unsureJob, toxicJob, unknown, poorJob, jobFor(twice), second],
      signal,
    );
    expect(new Set(alone)).toEqual(new Set([unsureJob, toxicJob, unknown, poorJob, second]));
    expect(await status(ok)).toBe("READY");
    expect(await status(twice)).toBe("READY");
    for (const id of [unsure, toxic, poor]) expect(await status(id)).toBe("EMBEDDED");

    // The per-item handler decides what was handed back; a redelivery after it opens nothing new.
    for (const job of [unsureJob, toxicJob, poorJob]) await perItem()(job, signal);
    expect(await status(unsure)).toBe("ESCALATED");
    expect(await status(toxic)).not.toBe("READY");
    expect(await status(poor)).toBe("PAUSED");
    const before = await count();
    expect(
      await batch()(
        [unsureJob, toxicJob, poorJob].map((j) => jobFor(j.envelope.trendId!)),
        signal,
      ),
    ).toEqual([]);
    for (const job of [unsureJob, toxicJob, poorJob]) await perItem()(job, signal);
    expect(await count()).toEqual(before);
    const escalations = await env.db
      .selectFrom("escalations")
      .select("id")
      .where("trend_id", "=", unsure)
      .execute();
    expect(escalations).toHaveLength(1);
  });

  it("should run decisions other than READY through the per-item handler inside the read, and hand back one that throws", async () => {
    const [ok, unsure, broken] = [
      await embeddedTrend(),
      await embeddedTrend(UNSURE),
      await embeddedTrend(UNSURE),
    ];
    const handler = perItem();
    const brokenJob = jobFor(broken);
    const withPerItem = createJudgeBatchHandler({
      db: env.db,
      policy,
      logger: env.logger,
      perItem: async (job, s) => {
        if (job === brokenJob) throw new Error("poison");
        await handler(job, s);
      },
    });
    expect(await withPerItem([jobFor(ok), jobFor(unsure), brokenJob], signal)).toEqual([brokenJob]);
    expect([await status(ok), await status(unsure), await status(broken)]).toEqual([
      "READY",
      "ESCALATED",
      "EMBEDDED",
    ]);
  });

  it("should commit a read's READY items while its escalations are still being decided", async () => {
    const [ok, unsure] = [await embeddedTrend(), await embeddedTrend(UNSURE)];
    const handler = perItem();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let escalating!: () => void;
    const started = new Promise<void>((resolve) => (escalating = resolve));
    const read = createJudgeBatchHandler({
      db: env.db,
      policy,
      logger: env.logger,
      perItem: async (job, s) => {
        escalating();
        await released;
        await handler(job, s);
      },
    })([jobFor(ok), jobFor(unsure)], signal);
    await started;
    // The escalation is held; the clean item must not wait for it.
    await eventually(async () => ((await status(ok)) === "READY" ? true : undefined), 10_000, 20);
    expect(await status(unsure)).toBe("EMBEDDED");
    release();
    expect(await read).toEqual([]);
    expect(await status(unsure)).toBe("ESCALATED");
  });

  it("should roll the whole read back when one of its judge steps was charged already", async () => {
    const [charged, other] = [await embeddedTrend(), await embeddedTrend()];
    await env.db
      .insertInto("budget_charges")
      .values({ trend_id: charged, step: "judge", cost: 1, unit: "compute_unit" })
      .execute();
    await expect(batch()([jobFor(charged), jobFor(other)], signal)).rejects.toThrow(
      /charged already/,
    );
    expect([await status(charged), await status(other)]).toEqual(["EMBEDDED", "EMBEDDED"]);
  });
});
