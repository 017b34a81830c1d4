/**
 * Runs `run` every `intervalMs`, one pass at a time (the next is scheduled when the last one
 * ends, so a slow pass never overlaps itself). A failed pass is reported and the schedule goes
 * on. `stop()` waits for the pass in progress and leaves no timer behind.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private active = false;

  constructor(
    private readonly run: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.active) return;
    this.active = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.running = this.run()
        .then(() => undefined, this.onError)
        .finally(() => {
          this.running = undefined;
          if (this.active) this.schedule();
        });
    }, this.intervalMs);
  }
}
