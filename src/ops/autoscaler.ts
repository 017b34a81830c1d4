/**
 * How many workers a stage needs, from its backlog and how fast one worker drains it. Pure, so
 * the local supervisor, the metrics and the tests all use the same rule; KEDA applies a
 * comparable rule on Kubernetes (deploy/k8s).
 */
export interface DesiredWorkersInput {
  /** Entries not yet delivered to the group. */
  lag: number;
  /** Entries delivered but not acknowledged (in flight, or waiting for a retry). */
  pending: number;
  /** Entries one worker finishes per second, as observed; null or 0 when not yet measured. */
  ratePerWorker: number | null;
  /** Workers running now. */
  current: number;
  min: number;
  max: number;
  /** The backlog should be gone within this many seconds. */
  targetDrainSeconds: number;
  /** Entries added to the stream per second; new work also needs hands, not only the backlog. */
  arrivalRate?: number;
}

/**
 * `ceil((arrival + backlog / targetDrainSeconds) / ratePerWorker)`, clamped to [min, max].
 * Without a measured rate it cannot size the pool, so it steps up by one while entries wait
 * undelivered (the next evaluation will have a rate), holds while work is only in flight, and
 * falls back to `min` when there is none.
 */
export function desiredWorkers(input: DesiredWorkersInput): number {
  const min = Math.max(0, Math.floor(input.min));
  const max = Math.max(min, Math.floor(input.max));
  const clamp = (n: number) => Math.min(max, Math.max(min, n));
  const backlog = Math.max(0, input.lag) + Math.max(0, input.pending);
  const arrival = Math.max(0, input.arrivalRate ?? 0);
  const rate = input.ratePerWorker;
  if (rate === null || !Number.isFinite(rate) || rate <= 0) {
    if (backlog === 0 && arrival === 0) return clamp(min);
    // Pending alone is work in hand; only entries nobody has picked up say hands are short.
    return clamp(Math.max(1, input.current + (input.lag > 0 ? 1 : 0)));
  }
  const drainSeconds = Math.max(1, input.targetDrainSeconds);
  const needed = Math.ceil((arrival + backlog / drainSeconds) / rate - 1e-9);
  // Work waiting with nobody to do it always needs one worker, however small the backlog.
  return clamp(backlog > 0 || arrival > 0 ? Math.max(1, needed) : needed);
}

/**
 * Scale-down damping: a pool shrinks only after `desired` stayed below `current` for
 * `stableMs`, so a backlog that dips for one evaluation does not stop a worker that will be
 * needed again at once (the "flapping" KEDA's cooldownPeriod guards against). Scale-up is
 * immediate.
 */
export class ScaleDownDamper {
  private belowSince = new Map<string, number>();

  constructor(private readonly stableMs: number) {}

  apply(stage: string, current: number, desired: number, now = Date.now()): number {
    if (desired >= current) {
      this.belowSince.delete(stage);
      return desired;
    }
    const since = this.belowSince.get(stage);
    if (since === undefined) {
      this.belowSince.set(stage, now);
      return current;
    }
    if (now - since < this.stableMs) return current;
    this.belowSince.delete(stage);
    // One step at a time: a wrong estimate costs one worker, not the whole pool.
    return Math.max(desired, current - 1);
  }
}
