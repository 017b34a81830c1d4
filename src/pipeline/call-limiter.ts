/**
 * At most `limit` calls in flight, the rest waiting in arrival order. A batch stage shares one
 * across its reads, so the bound holds for the whole stage however many reads overlap (the
 * publisher's tool calls; the Judge's per-item decisions).
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
