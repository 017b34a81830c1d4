import { randomBytes } from "node:crypto";

import type { Redis } from "ioredis";

import type { Logger } from "../observability/logger.js";
import { type Envelope, fieldsToRecord, parseEnvelope } from "../streams/envelope.js";
import type { StreamKeys } from "../streams/stream-names.js";
import { CancellableSleep } from "./cancellable-sleep.js";
import { InvalidCursorError } from "./invalid-cursor-error.js";
import { PubSubClosedError } from "./pubsub-closed-error.js";
import { ReaderWakeup } from "./reader-wakeup.js";
import type { StreamEvent } from "./stream-event.js";
import { normalizeStreamId } from "./stream-id.js";
import { StreamSubscription } from "./stream-subscription.js";
import { readPage, readTrimState, type StreamEntry, trimGap } from "./trim-detection.js";

export interface SubscribeOptions {
  /** Cursor (a stream entry id) of the last event the client has; undefined = only new events. */
  after?: string;
  /** Runs once per event per subscriber on the shared event; false skips it. */
  filter?: (envelope: Envelope) => boolean;
  /** Events a subscriber may have queued before it gets an OVERFLOW gap. Default 1000. */
  bufferSize?: number;
}

/** One stream the reader tails for this process. */
interface TailedStream {
  name: string;
  key: string;
  /** Last id the reader has seen; undefined until the starting position is known. */
  lastId: string | undefined;
  /** False while lastId is the "0-0" of a stream that was empty: no entry to check trimming by. */
  lastIdIsEntry: boolean;
  /** Resolves once lastId is set (or the stream is dropped / the pubsub closed). */
  ready: Promise<void>;
  subscribers: Set<StreamSubscription>;
}

const DEFAULT_BUFFER = 1000;

/**
 * Redis-stream-backed pubsub for GraphQL subscriptions (DESIGN.md, "The API").
 *
 * One blocking XREAD loop per process, on one duplicated connection, tails every stream that has
 * subscribers from the last id it has seen and fans each entry out in memory: an entry is parsed
 * once into one frozen event object that every subscriber's queue shares. Subscribers with an
 * `after` cursor first replay history with XRANGE pages from the `redis` connection given (at
 * their own pace), buffering live events meanwhile, and switch to live at the seam with
 * duplicates removed by id.
 *
 * When a stream gains its first subscriber, {@link ReaderWakeup} makes the blocked XREAD return
 * so the loop re-issues it with the new stream.
 */
export class StreamPubSub {
  private readonly redis: Redis;
  private readonly keys: StreamKeys;
  private readonly logger: Logger;
  private readonly blockMs: number;
  private readonly readCount: number;
  private readonly readerName: string;
  private readonly streams = new Map<string, TailedStream>();
  private readonly wakeup: ReaderWakeup;
  private readonly timers = new CancellableSleep();
  private reader: Redis | undefined;
  private loopDone: Promise<void> | undefined;
  private closed = false;
  /** After a reconnect the first batch of every stream is checked for trimming. */
  private checkTrimAfterReconnect = false;

  constructor(o: {
    redis: Redis;
    keys: StreamKeys;
    logger: Logger;
    /** XREAD BLOCK timeout; only bounds latency when CLIENT UNBLOCK is refused. Default 5000. */
    blockMs?: number;
    /** XREAD COUNT and XRANGE page size. Default 200. */
    readCount?: number;
  }) {
    this.redis = o.redis;
    this.keys = o.keys;
    this.logger = o.logger.child({ component: "stream-pubsub" });
    this.blockMs = o.blockMs ?? 5000;
    this.readCount = o.readCount ?? 200;
    if (!Number.isInteger(this.blockMs) || this.blockMs < 1)
      throw new RangeError("blockMs must be a positive integer");
    if (!Number.isInteger(this.readCount) || this.readCount < 1)
      throw new RangeError("readCount must be a positive integer");
    // CLIENT SETNAME forbids spaces; the prefix keeps test files (and deployments) apart in CLIENT LIST.
    this.readerName = `tg-pubsub:${o.keys.prefix.replace(/[^\w:.-]/g, "_")}:${randomBytes(4).toString("hex")}`;
    this.wakeup = new ReaderWakeup({
      redis: this.redis,
      readerName: this.readerName,
      logger: this.logger,
      blockMs: this.blockMs,
    });
  }

