import type { Embedder } from "./embedder.js";

/**
 * Coalesces concurrent `embed` calls into batches. The embedding stage runs one handler per job,
 * each asking for one vector; the model is much faster per text in batches (see README: about
 * 60/s one at a time, about 100/s at 16–32), so calls that arrive while a batch runs wait for the
 * next one and share it. A lone call runs at once: no timer adds latency.
 */
export class MicroBatchEmbedder implements Embedder {
  private pending: {
    texts: string[];
    resolve: (v: number[][]) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private running = false;

  constructor(
    private readonly inner: Embedder,
    private readonly maxBatch = 32,
  ) {}

  get model(): string {
    return this.inner.model;
  }

  get dimension(): number {
    return this.inner.dimension;
  }

  embed(texts: string[]): Promise<number[][]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ texts, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async drain(): Promise<void> {
    this.running = true;
    // Callers of the same tick join the first batch.
    await new Promise((r) => setImmediate(r));
    try {
      while (this.pending.length) {
        const batch: typeof this.pending = [];
        let size = 0;
        while (
          this.pending.length &&
          (batch.length === 0 || size + this.pending[0]!.texts.length <= this.maxBatch)
        ) {
          const call = this.pending.shift()!;
          batch.push(call);
          size += call.texts.length;
        }
        try {
          const vectors = await this.inner.embed(batch.flatMap((c) => c.texts));
          let offset = 0;
          for (const call of batch) {
            call.resolve(vectors.slice(offset, offset + call.texts.length));
            offset += call.texts.length;
          }
        } catch (error) {
          // One failed batch fails its callers; each job retries on its own.
          for (const call of batch) call.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
