import { compareStamps, type Stamp } from "./hybrid-clock.js";
import type { DeleteRecord, UpsertRecord } from "./segment-codec.js";
import type { CheckedFilter } from "./vector-input.js";
import type { VectorItem, VectorMatch } from "./vector-store.js";

/** A decoded segment record or a freshly written one; only the vector's values are read. */
export type IndexUpsert = Omit<UpsertRecord, "kind"> & { kind?: "upsert" };

/**
 * The embedded store's in-memory state: every live vector in one dense Float32Array, searched by
 * brute force. At the sizes Trendgate keeps (10^4–10^5 trends) an exact scan is fast enough (see
 * README) and needs no index maintenance; filters are checked on interned integers before the
 * dot product, so a selective filter makes the scan cheaper, never less exact.
 *
 * Records are applied as a last-writer-wins register per id (see hybrid-clock.ts): a record whose
 * stamp is not newer than what the index holds for that id (live or deleted) is ignored.
 */
export class VectorIndex {
  #size = 0;
  #capacity = 0;
  #vectors = new Float32Array(0);
  #inverseNorms = new Float32Array(0);
  #times = new Float64Array(0);
  #writers = new Uint32Array(0);
  #createdAt = new Float64Array(0);
  #sources = new Int32Array(0);
  #statuses = new Int32Array(0);
  #ids: string[] = [];
  readonly #slotById = new Map<string, number>();
  /** Deleted ids and the stamp of the delete, so an older upsert seen later cannot resurrect them. */
  readonly #tombstones = new Map<string, Stamp>();
  readonly #sourceCodes = new Map<string, number>();
  readonly #statusCodes = new Map<string, number>();
  readonly #sourceNames: string[] = [];
  readonly #statusNames: string[] = [];
  #maxTime = 0;

  constructor(readonly dimension: number) {}

  get size(): number {
    return this.#size;
  }

  /** The largest stamp time applied, so this process's clock can issue larger ones. */
  get maxTime(): number {
    return this.#maxTime;
  }

  #current(id: string): Stamp | undefined {
    const slot = this.#slotById.get(id);
    if (slot !== undefined) return { time: this.#times[slot]!, writer: this.#writers[slot]! };
    return this.#tombstones.get(id);
  }

  #isStale(id: string, stamp: Stamp): boolean {
    if (stamp.time > this.#maxTime) this.#maxTime = stamp.time;
    const current = this.#current(id);
    return current !== undefined && compareStamps(stamp, current) <= 0;
  }

