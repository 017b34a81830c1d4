/**
 * The HNSW index of the Postgres vector store (src/vector/hnsw-index.ts) against exact search,
 * at 100k and 1M vectors (issue 15).
 *
 *   npx tsx bench/vector/ann.ts [--sizes 100000,1000000] [--dims 512] [--queries 200]
 *                               [--ef 64,96,160] [--store 20000]
 *
 * Data: clustered random unit vectors (one seeded PRNG, 1 centre per 500 vectors, Gaussian noise
 * about as wide as the distance between centres, so clusters overlap as topics do), each with one
 * of 16 sources and a creation time. Queries are drawn from the same distribution and are not in
 * the index. Per size and dimension:
 *   - build: vectors/s inserted into the index (hnswlib addPoint, M and efConstruction as the
 *     store's defaults), and the RSS it added
 *   - nearest-10 p50/p99 (ms) and recall@10 against an exact scan (dot products over a dense
 *     Float32Array, what the retired segment store did), per efSearch; the exact scan's own
 *     p50/p99 beside it; the same with a filter that 1/16 of vectors pass
 *   - start-up: writing the persisted snapshot, and reading it back (what a restarted gateway does)
 * --store N also measures upserts through the whole store (Postgres row + index catch-up) for N
 * vectors in a scratch database (0 skips it).
 *
 * Figures taken on a shared 2-core machine are provisional. Last line: JSON.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { seededRandom } from "../../src/domain/seeded-random.js";
import { DEFAULT_HNSW, HnswIndex } from "../../src/vector/hnsw-index.js";
import { readSnapshot, writeSnapshot } from "../../src/vector/index-snapshot.js";
import { checkFilter } from "../../src/vector/vector-input.js";
import { percentile } from "../pipeline/bench-env.js";
import { measureStoreUpserts } from "./support/store-upserts.js";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "100000,1000000" },
    dims: { type: "string", default: "512" },
    queries: { type: "string", default: "200" },
    ef: { type: "string", default: "64,96,160" },
    store: { type: "string", default: "20000" },
  },
});
const SIZES = args.sizes.split(",").map(Number);
const DIMS = args.dims.split(",").map(Number);
const QUERIES = Number(args.queries);
const EFS = args.ef.split(",").map(Number);
const STORE_N = Number(args.store);
const K = 10;
const SOURCES = 16;
const PER_CLUSTER = 500;

interface Dataset {
  dimension: number;
  size: number;
  vectors: Float32Array;
  sources: Uint8Array;
  queries: Float32Array;
}

/** Clustered unit vectors; fast enough for 1M × 512 (one pass, Box–Muller pairs). */
function dataset(size: number, dimension: number, queries: number, seed: number): Dataset {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const clusters = Math.max(1, Math.round(size / PER_CLUSTER));
  const centres = new Float32Array(clusters * dimension);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian();
  const noise = 0.9;
  const fill = (out: Float32Array, count: number) => {
    for (let n = 0; n < count; n++) {
      const c = Math.floor(random() * clusters) * dimension;
      const at = n * dimension;
      let norm = 0;
      for (let i = 0; i < dimension; i++) {
        const x = centres[c + i]! + noise * gaussian();
        out[at + i] = x;
        norm += x * x;
      }
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < dimension; i++) out[at + i]! *= inv;
    }
  };
  const vectors = new Float32Array(size * dimension);
  fill(vectors, size);
  const q = new Float32Array(queries * dimension);
  fill(q, queries);
  const sources = new Uint8Array(size);
  for (let i = 0; i < size; i++) sources[i] = Math.floor(random() * SOURCES);
  return { dimension, size, vectors, sources, queries: q };
}

const idOf = (i: number) => `00000000-0000-4000-8000-${(i + 1).toString(16).padStart(12, "0")}`;

