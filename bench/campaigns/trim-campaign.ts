import { randomBytes } from "node:crypto";

import type { Redis } from "ioredis";
import { sql } from "kysely";

import type { Config } from "../../src/config.js";
import type { Db } from "../../src/db/database.js";
import { type App, type AppOverrides, startApp } from "../../src/main.js";
import type { Embedder } from "../../src/nlp/embedder.js";
import { GROUPS, type StreamKeys, STREAMS } from "../../src/streams/stream-names.js";
import { ensureGroup } from "../../src/workers/runtime/consumer-group.js";

export interface TrimOptions {
  /** Config of a private namespace (database, prefix, paths); STREAM_MAX_LEN sets the size. */
  config: Config;
  db: Db;
  redis: Redis;
  keys: StreamKeys;
  /** Items = multiple × STREAM_MAX_LEN (the issue asks for 3). */
  multiple?: number;
  /** Judge entries deleted while the judge is stalled, as a Redis crash in the AOF fsync window would lose them. */
  lostEvents?: number;
  overrides?: AppOverrides;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface TrimReport {
  items: number;
  streamMaxLen: number;
  /** Judge stream length while stalled, after trims ran: every item's job still there. */
  judgeStreamWhileStalled: number;
  /** Entries trimmed from the work streams while the items flowed. */
  trimmed: Record<string, number>;
  lostEvents: number;
  reconcilerRepairs: Record<string, number>;
  byStatus: Record<string, number>;
  /** Items not in a terminal or human status at the end. */
  stranded: number;
  seconds: number;
}

const SETTLED = ["PUBLISHED", "REJECTED", "CANCELLED", "FAILED", "ESCALATED", "PAUSED"];

/** A deterministic 16-d embedder: the campaign is about streams, not about the model. */
export const hashEmbedder: Embedder = {
  model: "hash-16",
  dimension: 16,
  async embed(texts) {
    return texts.map((t) =>
      Array.from(
        { length: 16 },
        (_, i) => ((t.charCodeAt(i % Math.max(1, t.length)) || 1) % 97) / 97 + 0.01,
      ),
    );
  },
  async close() {},
};

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`trim campaign: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function statusCounts(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom("enriched_trends")
    .select(["status", sql<number>`count(*)::int`.as("n")])
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * The trim campaign (issue 12): the judge stalls (its group exists, one consumer took a batch and
 * hangs, nobody else reads) while multiple × STREAM_MAX_LEN items flow through ingest, ETL and
 * embedding, with the maintenance worker trimming every sweep. Then `lostEvents` judge entries
 * vanish (what a Redis crash inside the AOF fsync window does), the judge comes back, and every
 * item must settle: the stalled entries through reclaim, the trimmed history never touching
 * unacknowledged work, the lost ones through the reconciler (its repairs are reported).
 */
export async function runTrimCampaign(o: TrimOptions): Promise<TrimReport> {
  const log = o.log ?? (() => undefined);
  const started = Date.now();
  const items = (o.multiple ?? 3) * o.config.STREAM_MAX_LEN;
  const timeoutMs = o.timeoutMs ?? 600_000;
  const judgeKey = o.keys.key(STREAMS.judgeJobs);

  // The stalled judge: its group exists, a consumer holds a batch and never acknowledges it.
  await ensureGroup(o.redis, judgeKey, GROUPS.judge);
  const stalled = `stalled-judge-${randomBytes(2).toString("hex")}`;
  const upstream: App = await startApp(
    o.config,
    { gateway: false, workers: ["etl", "embedding", "relay", "maintenance"] },
    o.overrides,
  );
  let judge: App | undefined;
  try {
    log(
      `ingesting ${items} items (STREAM_MAX_LEN ${o.config.STREAM_MAX_LEN}) with the judge stalled`,
    );
    for (let i = 0; i < items; i += 50) {
      const batch = Array.from({ length: Math.min(50, items - i) }, (_, j) => ({
        source: "trim-campaign",
        externalId: `t-${i + j}`,
        title: `Item ${i + j}`,
        body: `Regional markets moved on item ${i + j}: traders weighed rates, earnings and the weather.`,
      }));
      await upstream.services.ingest.ingestMany(batch, "trim-campaign");
    }
    await waitFor(
      "every item EMBEDDED",
      async () => ((await statusCounts(o.db)).EMBEDDED === items ? true : undefined),
      timeoutMs,
    );
    // The hung judge handler: it took the first entries and never acknowledges them.
    await o.redis.xreadgroup("GROUP", GROUPS.judge, stalled, "COUNT", 10, "STREAMS", judgeKey, ">");
    // Two sweeps more, so trims run with the whole backlog in place.
    await new Promise((r) => setTimeout(r, 3 * o.config.SWEEP_INTERVAL_MS));
    const trimmed: Record<string, number> = {};
    for (const stream of [STREAMS.ingest, STREAMS.embeddingJobs]) {
      const info = (await o.redis.xinfo("STREAM", o.keys.key(stream))) as unknown[];
      const added = Number(info[info.indexOf("entries-added") + 1]);
      trimmed[stream] = added - Number(await o.redis.xlen(o.keys.key(stream)));
    }
    const judgeStreamWhileStalled = Number(await o.redis.xlen(judgeKey));
    log(
      `judge stream holds ${judgeStreamWhileStalled} entries while stalled; trimmed ${JSON.stringify(trimmed)}`,
    );

    // Lost events: entries the judge never saw vanish from the stream.
    const lostEvents = o.lostEvents ?? 0;
    if (lostEvents > 0) {
      const tail = await o.redis.xrevrange(judgeKey, "+", "-", "COUNT", lostEvents);
      await o.redis.xdel(judgeKey, ...tail.map(([id]) => id));
    }

    judge = await startApp(
      o.config,
      { gateway: false, workers: ["judge", "publisher"] },
      o.overrides,
    );
    log("judge back; waiting for every item to settle");
    await waitFor(
      "every item settled",
      async () => {
        const counts = await statusCounts(o.db);
        const settled = SETTLED.reduce((n, s) => n + (counts[s] ?? 0), 0);
        return settled === items ? true : undefined;
      },
      timeoutMs,
    ).catch((error: unknown) => log(String(error)));
    const byStatus = await statusCounts(o.db);
    const stranded = items - SETTLED.reduce((n, s) => n + (byStatus[s] ?? 0), 0);
    return {
      items,
      streamMaxLen: o.config.STREAM_MAX_LEN,
      judgeStreamWhileStalled,
      trimmed,
      lostEvents,
      reconcilerRepairs: { ...upstream.maintenance.reconciler?.totals },
      byStatus,
      stranded,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await judge?.stop();
    await upstream.stop();
  }
}