  applyUpsert(record: IndexUpsert): void {
    if (this.#isStale(record.id, record.stamp)) return;
    this.#tombstones.delete(record.id);
    let slot = this.#slotById.get(record.id);
    if (slot === undefined) {
      if (this.#size === this.#capacity) this.#grow();
      slot = this.#size++;
      this.#slotById.set(record.id, slot);
      this.#ids[slot] = record.id;
    }
    const dim = this.dimension;
    this.#vectors.set(record.vector, slot * dim);
    let squared = 0;
    for (let i = slot * dim, end = i + dim; i < end; i++)
      squared += this.#vectors[i]! * this.#vectors[i]!;
    this.#inverseNorms[slot] = squared > 0 ? 1 / Math.sqrt(squared) : 0;
    this.#times[slot] = record.stamp.time;
    this.#writers[slot] = record.stamp.writer;
    this.#createdAt[slot] = record.createdAtMs;
    this.#sources[slot] = intern(this.#sourceCodes, this.#sourceNames, record.source);
    this.#statuses[slot] = intern(this.#statusCodes, this.#statusNames, record.status);
  }

  applyDelete(record: DeleteRecord): void {
    if (this.#isStale(record.id, record.stamp)) return;
    this.#tombstones.set(record.id, record.stamp);
    const slot = this.#slotById.get(record.id);
    if (slot === undefined) return;
    this.#slotById.delete(record.id);
    // Keep the arrays dense: move the last slot into the hole.
    const last = --this.#size;
    if (slot !== last) {
      const dim = this.dimension;
      this.#vectors.copyWithin(slot * dim, last * dim, (last + 1) * dim);
      this.#inverseNorms[slot] = this.#inverseNorms[last]!;
      this.#times[slot] = this.#times[last]!;
      this.#writers[slot] = this.#writers[last]!;
      this.#createdAt[slot] = this.#createdAt[last]!;
      this.#sources[slot] = this.#sources[last]!;
      this.#statuses[slot] = this.#statuses[last]!;
      const movedId = this.#ids[last]!;
      this.#ids[slot] = movedId;
      this.#slotById.set(movedId, slot);
    }
    this.#ids.length = last;
  }

  get(id: string): VectorItem | undefined {
    const slot = this.#slotById.get(id);
    if (slot === undefined) return undefined;
    const dim = this.dimension;
    return {
      id,
      vector: Array.from(this.#vectors.subarray(slot * dim, (slot + 1) * dim)),
      metadata: {
        source: this.#sourceNames[this.#sources[slot]!]!,
        status: this.#statusNames[this.#statuses[slot]!]!,
        createdAt: new Date(this.#createdAt[slot]!).toISOString(),
      },
    };
  }

  nearest(query: ArrayLike<number>, k: number, filter: CheckedFilter): VectorMatch[] {
    if (k === 0 || this.#size === 0) return [];
    const sourceCode = filter.source === undefined ? -1 : this.#sourceCodes.get(filter.source);
    if (sourceCode === undefined) return [];
    let allowedStatus: Uint8Array | undefined;
    if (filter.status !== undefined) {
      allowedStatus = new Uint8Array(this.#statusNames.length);
      for (const s of filter.status) {
        const code = this.#statusCodes.get(s);
        if (code !== undefined) allowedStatus[code] = 1;
      }
    }
    const after = filter.createdAfterMs ?? Number.NEGATIVE_INFINITY;
    const before = filter.createdBeforeMs ?? Number.POSITIVE_INFINITY;
    const excluded = new Set<number>();
    for (const id of filter.excludeIds) {
      const slot = this.#slotById.get(id);
      if (slot !== undefined) excluded.add(slot);
    }

    const dim = this.dimension;
    const q = Float32Array.from(query);
    let qSquared = 0;
    for (let i = 0; i < dim; i++) qSquared += q[i]! * q[i]!;
    const qInverse = 1 / Math.sqrt(qSquared);
    const vectors = this.#vectors;
    const unrolled = dim - (dim % 4);
    const top = new TopK(k);

    for (let slot = 0; slot < this.#size; slot++) {
      if (sourceCode >= 0 && this.#sources[slot] !== sourceCode) continue;
      if (allowedStatus !== undefined && allowedStatus[this.#statuses[slot]!] !== 1) continue;
      const created = this.#createdAt[slot]!;
      if (!(created > after && created < before)) continue;
      if (excluded.size > 0 && excluded.has(slot)) continue;
      const base = slot * dim;
      // Four accumulators break the add dependency chain; V8 keeps them in registers.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i < unrolled; i += 4) {
        s0 += vectors[base + i]! * q[i]!;
        s1 += vectors[base + i + 1]! * q[i + 1]!;
        s2 += vectors[base + i + 2]! * q[i + 2]!;
        s3 += vectors[base + i + 3]! * q[i + 3]!;
      }
      for (; i < dim; i++) s0 += vectors[base + i]! * q[i]!;
      top.offer((s0 + s1 + s2 + s3) * this.#inverseNorms[slot]! * qInverse, slot);
    }
    return top.sorted().map(({ score, slot }) => ({
      id: this.#ids[slot]!,
      score: Math.max(-1, Math.min(1, score)),
    }));
  }

  #grow(): void {
    const capacity = Math.max(1024, this.#capacity * 2);
    const dim = this.dimension;
    this.#vectors = resized(this.#vectors, new Float32Array(capacity * dim));
    this.#inverseNorms = resized(this.#inverseNorms, new Float32Array(capacity));
    this.#times = resized(this.#times, new Float64Array(capacity));
    this.#writers = resized(this.#writers, new Uint32Array(capacity));
    this.#createdAt = resized(this.#createdAt, new Float64Array(capacity));
    this.#sources = resized(this.#sources, new Int32Array(capacity));
    this.#statuses = resized(this.#statuses, new Int32Array(capacity));
    this.#capacity = capacity;
  }
}

function resized<T extends Float32Array | Float64Array | Uint32Array | Int32Array>(
  from: T,
  to: T,
): T {
  to.set(from as never);
  return to;
}

function intern(codes: Map<string, number>, names: string[], value: string): number {
  let code = codes.get(value);
  if (code === undefined) {
    code = names.length;
    names.push(value);
    codes.set(value, code);
  }
  return code;
}

/**
 * Keeps the k best scores seen, best first. For the usual small k, insertion into a sorted array
 * beats a heap; for a large k (up to MAX_K) it would be quadratic, so it collects and sorts once.
 */
class TopK {
  static readonly #INSERTION_LIMIT = 64;
  readonly #scores: number[] = [];
  readonly #slots: number[] = [];
  readonly #collect: boolean;

  constructor(private readonly k: number) {
    this.#collect = k > TopK.#INSERTION_LIMIT;
  }

  offer(score: number, slot: number): void {
    const scores = this.#scores;
    const slots = this.#slots;
    if (this.#collect) {
      scores.push(score);
      slots.push(slot);
      return;
    }
    if (scores.length === this.k && score <= scores[this.k - 1]!) return;
    let i = scores.length < this.k ? scores.length : this.k - 1;
    if (scores.length < this.k) {
      scores.push(0);
      slots.push(0);
    }
    while (i > 0 && scores[i - 1]! < score) {
      scores[i] = scores[i - 1]!;
      slots[i] = slots[i - 1]!;
      i--;
    }
    scores[i] = score;
    slots[i] = slot;
  }

  sorted(): { score: number; slot: number }[] {
    const out = this.#scores.map((score, i) => ({ score, slot: this.#slots[i]! }));
    if (this.#collect) out.sort((a, b) => b.score - a.score);
    return out.slice(0, this.k);
  }
}
