/**
 * At most `limit` calls in flight, the rest waiting in arrival order. The publish batch path
 * shares one across its reads, so PUBLISH_CONCURRENCY bounds the tool calls of the whole stage
 * as it did when each call was its own job.
 */
export class CallLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((go) => this.waiting.push(go));
    else this.active += 1;
    try {
      return await call();
    } finally {
      // The slot passes straight to the next waiter, so `active` never dips below the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
