import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { makeEnvelope } from "../../src/streams/envelope.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";

/** Operator APIs: dead letters (list, dry run, replay), pipeline health, queue cursors. */
let h: AppHarness;
beforeAll(async () => {
  // No embedding worker: a replayed embedding job stays in its stream for the test to see.
  h = await startHarness({ workers: ["etl", "relay"] });
}, 60_000);
afterAll(async () => h?.close());

async function enrichedTrend(): Promise<{ id: string; traceId: string }> {
  const r = await h.app.services.ingest.ingest(
    { source: "ops", body: "The city council approved the new tram line after a long debate." },
    "test",
  );
  await eventually(async () => {
    const row = await h.env.db
      .selectFrom("enriched_trends")
      .select("status")
      .where("id", "=", r.id)
      .executeTakeFirst();
    return row?.status === "ENRICHED" ? true : undefined;
  });
  return r;
}

async function deadLetter(trend: { id: string; traceId: string }): Promise<string> {
  const envelope = makeEnvelope("trend.enriched", {
    traceId: trend.traceId,
    trendId: trend.id,
    payload: { trendId: trend.id },
  });
  const now = new Date().toISOString();
  return (await h.env.redis.xadd(
    h.env.keys.key(STREAMS.embeddingDlq),
    "*",
    ...[
      "envelope",
      JSON.stringify(envelope),
      "attempts",
      "5",
      "error",
      "vector store unreachable",
      "error_code",
      "VECTOR_STORE_UNAVAILABLE",
    ],
    ...[
      "source_stream",
      STREAMS.embeddingJobs,
      "source_id",
      "1-0",
      "group",
      "embedding",
      "first_failed_at",
      now,
      "last_failed_at",
      now,
    ],
  )) as string;
}

const REPLAY = `mutation($ids: [String!], $dryRun: Boolean) { replayDeadLetters(stream: "trend:embedding:dlq", ids: $ids, dryRun: $dryRun) { dryRun replayed ids skipped outcomes { id trendId outcome message changes } } }`;

describe("operator APIs", { timeout: 60_000 }, () => {
  it("should list a dead letter, dry-run it without writing, then replay it once with provenance", async () => {
    const trend = await enrichedTrend();
    const id = await deadLetter(trend);
    const list = await h.gql<{
      deadLetters: {
        totalCount: number;
        items: { id: string; trendId: string; attempts: number; errorCode: string }[];
      };
    }>(
      `{ deadLetters(stream: "trend:embedding:dlq") { totalCount items { id trendId attempts errorCode error } } }`,
    );
    expect(list.data!.deadLetters.items).toEqual([
      expect.objectContaining({
        id,
        trendId: trend.id,
        attempts: 5,
        errorCode: "VECTOR_STORE_UNAVAILABLE",
      }),
    ]);

    const dry = await h.gql<{
      replayDeadLetters: {
        dryRun: boolean;
        replayed: number;
        outcomes: { outcome: string; changes: { field: string }[] }[];
      };
    }>(REPLAY, { ids: [id], dryRun: true });
    expect(dry.errors).toBeUndefined();
    expect(dry.data!.replayDeadLetters.dryRun).toBe(true);
    expect(dry.data!.replayDeadLetters.replayed).toBe(0);
    expect(dry.data!.replayDeadLetters.outcomes[0]!.outcome).toBe("would_succeed");
    expect(dry.data!.replayDeadLetters.outcomes[0]!.changes.map((c) => c.field)).toContain(
      "embeddingStatus",
    );
    expect(await h.env.redis.xlen(h.env.keys.key(STREAMS.embeddingDlq))).toBe(1);

    const viewer = await h.gql(REPLAY, { ids: [id] }, h.keys.moderator);
    expect(viewer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    const real = await h.gql<{ replayDeadLetters: { replayed: number; ids: string[] } }>(REPLAY, {
      ids: [id],
    });
    expect(real.data!.replayDeadLetters).toMatchObject({ replayed: 1, ids: [id] });
    expect(await h.env.redis.xlen(h.env.keys.key(STREAMS.embeddingDlq))).toBe(0);
    const jobs = await h.env.redis.xrange(h.env.keys.key(STREAMS.embeddingJobs), "-", "+");
    expect(jobs.filter(([, f]) => f[1]!.includes(trend.id))).toHaveLength(2); // the original and the replay
    const again = await h.gql<{ replayDeadLetters: { replayed: number; skipped: string[] } }>(
      REPLAY,
      { ids: [id] },
    );
    expect(again.data!.replayDeadLetters).toMatchObject({ replayed: 0, skipped: [id] });
    const steps = await h.env.db
      .selectFrom("provenance_log")
      .select("step")
      .where("trend_id", "=", trend.id)
      .orderBy("id")
      .execute();
    expect(steps.map((s) => s.step)).toEqual(["ingest", "plan", "etl", "replay"]);
  });

  it("should refuse a stream that has no dead letters with BAD_USER_INPUT", async () => {
    const r = await h.gql(`{ deadLetters(stream: "nope") { totalCount } }`);
    expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("should report streams, groups and consumers in pipelineHealth", async () => {
    const r = await h.gql<{
      pipelineHealth: {
        streams: {
          stream: string;
          groups: { name: string; consumers: { name: string; idleMs: number }[] }[];
        }[];
      };
    }>(
      `{ pipelineHealth { outboxBacklog streams { stream length groups { name lag pending oldestPendingAgeMs consumers { name pending idleMs } } } } }`,
      {},
      h.keys.viewer,
    );
    const ingest = r.data!.pipelineHealth.streams.find((s) => s.stream === STREAMS.ingest)!;
    const etl = ingest.groups.find((g) => g.name === "etl")!;
    expect(etl.consumers.length).toBeGreaterThanOrEqual(1);
  });

  it("should give the escalation queue the stream positions to subscribe after", async () => {
    const before = await h.gql<{ escalations: { streamCursor: string; resolutionCursor: string } }>(
      `{ escalations { streamCursor resolutionCursor totalCount } }`,
      {},
      h.keys.moderator,
    );
    expect(before.data!.escalations.streamCursor).toBe("0");
    const id = await h.env.redis.xadd(
      h.env.keys.key(STREAMS.escalations),
      "*",
      "envelope",
      "{}",
      "attempt",
      "1",
    );
    const after = await h.gql<{ escalations: { streamCursor: string } }>(
      `{ escalations { streamCursor } }`,
      {},
      h.keys.moderator,
    );
    expect(after.data!.escalations.streamCursor).toBe(id);
  });
});
