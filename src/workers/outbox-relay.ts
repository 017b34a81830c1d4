import { type Kysely, sql } from "kysely";
import pg from "pg";

import { takeOutboxRows } from "../db/outbox.js";
import type { Database } from "../db/types.js";
import type { Logger } from "../observability/logger.js";
import type { StreamProducer } from "../streams/producer.js";
import { computeBackoff } from "./runtime/backoff.js";

export interface OutboxRelayOptions {
  db: Kysely<Database>;
  /** Give it a connection that fails fast when Redis is away (`enableOfflineQueue: false`). */
  producer: StreamProducer;
  /** Pause between polls while healthy. */
  pollMs: number;
  /** Rows claimed and published per transaction (default 1000: a stage batch writes several per item). */
  batchSize?: number;
  logger: Logger;
  /** Longest a publish may hold the claiming transaction open (default 5 s). */
  publishTimeoutMs?: number;
  /**
   * Postgres URL to LISTEN on for `trendgate_outbox` (sent at commit by the outbox trigger), so
   * the relay publishes right after a commit instead of at its next poll. Polling stays as the
   * safety net for missed notifications.
   */
  listenUrl?: string;
}

/** Redis did not confirm a publish in time; the rows stay in the outbox for the next round. */
export class OutboxPublishTimeoutError extends Error {
  readonly code = "OUTBOX_PUBLISH_TIMEOUT";
  constructor(timeoutMs: number) {
    super(`publishing outbox rows took longer than ${timeoutMs} ms`);
    this.name = "OutboxPublishTimeoutError";
  }
}

// One relay publishes at a time (per database). Row locks alone (SKIP LOCKED) keep two relays
// from publishing the same row, but would let relay B publish row 101 while relay A still holds
// row 100 of the same stream, and order per stream is part of the protocol.
const RELAY_LOCK = sql<unknown>`hashtext('trendgate.outbox-relay')`;
const MAX_BACKOFF_MS = 10_000;

