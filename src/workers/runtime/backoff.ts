/** Bounds of the retry delay: the first retry waits up to `baseMs`, each next one up to twice as long, never more than `maxMs`. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(maxMs, baseMs·2^(attempt−1))).
 * Full jitter rather than a fixed ladder, so entries that failed together (a dependency outage)
 * do not all come back in the same millisecond and fail together again.
 *
 * @param attempt the attempt that just failed, 1-based.
 * @param random a source in [0, 1); tests pass a fixed one.
 */
export function computeBackoff(
  attempt: number,
  { baseMs, maxMs }: BackoffOptions,
  random: () => number = Math.random,
): number {
  // Past 2^52 the product is Infinity or imprecise; the cap applies long before that anyway.
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