/** Exact top-k by dot product (vectors are unit length): what the retired segment store did. */
function exact(data: Dataset, query: Float32Array, k: number, source?: number): number[] {
  const { dimension, size, vectors, sources } = data;
  const best: { i: number; s: number }[] = [];
  for (let n = 0; n < size; n++) {
    if (source !== undefined && sources[n] !== source) continue;
    let dot = 0;
    const at = n * dimension;
    for (let i = 0; i < dimension; i++) dot += vectors[at + i]! * query[i]!;
    if (best.length < k || dot > best[best.length - 1]!.s) {
      best.push({ i: n, s: dot });
      best.sort((a, b) => b.s - a.s);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.i);
}

const progress = (what: string) =>
  process.stderr.write(`[ann ${new Date().toISOString().slice(11, 19)}] ${what}\n`);
const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

async function runScale(size: number, dimension: number) {
  let t = performance.now();
  const data = dataset(size, dimension, QUERIES, size + dimension);
  const generateS = (performance.now() - t) / 1000;
  progress(`generated ${size} × ${dimension}-d in ${generateS.toFixed(0)} s`);
  const rssBefore = rssMb();
  const index = HnswIndex.create(dimension, DEFAULT_HNSW, size);
  t = performance.now();
  for (let n = 0; n < size; n++) {
    if (n % 100_000 === 0 && n > 0) progress(`indexed ${n}`);
    index.upsert(idOf(n), data.vectors.subarray(n * dimension, (n + 1) * dimension), {
      source: `s${data.sources[n]}`,
      status: "EMBEDDED",
      createdAtMs: n,
    });
  }
  const buildS = (performance.now() - t) / 1000;
  progress(`built ${size} in ${buildS.toFixed(0)} s`);
  const indexMb = rssMb() - rssBefore;

  const query = (q: number) => data.queries.subarray(q * dimension, (q + 1) * dimension);
  const truth = Array.from({ length: QUERIES }, (_, q) => exact(data, query(q), K));
  const exactMs: number[] = [];
  for (let q = 0; q < Math.min(QUERIES, 50); q++) {
    const s = performance.now();
    exact(data, query(q), K);
    exactMs.push(performance.now() - s);
  }
  progress("exact answers computed");
  const filteredSource = 3;
  const filteredTruth = Array.from({ length: QUERIES }, (_, q) =>
    exact(data, query(q), K, filteredSource),
  );

  const rows = [];
  for (const ef of EFS) {
    for (const filtered of [false, true]) {
      const filter = checkFilter(filtered ? { source: `s${filteredSource}` } : undefined);
      const ms: number[] = [];
      let hits = 0;
      for (let q = 0; q < QUERIES; q++) {
        const s = performance.now();
        const found = index.nearest(query(q), K, filter, ef);
        ms.push(performance.now() - s);
        const expected = new Set((filtered ? filteredTruth : truth)[q]!.map(idOf));
        hits += found.filter((m) => expected.has(m.id)).length;
      }
      rows.push({
        ef,
        filtered,
        p50: round(percentile(ms, 50), 3),
        p99: round(percentile(ms, 99), 3),
        recall: round(hits / (QUERIES * K), 4),
      });
    }
  }

  const dir = await mkdtemp(join(tmpdir(), "trendgate-ann-bench-"));
  t = performance.now();
  const snapshotDir = await writeSnapshot(dir, index, {
    storeId: "bench",
    model: "bench",
    xmin: "0",
  });
  const persistS = (performance.now() - t) / 1000;
  const graphMb = (await stat(join(snapshotDir, "graph.bin"))).size / 2 ** 20;
  t = performance.now();
  const loaded = await readSnapshot(dir);
  const startupS = (performance.now() - t) / 1000;
  if (loaded?.index.size !== size) throw new Error("the snapshot did not load whole");
  await rm(dir, { recursive: true, force: true });

  return {
    size,
    dimension,
    generateS: round(generateS, 1),
    buildPerS: Math.round(size / buildS),
    indexRssMb: Math.round(indexMb),
    graphFileMb: Math.round(graphMb),
    persistS: round(persistS),
    startupS: round(startupS),
    exactP50: round(percentile(exactMs, 50), 1),
    exactP99: round(percentile(exactMs, 99), 1),
    search: rows,
  };
}

const results = [];
for (const dimension of DIMS) {
  for (const size of SIZES) {
    const r = await runScale(size, dimension);
    results.push(r);
    console.log(
      `\n${size.toLocaleString("en")} vectors × ${dimension}-d: generated in ${r.generateS} s; index build ${r.buildPerS}/s, +${r.indexRssMb} MB RSS, graph file ${r.graphFileMb} MB; persist ${r.persistS} s, start-up from disk ${r.startupS} s`,
    );
    console.log(`exact scan (retired segment store): p50 ${r.exactP50} ms, p99 ${r.exactP99} ms`);
    console.log("| efSearch | filter (1/16 pass) | nearest-10 p50 ms | p99 ms | recall@10 |");
    console.log("| ---: | --- | ---: | ---: | ---: |");
    for (const s of r.search)
      console.log(
        `| ${s.ef} | ${s.filtered ? "source" : "none"} | ${s.p50} | ${s.p99} | ${s.recall} |`,
      );
  }
}
const store = STORE_N > 0 ? await measureStoreUpserts(STORE_N, DIMS[0]!) : undefined;
if (store)
  console.log(
    `\nwhole store, ${STORE_N} × ${DIMS[0]}-d: upserts ${store.upsertPerS}/s (Postgres rows, batches of ${store.batch}), first search after them (catch-up) ${store.catchUpS} s, rebuild from Postgres ${store.rebuildS} s`,
  );
console.log(
  JSON.stringify({
    bench: "vector/ann",
    parameters: DEFAULT_HNSW,
    k: K,
    queries: QUERIES,
    results,
    store,
  }),
);
