import type { Logger } from "../observability/logger.js";

/**
 * How long after the first signal a repeat counts as the same Ctrl-C. `npm start` and `npx`
 * forward SIGINT/SIGTERM to their child (@npmcli/run-script's signal-manager), while the
 * terminal has already sent SIGINT to the whole foreground process group: one Ctrl-C reaches
 * Trendgate twice, ~2 ms apart (issue 12: "second signal: exiting now" 4 ms after "shutting
 * down"). A person pressing Ctrl-C again to force the exit takes far longer than this.
 */
export const DUPLICATE_SIGNAL_WINDOW_MS = 1000;

export interface ShutdownSignalOptions {
  /** Graceful: finish in-flight work, close connections. */
  drain: () => Promise<void>;
  exit: (code: number) => void;
  logger: Logger;
  now?: () => number;
  duplicateWindowMs?: number;
}

/**
 * One SIGINT (or SIGTERM) drains and exits 0 (1 when draining fails). A repeat within
 * {@link DUPLICATE_SIGNAL_WINDOW_MS} is the same keypress delivered twice and is ignored; a
 * later one forces the exit (130), leaving unacknowledged jobs to be redelivered.
 */
export class ShutdownSignals {
  private firstAt: number | undefined;
  private readonly now: () => number;
  private readonly windowMs: number;

  constructor(private readonly o: ShutdownSignalOptions) {
    this.now = o.now ?? Date.now;
    this.windowMs = o.duplicateWindowMs ?? DUPLICATE_SIGNAL_WINDOW_MS;
  }

  /** Listens for SIGINT and SIGTERM on `target` (the process). */
  install(target: Pick<NodeJS.Process, "on"> = process): void {
    target.on("SIGINT", () => this.handle("SIGINT"));
    target.on("SIGTERM", () => this.handle("SIGTERM"));
  }

  handle(signal: string): void {
    const now = this.now();
    if (this.firstAt === undefined) {
      this.firstAt = now;
      this.o.logger.info({ signal }, "shutting down: finishing in-flight work");
      this.o.drain().then(
        () => this.o.exit(0),
        (error: unknown) => {
          this.o.logger.error({ err: error }, "shutdown failed");
          this.o.exit(1);
        },
      );
      return;
    }
    const sinceFirstMs = now - this.firstAt;
    if (sinceFirstMs < this.windowMs) {
      this.o.logger.debug(
        { signal, sinceFirstMs },
        "same signal delivered twice (npm forwards it to the process group's child); still draining",
      );
      return;
    }
    this.o.logger.warn(
      { signal },
      "second signal: exiting now; unacknowledged jobs will be redelivered",
    );
    this.o.exit(130);
  }
}
