/**
 * Escalation.precedents (issue 14, item 9): latency of finding the 5 nearest human-decided items
 * as the share of decided items shrinks, through PrecedentService (vector search in the Postgres
 * store's HNSW index, then the human-decision check in Postgres, asking the index again for more
 * until 5 pass).
 *
 *   npx tsx bench/review/precedents.ts [--items 10000] [--dims 64] [--queries 200] [--decided 0.5,0.1,0.01]
 *
 * Data: clustered random unit vectors (one seeded PRNG, 1 centre per 200 items), one tenant; a
 * share `decided` of them has a resolved escalation decided by a reviewer's key. Queries are
 * undecided items. Per share: p50/p99 of forTrend(item, 5) and how many precedents came back.
 * Figures taken on a shared 2-core machine are provisional. Last line: JSON.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

import { sql } from "kysely";

import { seededRandom } from "../../src/domain/seeded-random.js";
import type { Embedder } from "../../src/nlp/embedder.js";
import { SearchService } from "../../src/pipeline/embed/search-service.js";
import { PrecedentService } from "../../src/pipeline/review/precedents.js";
import { PostgresVectorStore } from "../../src/vector/postgres-vector-store.js";
import { createBenchEnv, percentile } from "../pipeline/bench-env.js";

const { values: args } = parseArgs({
  options: {
    items: { type: "string", default: "10000" },
    dims: { type: "string", default: "64" },
    queries: { type: "string", default: "200" },
    decided: { type: "string", default: "0.5,0.1,0.01" },
  },
});
const ITEMS = Number(args.items);
const DIM = Number(args.dims);
const QUERIES = Number(args.queries);
const SHARES = args.decided.split(",").map(Number);
const PER_CLUSTER = 200;

const random = seededRandom(14);
const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const centres = Array.from({ length: Math.ceil(ITEMS / PER_CLUSTER) }, () =>
  unit(Array.from({ length: DIM }, gaussian)),
);
const vectors = Array.from({ length: ITEMS }, (_, i) =>
  unit(centres[i % centres.length]!.map((c) => c + 0.08 * gaussian())),
);

const env = await createBenchEnv();
const db = env.database.db;
const store = new PostgresVectorStore({ db });
const unused: Embedder = {
  model: "bench",
  dimension: DIM,
  embed: () => Promise.reject(new Error("not used")),
  close: async () => undefined,
};
const precedents = new PrecedentService({
  db,
  search: new SearchService({ db, store, embedder: async () => unused }),
});
const rows: { share: number; p50: number; p99: number; meanFound: number }[] = [];
try {
  await store.ensureCollection(DIM);
  const ids = vectors.map(() => randomUUID());
  const loadStart = performance.now();
  for (let at = 0; at < ITEMS; at += 1000) {
    const slice = ids.slice(at, at + 1000);
    await db
      .insertInto("enriched_trends")
      .values(
        slice.map((id) => ({
          id,
          trace_id: randomUUID(),
          source: "wire",
          body: "bench",
          metadata: "{}",
          status: "ESCALATED" as const,
        })),
      )
      .execute();
    await store.upsert(
      slice.map((id, j) => ({
        id,
        vector: vectors[at + j]!,
        metadata: { source: "wire", status: "EMBEDDED", createdAt: new Date().toISOString() },
      })),
    );
  }
  await store.nearest(vectors[0]!, 1); // the index catches up with every row once, before timing
  const loadSeconds = (performance.now() - loadStart) / 1000;

  // Shares from the largest down: each step un-decides items (deletes their escalations).
  const order = ids
    .map((id) => ({ id, r: random() }))
    .sort((a, b) => a.r - b.r)
    .map((x) => x.id);
  let decidedCount = 0;
  for (const share of [...SHARES].sort((a, b) => b - a)) {
    const want = Math.round(ITEMS * share);
    if (decidedCount === 0) {
      for (let at = 0; at < want; at += 1000) {
        await db
          .insertInto("escalations")
          .values(
            order.slice(at, Math.min(want, at + 1000)).map((trendId) => ({
              id: randomUUID(),
              trend_id: trendId,
              issue_type: "toxicity" as const,
              reason: "bench",
              scores: "{}",
              status: "RESOLVED" as const,
              decision: "REJECT" as const,
              resolved_by: "bench",
              resolved_by_key: "key-bench",
              resolved_at: new Date(),
            })),
          )
          .execute();
      }
    } else {
      await sql`DELETE FROM escalations WHERE trend_id = ANY(${order.slice(want, decidedCount)}::uuid[])`.execute(
        db,
      );
    }
    decidedCount = want;
    const undecided = order.slice(want);
    const times: number[] = [];
    let found = 0;
    for (let q = 0; q < QUERIES; q++) {
      const trendId = undecided[Math.floor(random() * undecided.length)]!;
      const trend = await db
        .selectFrom("enriched_trends")
        .selectAll()
        .where("id", "=", trendId)
        .executeTakeFirstOrThrow();
      const start = performance.now();
      found += (await precedents.forTrend(trend, 5)).length;
      times.push(performance.now() - start);
    }
    rows.push({
      share,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      meanFound: found / QUERIES,
    });
  }

  console.log(
    `precedents(first: 5) over ${ITEMS} items, ${DIM}-d, ${QUERIES} queries per share (load ${loadSeconds.toFixed(1)} s; provisional: shared machine)`,
  );
  console.log("| decided share | p50 ms | p99 ms | precedents found (mean) |");
  console.log("| ---: | ---: | ---: | ---: |");
  for (const r of rows)
    console.log(
      `| ${r.share} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.meanFound.toFixed(2)} |`,
    );
  console.log(
    JSON.stringify({
      bench: "precedents",
      items: ITEMS,
      dims: DIM,
      queries: QUERIES,
      first: 5,
      results: rows,
    }),
  );
} finally {
  await store.close();
  await env.close();
}
