import type { Logger } from "../observability/logger.js";

/** Timers that one call can cut short, so close() does not wait out a backoff. */
export class CancellableSleep {
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve(): void }>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  /** Resolves every pending sleep at once. */
  cancelAll(): void {
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.resolve();
    }
    this.sleepers.clear();
  }

  /**
   * Runs `task` until it succeeds or `wanted()` turns false (then undefined), backing off from
   * 50 ms to 2 s between attempts on these cancellable timers.
   */
  async retrying<T>(
    what: string,
    task: () => Promise<T>,
    wanted: () => boolean,
    logger: Logger,
  ): Promise<T | undefined> {
    let backoffMs = 50;
    while (wanted()) {
      try {
        return await task();
      } catch (error) {
        if (!wanted()) return undefined;
        logger.warn({ err: error, retryInMs: backoffMs }, `could not ${what}; retrying`);
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 2000);
      }
    }
    return undefined;
  }
}
