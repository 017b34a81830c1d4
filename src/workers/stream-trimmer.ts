import type { Redis } from "ioredis";

import type { Logger } from "../observability/logger.js";
import { PIPELINE_STAGES, STAGE_JOBS } from "../pipeline/stage-jobs.js";
import type { StreamKeys } from "../streams/stream-names.js";
import { PeriodicTask } from "./periodic-task.js";
import { trimAcknowledged } from "./runtime/safe-trim.js";

/**
 * Trims each stage's work stream on a timer, only below what its group acknowledged and
 * keeping `maxLen` entries of history (see trimAcknowledged). A stalled stage makes its stream
 * grow instead of losing work; the lag alert and backpressure say so.
 */
export class StreamTrimmer {
  private readonly task: PeriodicTask;

  constructor(
    private readonly deps: {
      redis: Redis;
      keys: StreamKeys;
      maxLen: number;
      intervalMs: number;
      logger: Logger;
    },
  ) {
    this.task = new PeriodicTask(
      () => this.trim(),
      deps.intervalMs,
      (error) => deps.logger.warn({ err: error }, "stream trim failed"),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass; returns the entries removed per stream. */
  async trim(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const stage of PIPELINE_STAGES) {
      const { stream, group } = STAGE_JOBS[stage];
      const result = await trimAcknowledged(
        this.deps.redis,
        this.deps.keys.key(stream),
        this.deps.maxLen,
        [group],
      );
      removed[stream] = result.removed;
      if (result.mode === "minid")
        this.deps.logger.debug(
          { stream, removed: result.removed },
          "trim held back by unacknowledged entries",
        );
    }
    return removed;
  }
}
