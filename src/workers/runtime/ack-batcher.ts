import type { Redis } from "ioredis";

/**
 * Acknowledges entries whose handlers resolved in the same turn of the event loop with one
 * XACK. Each caller's promise settles when its own id was acknowledged, so "acked only after the
 * handler resolved" still holds entry by entry; fast handlers just share the round trip.
 */
export class AckBatcher {
  private ids: string[] = [];
  private pending: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly streamKey: string,
    private readonly group: string,
  ) {}

  ack(entryId: string): Promise<void> {
    this.ids.push(entryId);
    this.pending ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        const ids = this.ids;
        this.ids = [];
        this.pending = undefined;
        this.redis.xack(this.streamKey, this.group, ...ids).then(() => resolve(), reject);
      });
    });
    return this.pending;
  }
}
