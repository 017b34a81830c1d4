import { randomInt } from "node:crypto";

/**
 * The version of one write to one id. Processes write segments without a shared lock, so the
 * order in which a reader happens to see two segments is not the order they were written in;
 * every record therefore carries a stamp, and the larger stamp wins no matter which record a
 * reader applies first (last-writer-wins register). That makes applying segments idempotent and
 * order-independent, which is what lets compaction and concurrent readers stay simple.
 */
export interface Stamp {
  /** Milliseconds × 1024 + a counter (a hybrid logical clock); exact in a double until year 2248. */
  time: number;
  /** Random per store instance; breaks ties between two writers in the same tick. */
  writer: number;
}

export function compareStamps(a: Stamp, b: Stamp): number {
  return a.time - b.time || a.writer - b.writer;
}

const TICKS_PER_MS = 1024;

/**
 * Issues stamps that are larger than every stamp this process has issued or seen, even if the
 * wall clock steps back, so a delete issued after reading an upsert always supersedes it.
 */
export class HybridClock {
  readonly writer = randomInt(0, 2 ** 32);
  #last = 0;

  constructor(private readonly now: () => number = Date.now) {}

  next(): Stamp {
    this.#last = Math.max(this.now() * TICKS_PER_MS, this.#last + 1);
    return { time: this.#last, writer: this.writer };
  }

  observe(time: number): void {
    if (time > this.#last) this.#last = time;
  }
}
