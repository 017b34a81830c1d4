import { randomUUID } from "node:crypto";

import type { Insertable } from "kysely";

import type { Db } from "../../src/db/database.js";
import type { Database, TrendStatus } from "../../src/db/types.js";
import type { Embedder } from "../../src/nlp/embedder.js";
import { ActiveJudgePolicy } from "../../src/pipeline/judge/active-policy.js";
import { PolicyProvider } from "../../src/pipeline/judge/policy-provider.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import type { Job } from "../../src/workers/runtime/stream-consumer.js";
import type { TestEnv } from "./test-env.js";

let entry = 0;

/** A first delivery of one stage job for `trendId`, as the runtime hands it to a handler. */
export function stageJob(
  stream: string,
  type: string,
  trendId: string,
  options: { payload?: Record<string, unknown>; traceId?: string } = {},
): Job {
  entry += 1;
  return {
    stream,
    entryId: `1-${entry}`,
    envelope: makeEnvelope(type, {
      traceId: options.traceId ?? "0".repeat(32),
      trendId,
      payload: options.payload ?? { trendId },
    }),
    attempt: 1,
    deliveries: 1,
  };
}

/** The Judge policy of the judge stage tests: the seed's thresholds, no stored version. */
export function seedJudgePolicy(env: TestEnv): ActiveJudgePolicy {
  return new ActiveJudgePolicy({
    db: env.db,
    configured: new PolicyProvider(undefined, { minConfidence: 0.6, maxToxicity: 0.8 }, env.logger),
    configSource: "test defaults",
    logger: env.logger,
    refreshMs: 60_000,
  });
}

/** A trend past enrichment, as the later stages read it: `values` override the defaults. */
export async function seedTrend(
  db: Db,
  values: { status: TrendStatus } & Partial<Insertable<Database["enriched_trends"]>>,
): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto("enriched_trends")
    .values({
      id,
      trace_id: randomUUID().replace(/-/g, ""),
      source: "wire",
      body: "Rates on hold as inflation eases.",
      normalized_body: "Rates on hold as inflation eases.",
      embedding_status: "SUCCEEDED",
      budget_limit: 100,
      metadata: "{}",
      ...values,
    })
    .execute();
  return id;
}

/** A trend waiting for the Judge (EMBEDDED) with the given scores. */
export function embeddedTrend(
  db: Db,
  scores: { toxicity: number; confidence: number },
  extra: { sentiment_score?: number } = {},
): Promise<string> {
  return seedTrend(db, {
    status: "EMBEDDED",
    toxicity_score: scores.toxicity,
    confidence: scores.confidence,
    ...extra,
  });
}

/** A trend's status as stored now. */
export async function trendStatus(db: Db, id: string): Promise<TrendStatus> {
  const row = await db
    .selectFrom("enriched_trends")
    .select("status")
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  return row.status;
}

/** `n` published trends whose embedding records say `model` made their vector (re-embedding). */
export async function seedModelRecords(db: Db, n: number, model: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = await seedTrend(db, { status: "PUBLISHED", body: `Item ${i} embedded by ${model}` });
    await db
      .insertInto("embedding_records")
      .values({
        id: randomUUID(),
        trend_id: id,
        vector_id: id,
        store: "postgres",
        model,
        dimension: 4,
      })
      .execute();
    ids.push(id);
  }
  return ids;
}

/**
 * A 4-d embedder that gives every text the same vector: for tests that need the app to embed
 * without measuring similarity (the real model takes seconds to load). `model` names it.
 */
export function flatEmbedder(model: string): Embedder {
  return {
    model,
    dimension: 4,
    embed: async (texts) => texts.map(() => [1, 0, 0, 0]),
    close: async () => undefined,
  };
}
