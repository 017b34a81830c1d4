import hnswlib from "hnswlib-node";

import type { CheckedFilter } from "./vector-input.js";
import type { VectorMatch } from "./vector-store.js";

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

/** What a vector is filtered by, interned: the index keeps no strings per vector but its id. */
export interface IndexedMetadata {
  source: string;
  status: string;
  createdAtMs: number;
}

export interface HnswParameters {
  /** Graph degree (hnswlib M). 16 is hnswlib's recommended default for 512-d text vectors. */
  m: number;
  /** Candidate list while building; larger builds slower and finds better neighbours. */
  efConstruction: number;
  /** Candidate list while searching (never below k); recall@10 against exact search rises with it. */
  efSearch: number;
  seed: number;
}

export const DEFAULT_HNSW: HnswParameters = { m: 16, efConstruction: 100, efSearch: 96, seed: 100 };

/**
 * A filtered query may find fewer than k matches in one pass (the graph walk ran out of
 * candidates that pass before it found k). It is retried with a wider candidate list, and when
 * the filter leaves at most this many vectors they are ranked exactly instead.
 */
const EXACT_FALLBACK_LIMIT = 4096;
const MAX_EF = 4096;
/** Labels sampled to estimate what fraction of the index a filter passes. */
const OVERFETCH_SAMPLE = 2048;
/** Below this fraction the over-fetch would be too large; the filtered graph walk is used. */
const MIN_OVERFETCH_FRACTION = 1 / 64;

/** The labels' side tables, as the snapshot stores them. */
export interface LabelTables {
  ids: (string | undefined)[];
  source: number[];
  status: number[];
  createdAtMs: number[];
  sources: string[];
  statuses: string[];
}

/**
 * An in-memory HNSW graph (hnswlib-node, cosine space) over trend vectors, with the metadata the
 * filters need. hnswlib labels are integers: one label per trend id, reused when the id is
 * written again, so an update never leaves two points for one trend. Filters run inside the
 * graph walk (hnswlib's filter callback), so a filtered query still returns k results when k
 * vectors pass, instead of taking the k nearest and filtering afterwards.
 */
export class HnswIndex {
  private readonly labelOf = new Map<string, number>();
  private readonly tables: LabelTables;
  private readonly sourceCode = new Map<string, number>();
  private readonly statusCode = new Map<string, number>();
  private live = 0;

  private constructor(
    readonly dimension: number,
    private readonly graph: Hnsw,
    readonly parameters: HnswParameters,
    tables: LabelTables,
  ) {
    this.tables = tables;
    tables.sources.forEach((s, i) => this.sourceCode.set(s, i));
    tables.statuses.forEach((s, i) => this.statusCode.set(s, i));
    tables.ids.forEach((id, label) => {
      if (id === undefined) return;
      this.labelOf.set(id, label);
      this.live++;
    });
  }

  static create(
    dimension: number,
    parameters: HnswParameters = DEFAULT_HNSW,
    capacity = 1024,
  ): HnswIndex {
    const graph = new HierarchicalNSW("cosine", dimension);
    graph.initIndex({
      maxElements: capacity,
      m: parameters.m,
      efConstruction: parameters.efConstruction,
      randomSeed: parameters.seed,
    });
    graph.setEf(parameters.efSearch);
    const tables: LabelTables = {
      ids: [],
      source: [],
      status: [],
      createdAtMs: [],
      sources: [],
      statuses: [],
    };
    return new HnswIndex(dimension, graph, parameters, tables);
  }

  /** Reads a graph written by `writeGraph`, with the label tables stored beside it. */
  static async read(
    file: string,
    dimension: number,
    parameters: HnswParameters,
    tables: LabelTables,
  ): Promise<HnswIndex> {
    const graph = new HierarchicalNSW("cosine", dimension);
    await graph.readIndex(file);
    graph.setEf(parameters.efSearch);
    return new HnswIndex(dimension, graph, parameters, tables);
  }

  async writeGraph(file: string): Promise<void> {
    await this.graph.writeIndex(file);
  }

  get labelTables(): Readonly<LabelTables> {
    return this.tables;
  }

  get size(): number {
    return this.live;
  }

  has(id: string): boolean {
    return this.labelOf.has(id);
  }

  /** Adds or replaces the vector of `id` (hnswlib normalises it: cosine space). */
  upsert(id: string, vector: ArrayLike<number>, metadata: IndexedMetadata): void {
    let label = this.labelOf.get(id);
    if (label === undefined) {
      label = this.tables.ids.length;
      if (label >= this.graph.getMaxElements()) this.graph.resizeIndex(Math.max(1024, label * 2));
      this.tables.ids.push(id);
      this.tables.source.push(0);
      this.tables.status.push(0);
      this.tables.createdAtMs.push(0);
      this.labelOf.set(id, label);
      this.live++;
    }
    // hnswlib takes a plain array; a label written before (even one marked deleted) is updated in place.
    this.graph.addPoint(Array.from(vector), label);
    this.tables.source[label] = intern(metadata.source, this.sourceCode, this.tables.sources);
    this.tables.status[label] = intern(metadata.status, this.statusCode, this.tables.statuses);
    this.tables.createdAtMs[label] = metadata.createdAtMs;
  }

  delete(id: string): void {
    const label = this.labelOf.get(id);
    if (label === undefined) return;
    this.graph.markDelete(label);
    this.labelOf.delete(id);
    this.tables.ids[label] = undefined;
    this.live--;
  }

