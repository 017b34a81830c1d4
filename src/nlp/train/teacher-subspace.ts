/**
 * The cached teacher vectors (teacher-cache.ts) and the principal subspace the student is
 * trained to reproduce: the top directions of the vectors' second-moment matrix, found by
 * seeded block power iteration (a rotation inside the subspace leaves every cosine unchanged,
 * so the basis need not be the eigenvectors themselves).
 */
import { existsSync, readFileSync } from "node:fs";

import { type CacheName, teacherCachePaths } from "./corpora.js";

export interface TeacherCache {
  /** Rows read per cache. */
  readonly rows: Partial<Record<CacheName, number>>;
  readonly texts: readonly string[];
  readonly dimension: number;
  readonly vectors: Float32Array;
  vector(index: number): Float32Array;
  has(text: string): boolean;
  /** Index of a text; throws when the cache lacks it (run teacher-cache.ts). */
  indexOf(text: string): number;
}

/**
 * The cached texts and vectors of `names`, in cache order; `limits` reads only the first N rows
 * of a cache (to reproduce a model trained while the cache was still filling).
 */
export function loadTeacherCache(
  names: readonly CacheName[],
  limits: Partial<Record<CacheName, number>> = {},
  dimension = 512,
): TeacherCache {
  const texts: string[] = [];
  const chunks: Float32Array[] = [];
  const index = new Map<string, number>();
  const rows: Partial<Record<CacheName, number>> = {};
  for (const name of names) {
    const paths = teacherCachePaths(name);
    if (!existsSync(paths.texts))
      throw new Error(`no teacher cache for ${name}: run src/nlp/train/teacher-cache.ts`);
    const lines = readFileSync(paths.texts, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .slice(0, limits[name] ?? Number.POSITIVE_INFINITY);
    const raw = readFileSync(paths.vectors);
    // A run stopped between its two appends leaves vectors without texts: trust the texts count.
    const vectors = new Float32Array(raw.buffer, raw.byteOffset, lines.length * dimension).slice();
    rows[name] = lines.length;
    lines.forEach((line, i) => {
      const text = JSON.parse(line) as string;
      if (index.has(text)) return;
      index.set(text, texts.length);
      texts.push(text);
      chunks.push(vectors.subarray(i * dimension, (i + 1) * dimension));
    });
  }
  const all = new Float32Array(texts.length * dimension);
  chunks.forEach((v, i) => all.set(v, i * dimension));
  return {
    rows,
    texts,
    dimension,
    vectors: all,
    vector: (i) => all.subarray(i * dimension, (i + 1) * dimension),
    has: (text) => index.has(text),
    indexOf(text) {
      const i = index.get(text);
      if (i === undefined)
        throw new Error(`teacher cache lacks ${JSON.stringify(text.slice(0, 60))}`);
      return i;
    },
  };
}

/** Orthonormal basis (k columns of length n, column-major) of the top-k subspace. */
export function principalSubspace(
  vectors: Float32Array,
  n: number,
  rows: readonly number[],
  k: number,
  random: () => number,
  iterations = 12,
): Float64Array {
  const moment = new Float64Array(n * n);
  for (const r of rows) {
    const v = vectors.subarray(r * n, (r + 1) * n);
    for (let i = 0; i < n; i++) {
      const vi = v[i]!;
      if (vi === 0) continue;
      const at = i * n;
      for (let j = 0; j < n; j++) moment[at + j]! += vi * v[j]!;
    }
  }
  let basis = new Float64Array(n * k);
  for (let i = 0; i < basis.length; i++) basis[i] = random() - 0.5;
  orthonormalize(basis, n, k);
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(n * k);
    for (let c = 0; c < k; c++) {
      const col = basis.subarray(c * n, (c + 1) * n);
      for (let i = 0; i < n; i++) {
        let sum = 0;
        const at = i * n;
        for (let j = 0; j < n; j++) sum += moment[at + j]! * col[j]!;
        next[c * n + i] = sum;
      }
    }
    orthonormalize(next, n, k);
    basis = next;
  }
  return basis;
}

function orthonormalize(basis: Float64Array, n: number, k: number): void {
  for (let c = 0; c < k; c++) {
    const col = basis.subarray(c * n, (c + 1) * n);
    // Twice (re-orthogonalisation) keeps the columns orthogonal to float precision.
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < c; p++) {
        const prev = basis.subarray(p * n, (p + 1) * n);
        let d = 0;
        for (let i = 0; i < n; i++) d += col[i]! * prev[i]!;
        for (let i = 0; i < n; i++) col[i]! -= d * prev[i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += col[i]! * col[i]!;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) col[i]! /= norm;
  }
}

/** Coordinates of v in the basis, L2-normalised. */
export function project(v: ArrayLike<number>, basis: Float64Array, k: number): Float32Array {
  const n = v.length;
  const out = new Float32Array(k);
  let norm = 0;
  for (let c = 0; c < k; c++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += basis[c * n + i]! * v[i]!;
    out[c] = sum;
    norm += sum * sum;
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (let c = 0; c < k; c++) out[c]! /= norm;
  return out;
}
