import type { Envelope } from "../streams/envelope.js";
import type { StreamEvent } from "./stream-event.js";
import { compareStreamIds } from "./stream-id.js";

interface Waiter {
  resolve(result: IteratorResult<StreamEvent>): void;
  reject(error: unknown): void;
}

export interface StreamSubscriptionOptions {
  filter?: (envelope: Envelope) => boolean;
  bufferSize: number;
  /** Called once when the subscription stops wanting live events (end, overflow, failure). */
  onDetach(subscription: StreamSubscription): void;
}

/**
 * One subscriber's iterator: a queue that StreamPubSub fills and the consumer drains. Written by
 * hand rather than as an async generator because a generator parked in `await` cannot be ended
 * by `return()` until its next event arrives; GraphQL calls `return()` when a client
 * unsubscribes and expects it to take effect at once.
 *
 * Modes: `replaying` (history is read page by page from Redis at the consumer's pace while live
 * events wait in `pendingLive`), `live` (events from the shared reader go straight to the queue),
 * `ended` (nothing more will be queued; what is queued is still delivered).
 */
export class StreamSubscription implements AsyncIterableIterator<StreamEvent> {
  /** Cursor of the last item handed out by next(): where an OVERFLOW gap says to resume. */
  resumeFrom: string | undefined;
  /** Set when live events were dropped while replaying, so the replay must read further. */
  liveDropped = false;

  private mode: "replaying" | "live" | "ended";
  private queue: StreamEvent[] = [];
  private head = 0;
  private waiter: Waiter | undefined;
  private pendingLive: StreamEvent[] = [];
  /** Live events with ids up to here were already queued by the replay. */
  private skipUntil: string | undefined;
  private room: { below: number; resolve(): void } | undefined;
  private failure: { error: unknown } | undefined;
  private finished = false;
  private detached = false;

  constructor(
    readonly stream: string,
    replaying: boolean,
    private readonly options: StreamSubscriptionOptions,
  ) {
    this.mode = replaying ? "replaying" : "live";
  }

  /** True once the consumer or the pubsub has ended it: producers should stop. */
  get isFinished(): boolean {
    return this.finished;
  }

  get isReplaying(): boolean {
    return this.mode === "replaying";
  }

  /** An event (or gap) from the shared reader. Hot path: runs once per event per subscriber. */
  pushLive(event: StreamEvent): void {
    if (this.mode === "live") {
      if (this.skipUntil !== undefined) {
        if (compareStreamIds(event.cursor, this.skipUntil) <= 0) return;
        this.skipUntil = undefined;
      }
      if (!this.accepts(event)) return;
      if (this.size() >= this.options.bufferSize) {
        this.overflow(event.cursor);
        return;
      }
      this.enqueue(event);
    } else if (this.mode === "replaying") {
      // Whatever is dropped here is still in Redis, where the replay will find it.
      if (this.pendingLive.length >= this.options.bufferSize) {
        this.pendingLive = [];
        this.liveDropped = true;
      }
      this.pendingLive.push(event);
    }
  }

  /** An item read by the replay; the replay paces itself with waitForRoom(). */
  pushReplay(event: StreamEvent): void {
    if (this.mode !== "replaying" || !this.accepts(event)) return;
    this.enqueue(event);
  }

  /** Replay has queued everything up to `cursor`: switch to live, deduplicating the seam. */
  goLive(cursor: string): void {
    if (this.mode !== "replaying") return;
    this.mode = "live";
    this.skipUntil = cursor;
    const pending = this.pendingLive;
    this.pendingLive = [];
    for (const event of pending) this.pushLive(event);
  }

  /** Resolves when fewer than `below` items are queued, or the subscription is finished. */
  waitForRoom(below: number): Promise<void> {
    if (this.finished || this.size() < below) return Promise.resolve();
    return new Promise((resolve) => {
      this.room = { below, resolve };
    });
  }

  /** Ends the iterator now, dropping what is queued (StreamPubSub.close()). */
  end(): void {
    this.finish();
  }

  next(): Promise<IteratorResult<StreamEvent>> {
    if (this.size() > 0) {
      const event = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as StreamEvent;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.resumeFrom = event.cursor;
      if (this.room && this.size() < this.room.below) {
        const { resolve } = this.room;
        this.room = undefined;
        resolve();
      }
      return Promise.resolve({ value: event, done: false });
    }
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      this.finish();
      return Promise.reject(error);
    }
    if (this.finished || this.mode === "ended") {
      this.finish();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<StreamEvent>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<StreamEvent>> {
    this.finish();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StreamEvent> {
    return this;
  }

  private size(): number {
    return this.queue.length - this.head;
  }

  private accepts(event: StreamEvent): boolean {
    if (event.kind !== "event" || !this.options.filter) return true;
    try {
      return this.options.filter(event.envelope);
    } catch (error) {
      this.fail(error);
      return false;
    }
  }

  private enqueue(event: StreamEvent): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      this.resumeFrom = event.cursor;
      waiter.resolve({ value: event, done: false });
    } else {
      this.queue.push(event);
    }
  }

  /**
   * The consumer is more than bufferSize behind: rather than hold an unbounded backlog, drop it
   * and tell the consumer where to resume; the entries are still in Redis.
   */
  private overflow(missedTo: string): void {
    const cursor = this.resumeFrom ?? "0-0";
    this.queue = [];
    this.head = 0;
    this.mode = "ended";
    this.detach();
    this.enqueue({
      kind: "gap",
      stream: this.stream,
      cursor,
      reason: "OVERFLOW",
      missedFrom: cursor,
      missedTo,
      message:
        `Subscriber fell more than ${this.options.bufferSize} events behind on ${this.stream}; ` +
        `events after ${cursor} up to ${missedTo} were dropped from its buffer (they are still in ` +
        `the stream). This subscription has ended: subscribe again with after: "${cursor}".`,
    });
  }

  private fail(error: unknown): void {
    this.queue = [];
    this.head = 0;
    this.mode = "ended";
    this.detach();
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      this.finish();
      waiter.reject(error);
    } else {
      this.failure = { error };
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.mode = "ended";
    this.queue = [];
    this.head = 0;
    this.pendingLive = [];
    this.detach();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
    const room = this.room;
    this.room = undefined;
    room?.resolve();
  }

  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.options.onDetach(this);
  }
}