  /**
   * Up to k nearest ids passing the filter, closest first; score = cosine similarity.
   * `efSearch` overrides the index's own for this query (benchmarks compare several).
   */
  nearest(
    vector: ArrayLike<number>,
    k: number,
    filter: CheckedFilter,
    efSearch = this.parameters.efSearch,
  ): VectorMatch[] {
    if (k === 0 || this.live === 0) return [];
    const passes = this.filterFor(filter);
    const query = Array.from(vector);
    if (passes) {
      const overFetched = this.overFetch(query, k, passes, efSearch);
      if (overFetched) return overFetched;
    }
    let matches = this.search(query, k, passes, efSearch);
    if (matches.length >= k || !passes) return matches;
    const passing = this.countPassing(passes, EXACT_FALLBACK_LIMIT + 1);
    if (matches.length >= passing) return matches;
    if (passing <= EXACT_FALLBACK_LIMIT) return this.exact(query, k, passes);
    for (let ef = efSearch * 8; matches.length < k && ef <= MAX_EF; ef *= 8) {
      matches = this.search(query, k, passes, ef);
    }
    return matches;
  }

  /**
   * A filter most vectors pass is cheaper as a plain search for more neighbours, filtered after:
   * hnswlib's filtered walk must visit about 1/fraction as many nodes to collect ef passing ones,
   * and calls back into JavaScript for each. The fraction is estimated from a sample of labels.
   * Returns undefined when the filter is too narrow for this, or too few of the fetched pass.
   */
  private overFetch(
    query: number[],
    k: number,
    passes: (label: number) => boolean,
    efSearch: number,
  ): VectorMatch[] | undefined {
    const labels = this.tables.ids.length;
    const step = Math.max(1, Math.floor(labels / OVERFETCH_SAMPLE));
    let sampled = 0;
    let passed = 0;
    for (let label = 0; label < labels; label += step) {
      if (this.tables.ids[label] === undefined) continue;
      sampled++;
      if (passes(label)) passed++;
    }
    if (sampled === 0 || passed / sampled < MIN_OVERFETCH_FRACTION) return undefined;
    const fetch = Math.min(this.live, Math.ceil((2 * k * sampled) / passed) + 10);
    const found = this.search(query, fetch, undefined, Math.max(efSearch, fetch));
    const kept: VectorMatch[] = [];
    for (const match of found) {
      if (passes(this.labelOf.get(match.id)!)) kept.push(match);
      if (kept.length === k) return kept;
    }
    // Every vector was fetched: what passed is all there is.
    return fetch >= this.live ? kept : undefined;
  }

  private search(
    query: number[],
    k: number,
    passes: ((label: number) => boolean) | undefined,
    ef: number,
  ): VectorMatch[] {
    this.graph.setEf(Math.max(ef, k));
    try {
      const { neighbors, distances } = this.graph.searchKnn(query, Math.min(k, this.live), passes);
      return neighbors.map((label, i) => ({
        id: this.tables.ids[label]!,
        score: 1 - distances[i]!,
      }));
    } finally {
      this.graph.setEf(this.parameters.efSearch);
    }
  }

  /** Ranks every passing vector exactly: for filters so narrow the graph walk misses them. */
  private exact(query: number[], k: number, passes: (label: number) => boolean): VectorMatch[] {
    const norm = Math.hypot(...query);
    const scored: VectorMatch[] = [];
    for (let label = 0; label < this.tables.ids.length; label++) {
      const id = this.tables.ids[label];
      if (id === undefined || !passes(label)) continue;
      const point = this.graph.getPoint(label);
      let dot = 0;
      for (let i = 0; i < point.length; i++) dot += point[i]! * query[i]!;
      // Stored points are unit length (cosine space), so only the query needs dividing.
      scored.push({ id, score: dot / norm });
    }
    return scored.sort((a, b) => b.score - a.score).slice(0, k);
  }

  private countPassing(passes: (label: number) => boolean, stopAt: number): number {
    let n = 0;
    for (let label = 0; label < this.tables.ids.length && n < stopAt; label++) {
      if (this.tables.ids[label] !== undefined && passes(label)) n++;
    }
    return n;
  }

  /** The filter as a label predicate, or undefined when nothing is filtered (hnswlib's fast path). */
  private filterFor(filter: CheckedFilter): ((label: number) => boolean) | undefined {
    const { source, status, createdAfterMs, createdBeforeMs, excludeIds } = filter;
    if (
      source === undefined &&
      status === undefined &&
      createdAfterMs === undefined &&
      createdBeforeMs === undefined &&
      excludeIds.length === 0
    ) {
      return undefined;
    }
    // A value this index has never seen matches nothing: -2 is no code.
    const sourceWanted = source === undefined ? -1 : (this.sourceCode.get(source) ?? -2);
    const statusWanted =
      status === undefined ? undefined : new Set(status.map((s) => this.statusCode.get(s) ?? -2));
    const excluded = new Set(
      excludeIds.map((id) => this.labelOf.get(id)).filter((l) => l !== undefined),
    );
    const t = this.tables;
    return (label) =>
      (sourceWanted === -1 || t.source[label] === sourceWanted) &&
      (statusWanted === undefined || statusWanted.has(t.status[label]!)) &&
      (createdAfterMs === undefined || t.createdAtMs[label]! > createdAfterMs) &&
      (createdBeforeMs === undefined || t.createdAtMs[label]! < createdBeforeMs) &&
      !excluded.has(label);
  }
}

function intern(value: string, codes: Map<string, number>, values: string[]): number {
  let code = codes.get(value);
  if (code === undefined) {
    code = values.length;
    values.push(value);
    codes.set(value, code);
  }
  return code;
}