  /**
   * Events of one stream (a logical name from STREAMS). `return()` on the iterator unsubscribes.
   * Throws {@link InvalidCursorError} for a malformed `after`, {@link PubSubClosedError} after close().
   */
  subscribe(stream: string, options: SubscribeOptions = {}): AsyncIterableIterator<StreamEvent> {
    if (this.closed) throw new PubSubClosedError();
    let after: string | undefined;
    if (options.after !== undefined) {
      after = normalizeStreamId(options.after);
      if (after === undefined) throw new InvalidCursorError(options.after);
    }
    const bufferSize = options.bufferSize ?? DEFAULT_BUFFER;
    if (!Number.isInteger(bufferSize) || bufferSize < 1)
      throw new RangeError("bufferSize must be a positive integer");

    const tailed = this.tail(stream);
    const subscription = new StreamSubscription(stream, after !== undefined, {
      filter: options.filter,
      bufferSize,
      onDetach: (s) => this.detach(tailed, s),
    });
    subscription.resumeFrom = after ?? tailed.lastId;
    tailed.subscribers.add(subscription);
    if (after !== undefined) {
      this.replay(tailed, subscription, after).catch((error: unknown) => {
        this.logger.error({ err: error, stream }, "subscription replay failed");
        subscription.end();
      });
    }
    return subscription;
  }

  /**
   * Established subscribers of one stream, or of all: those certain to receive every entry added
   * from now on. A subscriber with `after` counts at once (its replay covers everything after
   * the cursor); one without counts once its stream's current end is known, which on a stream
   * new to this process takes one round trip after subscribe(). Entries added before that are
   * not "new" to it, as with PUBLISH before SUBSCRIBE completes; a client that must not miss
   * anything passes a cursor.
   */
  subscriberCount(stream?: string): number {
    if (stream !== undefined) {
      const tailed = this.streams.get(stream);
      return tailed ? this.established(tailed) : 0;
    }
    let n = 0;
    for (const tailed of this.streams.values()) n += this.established(tailed);
    return n;
  }

  private established(tailed: TailedStream): number {
    if (tailed.lastId !== undefined) return tailed.subscribers.size;
    let n = 0;
    for (const s of tailed.subscribers) if (s.isReplaying) n += 1;
    return n;
  }

  /** Ends every iterator, stops the reader and closes its connection; leaves `redis` open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const tailed of [...this.streams.values()]) {
      for (const s of [...tailed.subscribers]) s.end();
    }
    this.streams.clear();
    this.wakeup.close();
    this.timers.cancelAll();
    // disconnect() rejects the pending XREAD, which ends the loop.
    this.reader?.disconnect();
    await this.loopDone;
  }

  /** The stream's shared tail, created (and its start position looked up) on first use. */
  private tail(stream: string): TailedStream {
    const existing = this.streams.get(stream);
    if (existing) return existing;
    let markReady!: () => void;
    const tailed: TailedStream = {
      name: stream,
      key: this.keys.key(stream),
      lastId: undefined,
      lastIdIsEntry: false,
      ready: new Promise((resolve) => (markReady = resolve)),
      subscribers: new Set(),
    };
    this.streams.set(stream, tailed);
    this.startReader();
    // Looked up now, in subscribe()'s tick, so "only new events" means "added after subscribe()".
    this.retrying(
      "look up stream position",
      () => this.redis.xrevrange(tailed.key, "+", "-", "COUNT", 1),
      () => this.isLive(tailed),
    ).then(
      (last) => {
        if (last !== undefined && this.isLive(tailed)) {
          tailed.lastId = last[0]?.[0] ?? "0-0";
          tailed.lastIdIsEntry = last.length > 0;
          for (const s of tailed.subscribers) s.resumeFrom ??= tailed.lastId;
          this.wakeup.wake();
        }
        markReady();
      },
      () => markReady(),
    );
    return tailed;
  }

  private isLive(tailed: TailedStream): boolean {
    return !this.closed && this.streams.get(tailed.name) === tailed;
  }

  private detach(tailed: TailedStream, subscription: StreamSubscription): void {
    tailed.subscribers.delete(subscription);
    // The reader stops tailing it on its next XREAD; a later subscriber starts a fresh tail.
    if (tailed.subscribers.size === 0 && this.streams.get(tailed.name) === tailed)
      this.streams.delete(tailed.name);
  }

  /**
   * History after `after`, page by page, then live. The subscriber was registered before the
   * first page is read and its live events are held meanwhile, so every entry is either in a
   * page or among the held events; goLive drops the held ones the pages already covered.
   */
  private async replay(
    tailed: TailedStream,
    subscription: StreamSubscription,
    after: string,
  ): Promise<void> {
    // The reader's start position must precede the replay's reads, or entries in between are lost.
    await tailed.ready;
    let cursor = after;
    const stillWanted = () => !subscription.isFinished && !this.closed;
    while (stillWanted()) {
      await subscription.waitForRoom(this.readCount);
      if (!stillWanted()) return;
      const page = await this.retrying(
        "replay subscription history",
        () => readPage(this.redis, tailed.key, cursor, this.readCount),
        stillWanted,
      );
      if (page === undefined || !stillWanted()) return;
      const gap = trimGap(tailed.name, cursor, page.trim);
      if (gap) {
        subscription.pushReplay(gap);
        cursor = gap.cursor;
      }
      for (const [id, fields] of page.entries) {
        cursor = id;
        const event = this.toEvent(tailed.name, id, fields);
        if (event) subscription.pushReplay(event);
      }
      if (page.entries.length < this.readCount) {
        if (subscription.liveDropped) {
          // Held live events were dropped while this page was in flight; read on to cover them.
          subscription.liveDropped = false;
          continue;
        }
        subscription.goLive(cursor);
        return;
      }
    }
  }

