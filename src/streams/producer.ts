import type { Redis } from "ioredis";

import { STAGE_STREAMS } from "../pipeline/registry.js";
import type { Envelope } from "./envelope.js";
import type { StreamKeys } from "./stream-names.js";

// Work streams are trimmed by the maintenance worker below what every group acknowledged
// (trimAcknowledged); capping them here would drop undelivered work when a stage stalls.
const WORK_STREAMS: ReadonlySet<string> = new Set(STAGE_STREAMS);

/**
 * Appends envelopes to streams. Event streams (updates, escalations, alerts) are capped at an
 * approximate length, the history a subscription can resume from; work streams are not.
 */
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
      ...this.cap(stream),
      "*",
      "envelope",
      JSON.stringify(envelope),
      "attempt",
      String(attempt),
    );
    return id as string;
  }

  /** XADD several in one round trip; returns their ids in order. */
  addMany(entries: { stream: string; envelope: Envelope }[]): Promise<string[]> {
    return this.addManyJson(
      entries.map((e) => ({ stream: e.stream, json: JSON.stringify(e.envelope) })),
    );
  }

  /**
   * {@link addMany} for envelopes already serialized (the outbox relay reads them as JSON text
   * and hands them on without parsing and re-serializing each one).
   */
  async addManyJson(entries: { stream: string; json: string }[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const e of entries) {
      pipeline.xadd(
        this.keys.key(e.stream),
        ...this.cap(e.stream),
        "*",
        "envelope",
        e.json,
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

  private cap(stream: string): string[] {
    return WORK_STREAMS.has(stream) ? [] : ["MAXLEN", "~", String(this.maxLen)];
  }
}
