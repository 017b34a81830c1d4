import type { Redis } from "ioredis";
import type { Envelope } from "./envelope.js";
import type { StreamKeys } from "./stream-names.js";

/** Appends envelopes to streams, capped at an approximate maximum length. */
export class StreamProducer {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    private readonly maxLen: number,
  ) {}

  /** XADD one envelope; returns the entry id (the subscription cursor). */
  async add(stream: string, envelope: Envelope, attempt = 1): Promise<string> {
    const id = await this.redis.xadd(
      this.keys.key(stream),
      "MAXLEN",
      "~",
      this.maxLen,
      "*",
      "envelope",
      JSON.stringify(envelope),
      "attempt",
      String(attempt),
    );
    return id as string;
  }

  /** XADD several in one round trip; returns their ids in order. */
  async addMany(entries: { stream: string; envelope: Envelope }[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const e of entries) {
      pipeline.xadd(
        this.keys.key(e.stream),
        "MAXLEN",
        "~",
        this.maxLen,
        "*",
        "envelope",
        JSON.stringify(e.envelope),
        "attempt",
        "1",
      );
    }
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, id]) => {
      if (error) throw error;
      return id as string;
    });
  }
}
