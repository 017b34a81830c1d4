/**
 * Sums hashed feature occurrences into a sparse vector with sorted indices, by radix-sorting
 * the occurrences rather than accumulating into a dense array of the model's dimension. The
 * dense scratch arrays (2 MB + 256 KB for the toxicity model's 2^18 buckets) were touched at
 * random once per occurrence and pushed the models' own weights out of the CPU caches; the
 * sort touches a few KB.
 */

/** An occurrence's sort key: bucket index, then its sign, then whether it is a char n-gram. */
const SIGN_BIT = 2;
const CHAR_BIT = 1;
/**
 * An occurrence's value by its two flag bits (word 1, char 0.5, negated with the sign bit): a
 * lookup where two data-dependent branches per key were mispredicted about half the time.
 */
const VALUE_OF_FLAGS = Float64Array.from(
  [0, 1, 2, 3],
  (flags) => (flags & SIGN_BIT ? -1 : 1) * (flags & CHAR_BIT ? 0.5 : 1),
);
/** At most this many bits per radix pass: a 2^11-entry count table fits in L1. */
const MAX_RADIX_BITS = 11;

// Reused across calls (one thread runs this at a time), grown when a text needs more.
let keys = new Int32Array(4096);
let spare = new Int32Array(4096);
let uniqueIndices = new Int32Array(4096);
let uniqueSums = new Float64Array(4096);
const counts = new Int32Array(1 << MAX_RADIX_BITS);

export interface FeatureSums {
  /** Distinct bucket indices, ascending. */
  readonly indices: Int32Array;
  /** The summed value of each bucket, in the same order. */
  readonly sums: Float64Array;
  readonly length: number;
}

/**
 * Sums word n-gram hashes (value 1 each) and char n-gram hashes (0.5 each) into buckets
 * `hash & mask`, with the hash's top bit as the sign. The sums are exact in float64 whatever
 * the order (multiples of 0.5), so they equal a dense accumulator's. The result's arrays are
 * reused by the next call: copy what must outlive it.
 */
export function sumFeatures(
  words: readonly Int32Array[],
  chars: readonly Int32Array[],
  mask: number,
): FeatureSums {
  let total = 0;
  for (const list of words) total += list.length;
  for (const list of chars) total += list.length;
  if (keys.length < total) {
    const size = Math.max(total, keys.length * 2);
    keys = new Int32Array(size);
    spare = new Int32Array(size);
    uniqueIndices = new Int32Array(size);
    uniqueSums = new Float64Array(size);
  }
  // The module's buffers read into locals: a module-level `let` is reloaded, and checked for
  // its temporal dead zone, on every access in these loops (sumFeatures took ~60 ns a key).
  const out = keys;
  let k = 0;
  for (const list of words)
    for (let i = 0; i < list.length; i++) {
      const h = list[i] ?? 0;
      out[k++] = ((h & mask) << 2) | (h < 0 ? SIGN_BIT : 0);
    }
  for (const list of chars)
    for (let i = 0; i < list.length; i++) {
      const h = list[i] ?? 0;
      out[k++] = ((h & mask) << 2) | (h < 0 ? SIGN_BIT : 0) | CHAR_BIT;
    }
  const sorted = radixSort(total, 32 - Math.clz32(mask) + 2);
  const indices = uniqueIndices;
  const sums = uniqueSums;

  let unique = -1;
  let previous = -1;
  for (let i = 0; i < total; i++) {
    const key = sorted[i] ?? 0;
    const index = key >>> 2;
    const value = VALUE_OF_FLAGS[key & 3] ?? 0;
    if (index !== previous) {
      unique++;
      indices[unique] = index;
      sums[unique] = value;
      previous = index;
    } else sums[unique] = (sums[unique] ?? 0) + value;
  }
  return { indices, sums, length: unique + 1 };
}

/** LSD radix sort of keys[0, n) (non-negative, below 2^bits); returns the sorted buffer. */
function radixSort(n: number, bits: number): Int32Array {
  let from = keys;
  let to = spare;
  // As few passes as the table allows, with digits as narrow as those passes allow: clearing
  // and summing the count table costs as much as a pass over a thousand keys.
  const table = counts;
  const passes = Math.ceil(bits / MAX_RADIX_BITS);
  const digitBits = Math.ceil(bits / passes);
  const radixMask = (1 << digitBits) - 1;
  for (let shift = 0; shift < bits; shift += digitBits) {
    table.fill(0, 0, radixMask + 1);
    for (let i = 0; i < n; i++) {
      const digit = ((from[i] ?? 0) >>> shift) & radixMask;
      table[digit] = (table[digit] ?? 0) + 1;
    }
    let offset = 0;
    for (let d = 0; d <= radixMask; d++) {
      const c = table[d] ?? 0;
      table[d] = offset;
      offset += c;
    }
    for (let i = 0; i < n; i++) {
      const key = from[i] ?? 0;
      const digit = (key >>> shift) & radixMask;
      const at = table[digit] ?? 0;
      to[at] = key;
      table[digit] = at + 1;
    }
    const swap = from;
    from = to;
    to = swap;
  }
  // Keep the module's buffers pointing at both arrays, whichever holds the result.
  keys = from;
  spare = to;
  return from;
}