  private toEvent(stream: string, id: string, fields: string[]): StreamEvent | undefined {
    try {
      const envelope = Object.freeze(parseEnvelope(fieldsToRecord(fields).envelope));
      return Object.freeze({ kind: "event", stream, cursor: id, envelope }) as StreamEvent;
    } catch (error) {
      this.logger.warn(
        { err: error, stream, id },
        "skipping a stream entry that is not an envelope",
      );
      return undefined;
    }
  }

  private startReader(): void {
    if (this.reader || this.closed) return;
    const reader = this.redis.duplicate({
      connectionName: this.readerName,
      lazyConnect: false,
      enableOfflineQueue: true,
      // Left on: with it off ioredis drops the pending XREAD after a reconnect without ever
      // settling its promise, which would stall the loop for good.
      autoResendUnfulfilledCommands: true,
      maxRetriesPerRequest: null,
    });
    let connections = 0;
    reader.on("ready", () => {
      connections += 1;
      if (connections > 1) {
        this.logger.info({ name: this.readerName }, "subscription reader reconnected");
        this.checkTrimAfterReconnect = true;
        this.wakeup.reconnected();
      }
    });
    reader.on("close", () => this.wakeup.disconnected());
    reader.on("error", (error: Error) => {
      if (!this.closed)
        this.logger.warn(
          { err: error, name: this.readerName },
          "subscription reader connection error",
        );
    });
    this.reader = reader;
    this.loopDone = this.readLoop(reader);
  }

  private async readLoop(reader: Redis): Promise<void> {
    let backoffMs = 0;
    while (!this.closed) {
      try {
        await this.wakeup.prepare(reader);
        // No await between choosing the streams and sending the XREAD, or a stream added in
        // between would be neither in this read nor seen as stale by the wake-up.
        const tailed = [...this.streams.values()].filter(
          (t) => t.lastId !== undefined && t.subscribers.size > 0,
        );
        if (tailed.length === 0) {
          await this.wakeup.idle();
          continue;
        }
        this.wakeup.readIssued();
        const reply = (await reader.xread(
          "COUNT",
          this.readCount,
          "BLOCK",
          this.blockMs,
          "STREAMS",
          ...tailed.map((t) => t.key),
          ...tailed.map((t) => t.lastId!),
        )) as [key: string, entries: StreamEntry[]][] | null;
        this.wakeup.readSettled();
        const checkTrim = this.checkTrimAfterReconnect;
        this.checkTrimAfterReconnect = false;
        if (reply) await this.dispatch(tailed, reply, checkTrim);
        backoffMs = 0;
      } catch (error) {
        this.wakeup.readSettled();
        if (this.closed) break;
        backoffMs = Math.min(Math.max(backoffMs * 2, 50), 2000);
        this.logger.warn(
          { err: error, retryInMs: backoffMs },
          "subscription reader failed; retrying",
        );
        await this.timers.sleep(backoffMs);
      }
    }
  }

  private async dispatch(
    tailed: TailedStream[],
    reply: [key: string, entries: StreamEntry[]][],
    checkTrim: boolean,
  ): Promise<void> {
    for (const [key, entries] of reply) {
      const t = tailed.find((x) => x.key === key);
      if (!t || entries.length === 0) continue;
      const previous = t.lastId!;
      // Only a full batch (or the first after an outage) can follow a trim past our position:
      // a trim leaves at least MAXLEN entries after it, all newer than what we had seen.
      if (t.lastIdIsEntry && (checkTrim || entries.length >= this.readCount)) {
        const gap = await this.liveTrimGap(t, previous, entries[0]![0]);
        if (gap && this.isLive(t)) for (const s of t.subscribers) s.pushLive(gap);
      }
      if (!this.isLive(t)) continue;
      for (const [id, fields] of entries) {
        t.lastId = id;
        t.lastIdIsEntry = true;
        const event = this.toEvent(t.name, id, fields);
        if (!event) continue;
        for (const s of t.subscribers) s.pushLive(event);
      }
    }
  }

  /** Entries between our last id and the first one XREAD returned that were trimmed meanwhile. */
  private async liveTrimGap(
    t: TailedStream,
    previous: string,
    firstRead: string,
  ): Promise<StreamEvent | undefined> {
    try {
      return trimGap(t.name, previous, await readTrimState(this.redis, t.key, previous), firstRead);
    } catch (error) {
      this.logger.warn({ err: error, stream: t.name }, "could not check the stream for trimming");
      return undefined;
    }
  }

  /** Runs `task` until it succeeds or `wanted()` turns false (then undefined), backing off. */
  private retrying<T>(
    what: string,
    task: () => Promise<T>,
    wanted: () => boolean,
  ): Promise<T | undefined> {
    return this.timers.retrying(what, task, wanted, this.logger);
  }
}
