/**
 * Hooks a {@link StreamConsumer} calls as it works; `stage` is the consumer group's name (one
 * group per pipeline stage). Implementations must not throw and must return quickly.
 */
export interface ConsumerMetrics {
  /** A handler resolved and its entry was acknowledged, `ms` after it started. */
  processed(stage: string, ms: number): void;
  /** A handler threw (whatever happens next). */
  failed(stage: string): void;
  /** A failed entry was scheduled for another attempt. */
  retried(stage: string): void;
  /** An entry was moved to the dead-letter stream. */
  deadLettered(stage: string): void;
  /** `n` entries pending on other (dead or stuck) consumers were claimed by this one. */
  reclaimed(stage: string, n: number): void;
  /** `n` dead consumers (idle, silent, owning nothing) were removed from the group. */
  consumersRemoved?(stage: string, n: number): void;
}