/**
 * Moves committed outbox rows to their Redis streams: claims and deletes the oldest rows in one
 * statement (`FOR UPDATE SKIP LOCKED`, `DELETE … RETURNING`), then XADDs them in id order in
 * one call, and commits. A crash between the XADD and the commit publishes those rows again
 * (at-least-once; every handler is idempotent); nothing committed is ever lost, and nothing is
 * published before its transaction commits.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly publishTimeoutMs: number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private started = false;
  private outageSince: number | undefined;
  private failures = 0;
  private listener: pg.Client | undefined;
  private listenRetry: NodeJS.Timeout | undefined;
  private wokenWhileBusy = false;
  /** The flush round publishing now, and the one that calls made meanwhile will share. */
  private flushing: Promise<number> | undefined;
  private queuedFlush: { ids: Set<string> | undefined; done: Promise<number> } | undefined;

  constructor(private readonly o: OutboxRelayOptions) {
    this.batchSize = Math.max(1, o.batchSize ?? 1000);
    this.publishTimeoutMs = o.publishTimeoutMs ?? 5_000;
    this.log = o.logger;
  }

  /** Polls every `pollMs` until stopped; backs off while publishing fails. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
    if (this.o.listenUrl) void this.listen(this.o.listenUrl);
  }

  /** A commit wrote outbox rows: poll now (or right after the round in progress). */
  private wake(): void {
    if (!this.started || this.outageSince !== undefined) return;
    if (this.tick) {
      this.wokenWhileBusy = true;
      return;
    }
    clearTimeout(this.timer);
    this.schedule(0);
  }

  private async listen(url: string): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    this.listener = client;
    const retry = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => undefined);
      // Until the listener is back, the poll publishes on its own schedule.
      if (this.started) this.listenRetry = setTimeout(() => void this.listen(url), 1000);
    };
    client.on("error", retry);
    client.on("end", retry);
    client.on("notification", () => this.wake());
    try {
      await client.connect();
      await client.query("LISTEN trendgate_outbox");
    } catch (error) {
      this.log.debug({ err: error }, "outbox relay cannot LISTEN; polling only until it can");
      retry();
    }
  }

  /** Stops polling and waits for the round in progress. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    clearTimeout(this.listenRetry);
    this.timer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.tick;
  }

  /**
   * Publishes now. Without ids: every row visible now. With ids (the gateway's fast path right
   * after its commit): those rows, plus the older rows of the same streams, so per-stream order
   * holds. Waits for a relay that is publishing at the same moment. Returns the rows published
   * by the round that covered the call; throws when Redis or Postgres fails (the rows stay for
   * the poller).
   *
   * Calls made while a round runs share the next round (their ids merged): every ingest batch
   * asks for a flush, and one waiter per call would hold a pooled connection each on the relay
   * lock (measured: most of the pool, most of the time, under a steady ingest).
   */
  flush(ids?: string[]): Promise<number> {
    if (ids && ids.length === 0) return Promise.resolve(0);
    const queued = this.queuedFlush;
    if (queued) {
      if (!ids) queued.ids = undefined;
      else if (queued.ids) for (const id of ids) queued.ids.add(id);
      return queued.done;
    }
    const round: { ids: Set<string> | undefined; done: Promise<number> } = {
      ids: ids ? new Set(ids) : undefined,
      done: Promise.resolve(0),
    };
    const before = this.flushing ?? Promise.resolve(0);
    round.done = before
      .catch(() => 0)
      .then(() => {
        // From here on, a new call waits for the round after this one: this one may have read
        // the outbox before that call's rows committed.
        if (this.queuedFlush === round) this.queuedFlush = undefined;
        const running = this.flushRows(round.ids ? [...round.ids] : undefined);
        this.flushing = running;
        return running.finally(() => {
          if (this.flushing === running) this.flushing = undefined;
        });
      });
    this.queuedFlush = round;
    return round.done;
  }

  private async flushRows(ids: string[] | undefined): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.publishBatch(ids, true);
      total += n;
      if (n < this.batchSize) return total;
    }
  }

  private schedule(delayMs: number): void {
    if (!this.started) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick = this.poll().finally(() => {
        this.tick = undefined;
        if (this.wokenWhileBusy) {
          this.wokenWhileBusy = false;
          this.wake();
        }
      });
    }, delayMs);
  }

  private async poll(): Promise<void> {
    let delay = this.o.pollMs;
    try {
      let published = 0;
      for (;;) {
        const n = await this.publishBatch(undefined, false);
        published += Math.max(0, n);
        if (n < this.batchSize) break;
      }
      if (this.outageSince !== undefined) {
        this.log.info(
          { downMs: Date.now() - this.outageSince, published },
          "outbox relay publishing again",
        );
      }
      this.outageSince = undefined;
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      // Once per outage, not once per poll: an hour without Redis is one line, not 18,000.
      if (this.outageSince === undefined) {
        this.outageSince = Date.now();
        this.log.warn(
          { err: error },
          "outbox relay cannot publish; rows stay in the outbox, retrying with backoff",
        );
      } else {
        this.log.debug(
          { err: error, failures: this.failures },
          "outbox relay still cannot publish",
        );
      }
      delay =
        this.o.pollMs +
        computeBackoff(this.failures, { baseMs: this.o.pollMs, maxMs: MAX_BACKOFF_MS });
    }
    this.schedule(delay);
  }

  /** One claim-publish-delete transaction; -1 when another relay holds the lock (poll only). */
  private publishBatch(ids: string[] | undefined, waitForLock: boolean): Promise<number> {
    return this.o.db.transaction().execute(async (trx) => {
      if (waitForLock) {
        await sql`SELECT pg_advisory_xact_lock(${RELAY_LOCK})`.execute(trx);
      } else {
        const { rows } = await sql<{
          ok: boolean;
        }>`SELECT pg_try_advisory_xact_lock(${RELAY_LOCK}) AS ok`.execute(trx);
        // Another relay is draining the outbox right now; it loops until it is empty.
        if (!rows[0]?.ok) return -1;
      }
      const rows = await takeOutboxRows(trx, this.batchSize, ids);
      if (rows.length === 0) return 0;
      await this.publish(rows);
      return rows.length;
    });
  }

  private async publish(entries: { stream: string; json: string }[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new OutboxPublishTimeoutError(this.publishTimeoutMs)),
        this.publishTimeoutMs,
      );
    });
    try {
      // A hung Redis must not hold the transaction (and its row locks) open indefinitely.
      const publishing = this.o.producer.addManyJson(entries);
      // After a timeout the late result is unwanted, but must not surface as an unhandled rejection.
      publishing.catch(() => undefined);
      await Promise.race([publishing, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
