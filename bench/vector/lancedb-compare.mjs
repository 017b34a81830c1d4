/**
 * The LanceDB side of the comparison in src/vector/README.md. LanceDB is not a dependency of
 * Trendgate, so this runs from a scratch directory (Node 20 needs 0.37.1, the last release
 * before LanceDB required Node 22):
 *
 *   mkdir /tmp/lancebench && cd /tmp/lancebench && echo '{"type":"module"}' > package.json
 *   npm i @lancedb/lancedb@0.37.1 apache-arrow@18.1.0
 *   cp <repo>/bench/vector/lancedb-compare.mjs . && node lancedb-compare.mjs        # 10k/100k figures
 *   node lancedb-compare.mjs multi                                                  # two writer processes
 *
 * It measures what bench/vector/search-latency.ts measures for the embedded store: mergeInsert
 * (upsert by id) rate in batches of 1000, nearest-10 p50/p99 with and without a filter (flat
 * scan, no ANN index, cosine), and whether two processes upserting at once keep one row per id.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import process from "node:process";
import * as lancedb from "@lancedb/lancedb";
import { Field, FixedSizeList, Float32, Schema, Utf8 } from "apache-arrow";

const DIM = 512;
const SOURCES = ["reddit", "hn", "x", "rss"];
const STATUSES = ["EMBEDDED", "READY", "ESCALATED", "PUBLISHED"];

function unitVector() {
  const v = new Array(DIM);
  let n = 0;
  for (let i = 0; i < DIM; i++) {
    const x = Math.random() * 2 - 1;
    v[i] = x;
    n += x * x;
  }
  n = Math.sqrt(n);
  for (let i = 0; i < DIM; i++) v[i] /= n;
  return v;
}
const START = Date.parse("2025-01-01T00:00:00Z");
// Same rows as bench/vector/search-latency.ts: source i % 4, status (i >> 2) % 4, one per minute.
function row(i, id = randomUUID()) {
  return {
    id,
    vector: unitVector(),
    source: SOURCES[i % 4],
    status: STATUSES[(i >> 2) % 4],
    created_at: new Date(START + i * 60_000).toISOString(),
  };
}
const schema = new Schema([
  new Field("id", new Utf8(), false),
  new Field("vector", new FixedSizeList(DIM, new Field("item", new Float32(), true)), false),
  new Field("source", new Utf8(), false),
  new Field("status", new Utf8(), false),
  new Field("created_at", new Utf8(), false),
]);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

async function upsert(table, rows) {
  await table.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
}

async function searchLatency(table, filter, n = 200) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const q = unitVector();
    const t = performance.now();
    let query = table.vectorSearch(q).distanceType("cosine").limit(10);
    if (filter) query = query.where(filter);
    await query.toArray();
    times.push(performance.now() - t);
  }
  return `p50 ${pct(times, 0.5).toFixed(2)} ms, p99 ${pct(times, 0.99).toFixed(2)} ms`;
}

async function writerChild(dir, tag) {
  const db = await lancedb.connect(dir);
  const table = await db.openTable("vectors");
  let failures = 0;
  for (let b = 0; b < 25; b++) {
    const prefix = process.argv[5] === "same" ? "shared" : tag;
    const rows = Array.from({ length: 20 }, (_, i) => row(i, `${prefix}-${b}-${i}`));
    try {
      await upsert(table, rows);
    } catch (e) {
      failures++;
      console.error(`${tag}: ${e.message.slice(0, 120)}`);
    }
  }
  console.log(JSON.stringify({ tag, failures }));
}

async function twoWriters(mode) {
  const mp = await mkdtemp(join(tmpdir(), "lance-mp-"));
  const db2 = await lancedb.connect(mp);
  await db2.createEmptyTable("vectors", schema);
  const run = (tag) =>
    new Promise((resolve) => {
      const c = spawn(
        process.execPath,
        [new URL(import.meta.url).pathname, "writer", mp, tag, mode],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      let err = "";
      c.stdout.on("data", (d) => (out += d));
      c.stderr.on("data", (d) => (err += d));
      c.on("exit", () =>
        resolve(out.trim() + (err ? ` stderr: ${err.split("\n")[0].slice(0, 160)}` : "")),
      );
    });
  const results = await Promise.all([run("a"), run("b")]);
  const t2 = await db2.openTable("vectors");
  const rows = await t2.query().select(["id"]).limit(100000).toArray();
  const distinct = new Set(rows.map((r) => r.id)).size;
  console.log(
    `lancedb two writers (${mode} ids) x 500 rows: ${results.join(" | ")} rows=${rows.length} distinct=${distinct} (expected ${mode === "same" ? 500 : 1000})`,
  );
  await rm(mp, { recursive: true, force: true });
}

async function main() {
  if (process.argv[2] === "writer") return writerChild(process.argv[3], process.argv[4]);
  if (process.argv[2] === "multi") {
    await twoWriters("distinct");
    await twoWriters("same");
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), "lance-bench-"));
  try {
    const db = await lancedb.connect(dir);
    const table = await db.createEmptyTable("vectors", schema);
    let total = 0;
    for (const target of [10_000, 100_000]) {
      const t = performance.now();
      const batch = 1000;
      const before = total;
      while (total < target) {
        await upsert(
          table,
          Array.from({ length: batch }, (_, i) => row(total + i)),
        );
        total += batch;
      }
      const secs = (performance.now() - t) / 1000;
      console.log(
        `lancedb n=${target}: upsert ${((total - before) / secs).toFixed(0)} vectors/s (mergeInsert batches of ${batch})`,
      );
      console.log(`lancedb n=${target}: nearest-10 ${await searchLatency(table)}`);
      const halfway = new Date(START + (target / 2) * 60_000).toISOString();
      const filter = `source = 'hn' AND status IN ('READY','ESCALATED') AND created_at < '${halfway}'`;
      console.log(`lancedb n=${target}: nearest-10 + filter ${await searchLatency(table, filter)}`);
    }
    await twoWriters("distinct");
    await twoWriters("same");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
await main();
