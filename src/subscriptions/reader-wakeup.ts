import type { Redis } from "ioredis";

import type { Logger } from "../observability/logger.js";

/**
 * Makes the pubsub's blocked XREAD return when the set of tailed streams grows, so the read loop
 * re-issues it with the new stream.
 *
 * CLIENT UNBLOCK, sent on the ordinary connection, makes the pending XREAD return at once. That
 * costs nothing while idle, unlike a short block time (a round trip per blockMs per process, and
 * up to blockMs latency for the new stream), and needs one connection, unlike a reader per
 * stream. If the server refuses CLIENT UNBLOCK (some managed Redis ACLs), the new stream waits
 * for the current XREAD to time out, so blockMs bounds that latency.
 *
 * The read loop tells it what it is doing ({@link readIssued}, {@link readSettled},
 * {@link idle}); the pubsub calls {@link wake} when a stream became readable. A read issued
 * before the last wake() is stale: only that one is unblocked.
 */
export class ReaderWakeup {
  private readonly redis: Redis;
  private readonly readerName: string;
  private readonly logger: Logger;
  private readonly blockMs: number;
  private clientId: number | undefined;
  /** Bumped by wake(); an XREAD issued at a lower generation is stale. */
  private generation = 0;
  private inflightGeneration: number | undefined;
  private idleWake: (() => void) | undefined;
  private supported = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private unblocking = false;
  private retryMs = 10;
  private closed = false;

  constructor(o: {
    /** The ordinary connection UNBLOCK and CLIENT LIST go out on, never the reader's own. */
    redis: Redis;
    /** The reader connection's CLIENT SETNAME, to find its id again after a reconnect. */
    readerName: string;
    logger: Logger;
    /** Only for the log line when UNBLOCK is refused. */
    blockMs: number;
  }) {
    this.redis = o.redis;
    this.readerName = o.readerName;
    this.logger = o.logger;
    this.blockMs = o.blockMs;
  }

  /** Before each XREAD: learns the reader's client id (CLIENT ID on the reader) when unknown. */
  async prepare(reader: Redis): Promise<void> {
    if (this.clientId === undefined && this.supported)
      this.clientId = Number(await reader.client("ID"));
  }

  /** The loop has no stream to read: resolves at the next wake() or close(). */
  async idle(): Promise<void> {
    await new Promise<void>((resolve) => (this.idleWake = resolve));
    this.idleWake = undefined;
  }

  /**
   * Called in the same tick as the XREAD is sent, after choosing its streams: a wake() from then
   * on means the read is missing a stream.
   */
  readIssued(): void {
    this.inflightGeneration = this.generation;
  }

  /** The XREAD answered or failed. */
  readSettled(): void {
    this.inflightGeneration = undefined;
  }

  /**
   * The reader reconnected. ioredis re-sends the pending XREAD (same position, so nothing is
   * missed) ahead of anything we could send on that connection, so its new id comes from
   * CLIENT LIST on the ordinary one.
   */
  reconnected(): void {
    this.redis.call("CLIENT", "LIST", "TYPE", "normal").then(
      (list) => {
        const line = String(list)
          .split("\n")
          .find((l) => l.includes(` name=${this.readerName} `));
        const id = line && /^id=(\d+) /.exec(line)?.[1];
        if (id) this.clientId = Number(id);
      },
      (error: unknown) =>
        this.logger.debug({ err: error }, "could not find the reader's client id"),
    );
  }

  /** The reader's connection closed: its client id is gone with it. */
  disconnected(): void {
    this.clientId = undefined;
  }

  /** A stream became readable: make the blocked XREAD return so it is re-issued with it. */
  wake(): void {
    this.generation += 1;
    if (this.idleWake) {
      this.idleWake();
      return;
    }
    this.retryMs = 10;
    this.unblock();
  }

  /** Stops retries and releases an idle loop. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.idleWake?.();
  }

  private stale(): boolean {
    return this.inflightGeneration !== undefined && this.inflightGeneration < this.generation;
  }

  private unblock(): void {
    if (this.retryTimer || this.unblocking || !this.supported || this.closed) return;
    if (!this.stale()) return;
    const id = this.clientId;
    if (id === undefined) {
      this.retrySoon();
      return;
    }
    this.unblocking = true;
    this.redis.client("UNBLOCK", id).then(
      (n) => {
        this.unblocking = false;
        if (Number(n) === 0) this.retrySoon();
        else this.retryMs = 10;
      },
      (error: unknown) => {
        this.unblocking = false;
        if (this.closed) return;
        this.supported = false;
        this.logger.warn(
          { err: error, blockMs: this.blockMs },
          "CLIENT UNBLOCK refused; new subscription streams start when the current XREAD times out",
        );
      },
    );
  }

  /**
   * The XREAD may not have reached the server yet (UNBLOCK answered 0), or the client id is being
   * refreshed after a reconnect: try again shortly while the read is still stale, backing off so
   * that a long outage does not spin.
   */
  private retrySoon(): void {
    if (this.closed || !this.stale()) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.unblock();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 1000);
  }
}
