import { randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { TrendStatus } from "../../src/db/types.js";
import { createInProcessPublisher } from "../../src/mcp/in-process-publisher.js";
import { type Publisher, PublishError, type PublishRequest } from "../../src/mcp/publish-client.js";
import {
  type BatchFailures,
  createPublishBatchHandler,
  withBatchFailures,
} from "../../src/pipeline/publish/publish-batch.js";
import { createPublisherHandler } from "../../src/pipeline/publish/publisher-worker.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { PermanentError, StreamConsumer } from "../../src/workers/runtime/stream-consumer.js";
import { eventually } from "../support/app-harness.js";
import { seedTrend, stageJob, trendStatus } from "../support/stage-fixtures.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let real: Publisher;
beforeAll(async () => {
  env = await createTestEnv();
  real = createInProcessPublisher({
    jsonlPath: join(await mkdtemp(join(tmpdir(), "publish-batch-")), "published.jsonl"),
  });
});
afterAll(async () => {
  await env?.close();
});

/** The in-process adapter, counting calls; `fail` decides per request whether to throw instead. */
function recording(fail: (req: PublishRequest) => Error | undefined = () => undefined) {
  const calls: string[] = [];
  const publisher: Publisher = {
    adapter: real.adapter,
    async publish(req) {
      calls.push(req.trendId);
      const error = fail(req);
      if (error) throw error;
      return real.publish(req);
    },
    close: async () => {},
  };
  return { calls, publisher };
}

function trend(status: TrendStatus, budgetLimit = 100): Promise<string> {
  return seedTrend(env.db, {
    status,
    title: "Rates on hold",
    summary: "The central bank held rates.",
    toxicity_score: 0.05,
    confidence: 0.9,
    budget_limit: budgetLimit,
  });
}

/** An APPROVED item whose moderator approved with `reasonCode`. */
async function approved(reasonCode: string): Promise<string> {
  const id = await trend("APPROVED");
  await env.db
    .insertInto("escalations")
    .values({
      id: randomUUID(),
      trend_id: id,
      issue_type: "low_confidence",
      reason: "unsure",
      scores: "{}",
      status: "RESOLVED",
      decision: "APPROVE",
      reason_code: reasonCode,
      resolved_at: new Date(),
    })
    .execute();
  return id;
}

const jobFor = (trendId: string) =>
  stageJob(STREAMS.publishJobs, "trend.ready", trendId, {
    payload: { trendId, approvalPath: "judge" },
  });

function handlers(publisher: Publisher) {
  const failures: BatchFailures = new WeakMap();
  const deps = { db: env.db, publisher, logger: env.logger };
  return {
    failures,
    batch: createPublishBatchHandler({ ...deps, concurrency: 4, failures }),
    perItem: withBatchFailures(failures, createPublisherHandler(deps)),
  };
}
const signal = new AbortController().signal;

const status = (id: string) => trendStatus(env.db, id);
const publicationOf = (id: string) =>
  env.db.selectFrom("publications").selectAll().where("trend_id", "=", id).execute();
const count = async () => ({
  log: (await env.db.selectFrom("provenance_log").select("id").execute()).length,
  outbox: (await env.db.selectFrom("outbox").select("id").execute()).length,
  charges: (await env.db.selectFrom("budget_charges").select("trend_id").execute()).length,
  publications: (await env.db.selectFrom("publications").select("id").execute()).length,
});

describe("publish batch handler", () => {
  it("should publish READY and APPROVED items of a read and write what the per-item handler writes", async () => {
    const [a, b] = [await trend("READY"), await trend("READY")];
    const [ma, mb] = [await approved("POLICY_OK"), await approved("POLICY_OK")];
    const { batch, perItem } = handlers(recording().publisher);
    expect(await batch([jobFor(a), jobFor(ma)], signal)).toEqual([]);
    await perItem(jobFor(b), signal);
    await perItem(jobFor(mb), signal);

    for (const [mine, theirs] of [
      [a, b],
      [ma, mb],
    ] as const) {
      expect(await status(mine)).toBe("PUBLISHED");
      const row = async (id: string) => {
        const [p] = await publicationOf(id);
        const t = await env.db
          .selectFrom("enriched_trends")
          .select(["budget_spent"])
          .where("id", "=", id)
          .executeTakeFirstOrThrow();
        return {
          adapter: p!.adapter,
          tool: p!.tool,
          approval: p!.approval_path,
          reason: p!.reason_code,
          keyOk: p!.idempotency_key === `trendgate:publish:${id}`,
          spent: t.budget_spent,
        };
      };
      expect(await row(mine)).toEqual(await row(theirs));
      const prov = async (id: string) => {
        const log = await env.db
          .selectFrom("provenance_log")
          .select(["step", "actor", "input", "output"])
          .where("trend_id", "=", id)
          .execute();
        return log.map((l) => ({
          ...l,
          input: { ...(l.input as object), arguments: undefined },
          output: { ...(l.output as object), externalRef: undefined },
        }));
      };
      expect(await prov(mine)).toEqual(await prov(theirs));
      const events = async (id: string) => {
        const rows = await env.db
          .selectFrom("outbox")
          .select(["stream", "payload"])
          .where("stream", "=", STREAMS.trendUpdates)
          .execute();
        return rows
          .map((r) => r.payload as { trendId?: string; payload: Record<string, unknown> })
          .filter((p) => p.trendId === id)
          .map((p) => ({ ...p.payload, trendId: undefined }));
      };
      expect(await events(mine)).toHaveLength(1);
      expect(await events(mine)).toEqual(await events(theirs));
    }
    expect((await publicationOf(ma))[0]!.reason_code).toBe("POLICY_OK");
  });

  it("should change nothing and call no tool when the same read is delivered again", async () => {
    const ids = await Promise.all([1, 2, 3].map(() => trend("READY")));
    const jobs = ids.map(jobFor);
    await handlers(recording().publisher).batch(jobs, signal);
    const before = await count();
    const again = recording();
    expect(await handlers(again.publisher).batch(jobs, signal)).toEqual([]);
    expect(again.calls).toEqual([]);
    expect(await count()).toEqual(before);
  });

  it("should isolate a poison item: the others publish, its per-item run rethrows the failure once without a second call", async () => {
    const [ok, poison, bad] = [await trend("READY"), await trend("READY"), await trend("READY")];
    const { calls, publisher } = recording((req) => {
      if (req.trendId === poison)
        return new PublishError("PUBLISH_ADAPTER_UNAVAILABLE", "adapter down", true);
      if (req.trendId === bad) return new PublishError("PUBLISH_REJECTED", "bad input", false);
      return undefined;
    });
    const { batch, perItem } = handlers(publisher);
    const [okJob, poisonJob, badJob] = [jobFor(ok), jobFor(poison), jobFor(bad)];
    const alone = await batch([okJob, poisonJob, badJob], signal);
    expect(new Set(alone)).toEqual(new Set([poisonJob, badJob]));
    expect(await status(ok)).toBe("PUBLISHED");
    expect([await status(poison), await status(bad)]).toEqual(["READY", "READY"]);

    // The runtime hands each back to the per-item handler: the batch's failure, not a new call.
    const callsBefore = calls.length;
    const retryable = await perItem(poisonJob, signal).catch((e: unknown) => e);
    expect(retryable).toBeInstanceOf(PublishError);
    expect(retryable).toMatchObject({ code: "PUBLISH_ADAPTER_UNAVAILABLE" });
    const permanent = await perItem(badJob, signal).catch((e: unknown) => e);
    expect(permanent).toBeInstanceOf(PermanentError);
    expect((permanent as Error).message).toMatch(/^PUBLISH_REJECTED/);
    expect(calls.length).toBe(callsBefore);

    // The retry (a new delivery) publishes the item once; its step was charged once.
    await handlers(recording().publisher).perItem(jobFor(poison), signal);
    expect(await status(poison)).toBe("PUBLISHED");
    const charges = await env.db
      .selectFrom("budget_charges")
      .select("step")
      .where("trend_id", "=", poison)
      .execute();
    expect(charges.map((c) => c.step)).toEqual(["publish"]);
  });

  it("should hand back overrides, incidents, other statuses, over-budget, unknown and repeated items, and publish the rest", async () => {
    const [ok, escalated, incident, poor, twice, done] = [
      await trend("READY"),
      await trend("ESCALATED"),
      await trend("READY"),
      await trend("READY", 0),
      await trend("READY"),
      await trend("READY"),
    ];
    await env.db
      .insertInto("incidents")
      .values({
        id: randomUUID(),
        trend_id: incident,
        rule: "toxicity",
        reason: "toxic",
        provenance: "[]",
      })
      .execute();
    const overridden = await trend("READY");
    await env.db
      .insertInto("publish_overrides")
      .values({
        id: randomUUID(),
        trend_id: overridden,
        operator: "op",
        justification: "checked by hand",
      })
      .execute();
    await handlers(recording().publisher).batch([jobFor(done), jobFor(ok)], signal);
    const again = await trend("READY");

    const { calls, publisher } = recording();
    const jobs = {
      escalated: jobFor(escalated),
      incident: jobFor(incident),
      poor: jobFor(poor),
      overridden: jobFor(overridden),
      unknown: jobFor("00000000-0000-4000-8000-000000000000"),
      second: jobFor(twice),
    };
    const alone = await handlers(publisher).batch(
      [jobFor(again), ...Object.values(jobs).slice(0, 5), jobFor(twice), jobs.second, jobFor(done)],
      signal,
    );
    expect(new Set(alone)).toEqual(new Set(Object.values(jobs)));
    expect(calls.sort()).toEqual([again, twice].sort());
    expect([await status(again), await status(twice)]).toEqual(["PUBLISHED", "PUBLISHED"]);
    for (const id of [escalated, incident, poor, overridden]) {
      expect(await publicationOf(id)).toEqual([]);
      const charged = await env.db
        .selectFrom("budget_charges")
        .select("step")
        .where("trend_id", "=", id)
        .execute();
      expect(charged).toEqual([]);
    }
    // The per-item path decides what was handed back: the over-budget item pauses.
    await handlers(recording().publisher).perItem(jobs.poor, signal);
    expect(await status(poor)).toBe("PAUSED");
  });

  it("should publish once when a read is redelivered after the tool call and before the record", async () => {
    const ids = [await trend("READY"), await trend("READY")];
    // The record's transaction never runs: the process "dies" right after the tool answered.
    const dying = recording();
    const crash = new Error("killed after the tool call");
    const crashing = createPublishBatchHandler({
      db: env.db,
      publisher: {
        ...dying.publisher,
        publish: async (req) => {
          await dying.publisher.publish(req);
          throw crash;
        },
      },
      logger: env.logger,
      concurrency: 4,
      failures: new WeakMap(),
    });
    await crashing(ids.map(jobFor), signal);
    for (const id of ids) expect(await status(id)).toBe("READY");

    const live = recording();
    expect(await handlers(live.publisher).batch(ids.map(jobFor), signal)).toEqual([]);
    for (const id of ids) {
      expect(await status(id)).toBe("PUBLISHED");
      const rows = await publicationOf(id);
      expect(rows).toHaveLength(1);
      const publish = await env.db
        .selectFrom("provenance_log")
        .select("output")
        .where("trend_id", "=", id)
        .where("step", "=", "publish")
        .execute();
      expect(publish.map((p) => p.output)).toEqual([
        { externalRef: rows[0]!.external_ref, duplicate: true },
      ]);
      const charges = await env.db
        .selectFrom("budget_charges")
        .select("step")
        .where("trend_id", "=", id)
        .execute();
      expect(charges).toHaveLength(1);
    }
  });

  it("should not record an item whose status changed while the tool published it, and dead-letter it with the reference", async () => {
    const [ok, cancelled] = [await trend("READY"), await trend("READY")];
    const { publisher } = recording();
    const { batch, perItem } = handlers({
      ...publisher,
      publish: async (req) => {
        const result = await publisher.publish(req);
        // An operator cancels the item while the adapter publishes it.
        if (req.trendId === cancelled)
          await env.db
            .updateTable("enriched_trends")
            .set({ status: "CANCELLED" })
            .where("id", "=", cancelled)
            .execute();
        return result;
      },
    });
    const cancelledJob = jobFor(cancelled);
    expect(await batch([jobFor(ok), cancelledJob], signal)).toEqual([cancelledJob]);
    expect(await status(ok)).toBe("PUBLISHED");
    expect(await status(cancelled)).toBe("CANCELLED");
    expect(await publicationOf(cancelled)).toEqual([]);
    const error = await perItem(cancelledJob, signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/no longer publishable \(CANCELLED.*reference jsonl:/);
  });

  it("should publish a read through the stream runtime, and call a failing item's tool once per attempt until it dead-letters", async () => {
    const ids = [await trend("READY"), await trend("READY"), await trend("READY")];
    const down = ids[1]!;
    const { calls, publisher } = recording((req) =>
      req.trendId === down
        ? new PublishError("PUBLISH_ADAPTER_UNAVAILABLE", "adapter down", true)
        : undefined,
    );
    const { batch, perItem } = handlers(publisher);
    const stream = `publish-batch-${ids[0]}`;
    const pipeline = env.redis.pipeline();
    for (const id of ids)
      pipeline.xadd(env.keys.key(stream), "*", "envelope", JSON.stringify(jobFor(id).envelope));
    await pipeline.exec();
    const consumer = new StreamConsumer({
      redis: env.redis,
      keys: env.keys,
      stream,
      group: "publisher",
      consumer: "c1",
      handler: perItem,
      batchHandler: batch,
      batchSize: 10,
      blockMs: 50,
      concurrency: 10,
      maxAttempts: 3,
      backoff: { baseMs: 10, maxMs: 20 },
      claimIdleMs: 60_000,
      logger: env.logger,
    });
    await consumer.start();
    try {
      await eventually(
        async () => {
          const letters = await env.redis.xlen(env.keys.key(`${stream}:dlq`));
          return letters === 1 && (await status(ids[2]!)) === "PUBLISHED" ? true : undefined;
        },
        10_000,
        20,
      );
    } finally {
      await consumer.stop({ timeoutMs: 1000 });
    }
    expect([await status(ids[0]!), await status(down)]).toEqual(["PUBLISHED", "READY"]);
    // The call in the read was attempt 1; the handed-back job rethrew it instead of calling again.
    expect(calls.filter((id) => id === down)).toHaveLength(3);
    expect(calls.filter((id) => id !== down).sort()).toEqual([ids[0], ids[2]].sort());
  });
});
