import { randomUUID } from "node:crypto";

import { seededRandom } from "../../../src/domain/seeded-random.js";
import { PostgresVectorStore } from "../../../src/vector/postgres-vector-store.js";
import { createBenchEnv } from "../../pipeline/bench-env.js";

/**
 * Upserts through the whole Postgres vector store (row written, then the index caught up on the
 * next search) in a scratch database, and a rebuild of the index from Postgres by a new process's
 * store. Random unit vectors: only throughput is measured here, not recall.
 */
export async function measureStoreUpserts(count: number, dimension: number, batch = 500) {
  const env = await createBenchEnv();
  const random = seededRandom(7);
  try {
    const store = new PostgresVectorStore({ db: env.database.db });
    await store.ensureCollection(dimension);
    const vector = () => Array.from({ length: dimension }, () => random() - 0.5);
    let t = performance.now();
    for (let done = 0; done < count; done += batch) {
      const items = Array.from({ length: Math.min(batch, count - done) }, () => ({
        id: randomUUID(),
        vector: vector(),
        metadata: { source: "bench", status: "EMBEDDED", createdAt: new Date().toISOString() },
      }));
      await store.upsert(items);
    }
    const upsertS = (performance.now() - t) / 1000;
    t = performance.now();
    await store.nearest(vector(), 10);
    const catchUpS = (performance.now() - t) / 1000;
    await store.close();
    const fresh = new PostgresVectorStore({ db: env.database.db });
    await fresh.ensureCollection(dimension);
    t = performance.now();
    await fresh.nearest(vector(), 10);
    const rebuildS = (performance.now() - t) / 1000;
    await fresh.close();
    const round = (x: number) => Number(x.toFixed(2));
    return {
      count,
      batch,
      upsertPerS: Math.round(count / upsertS),
      catchUpS: round(catchUpS),
      rebuildS: round(rebuildS),
    };
  } finally {
    await env.close();
  }
}
