/**
 * Embedded vector store figures: upsert rate, nearest-10 latency p50/p99 with and without a
 * filter, and the cold-open time of a second process-like instance, at 10k and 100k random
 * 512-d unit vectors.
 *
 *   npx tsx bench/vector/search-latency.ts [--sizes 10000,100000] [--dimension 512] [--queries 200]
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { EmbeddedVectorStore } from "../../src/vector/embedded-vector-store.js";
import type { VectorFilter, VectorItem } from "../../src/vector/vector-store.js";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "10000,100000" },
    dimension: { type: "string", default: "512" },
    queries: { type: "string", default: "200" },
    batch: { type: "string", default: "1000" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const dimension = Number(values.dimension);
const queries = Number(values.queries);
const batchSize = Number(values.batch);
const SOURCES = ["reddit", "hn", "x", "rss"];
const STATUSES = ["EMBEDDED", "READY", "ESCALATED", "PUBLISHED"];
const START = Date.parse("2025-01-01T00:00:00Z");

function unitVector(): number[] {
  const v = Array.from({ length: dimension }, () => Math.random() * 2 - 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function item(i: number): VectorItem {
  return {
    id: randomUUID(),
    vector: unitVector(),
    metadata: {
      source: SOURCES[i % SOURCES.length]!,
      status: STATUSES[(i >> 2) % STATUSES.length]!,
      createdAt: new Date(START + i * 60_000).toISOString(),
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function latency(store: EmbeddedVectorStore, filter?: VectorFilter): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < queries; i++) {
    const q = unitVector();
    const started = performance.now();
    await store.nearest(q, 10, filter);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return `p50 ${percentile(times, 0.5).toFixed(2)} ms  p99 ${percentile(times, 0.99).toFixed(2)} ms`;
}

const dir = await mkdtemp(join(tmpdir(), "trendgate-vector-bench-"));
const store = new EmbeddedVectorStore({ path: dir });
try {
  await store.ensureCollection(dimension);
  let inserted = 0;
  console.log(
    `embedded store, ${dimension}-d random unit vectors, batches of ${batchSize}, ${queries} queries each`,
  );
  for (const size of sizes) {
    const started = performance.now();
    const before = inserted;
    while (inserted < size) {
      const n = Math.min(batchSize, size - inserted);
      await store.upsert(Array.from({ length: n }, (_, j) => item(inserted + j)));
      inserted += n;
    }
    const seconds = (performance.now() - started) / 1000;
    const halfway = new Date(START + (size / 2) * 60_000).toISOString();
    // source = 1/4 of rows, status in 2 of 4, first half of the time range: ~1/16 of rows pass.
    const filter: VectorFilter = {
      source: "hn",
      status: ["READY", "ESCALATED"],
      createdBefore: halfway,
    };
    console.log(
      `n=${size}: upsert ${Math.round((inserted - before) / seconds)} vectors/s (count=${await store.count()})`,
    );
    console.log(`n=${size}: nearest-10             ${await latency(store)}`);
    console.log(`n=${size}: nearest-10 + filter    ${await latency(store, filter)}`);
    const opened = performance.now();
    const reader = new EmbeddedVectorStore({ path: dir });
    const seen = await reader.count();
    console.log(
      `n=${size}: cold open of a second instance ${(performance.now() - opened).toFixed(0)} ms (count=${seen})`,
    );
    await reader.close();
  }
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
