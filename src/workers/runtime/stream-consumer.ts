import type { Redis } from "ioredis";

import type { Logger } from "../../observability/logger.js";
import { fieldsToRecord } from "../../streams/envelope.js";
import { AckBatcher } from "./ack-batcher.js";
import { computeBackoff } from "./backoff.js";
import { ensureGroup, isRedisError } from "./consumer-group.js";
import { EntrySettler } from "./entry-settler.js";
import type { StreamConsumerOptions } from "./job.js";
import { Reclaimer } from "./reclaimer.js";
import { type ClaimedEntry, RetrySchedule } from "./retry-schedule.js";
import { clamp, settlesWithin } from "./settle-timing.js";

export type { BackoffOptions } from "./backoff.js";
export type { ConsumerMetrics } from "./consumer-metrics.js";
export type { BatchHandler, Job, JobHandler, StreamConsumerOptions } from "./job.js";
export { DeliveryLimitError, PermanentError } from "./permanent-error.js";

type StreamReply = [key: string, entries: [id: string, fields: string[] | null][]][] | null;

/**
 * The stream-consumer runtime every worker shares: one consumer of one group on one stream,
 * with at-least-once delivery, bounded concurrency, retries with backoff that keep the entry in
 * place, dead letters, and the takeover of entries left behind by dead consumers.
 * See docs/PROTOCOL.md for the guarantees other programs rely on.
 */
export class StreamConsumer {
  private readonly o: StreamConsumerOptions;
  private readonly log: Logger;
  private readonly streamKey: string;
  private readonly deadLetterKey: string;
  private readonly retries: RetrySchedule;
  private readonly reclaimer: Reclaimer;
  private readonly settler: EntrySettler;
  private readonly concurrency: number;
  private readonly reclaimEveryMs: number;
  private readonly cleanupEveryMs: number;
  private readonly heartbeatEveryMs: number;

  private state: "idle" | "running" | "stopping" = "idle";
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private reader: Redis | undefined;
  private readerId: number | undefined;
  private readerBlocked = false;
  private slotFreed: (() => void) | undefined;
  private sleeping: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private nextReclaimAt = 0;
  private nextCleanupAt = 0;
  private nextHeartbeatAt = 0;
  private errorStreak = 0;

  constructor(options: StreamConsumerOptions) {
    this.o = options;
    this.concurrency = Math.max(1, Math.floor(options.concurrency));
    const { keys, stream, group, consumer } = options;
    this.log = options.logger.child({ stream, group, consumer });
    this.streamKey = keys.key(stream);
    this.deadLetterKey = keys.key(options.deadLetterStream ?? `${stream}:dlq`);
    this.retries = new RetrySchedule(
      options.redis,
      this.streamKey,
      keys.key(`${stream}:${group}:retry-due`),
      keys.key(`${stream}:${group}:failures`),
      group,
      consumer,
    );
    this.reclaimer = new Reclaimer(
      options.redis,
      {
        streamKey: this.streamKey,
        dueKey: this.retries.dueKey,
        failuresKey: this.retries.failuresKey,
        heartbeatKey: keys.key(`${stream}:${group}:heartbeats`),
      },
      group,
      consumer,
      options.claimIdleMs,
    );
    this.settler = new EntrySettler(
      options,
      this.log,
      this.streamKey,
      this.deadLetterKey,
      this.retries,
      new AckBatcher(options.redis, this.streamKey, group),
      () => void this.wakeReader(),
      () => this.notifySlot(),
    );
    this.reclaimEveryMs = clamp(options.claimIdleMs / 2, 10, 30_000);
    this.cleanupEveryMs = clamp((options.deadConsumerMs ?? 0) / 2, 50, 60_000);
    // Every consumer beats, whether or not it removes others: the group shares CONSUMER_DEAD_MS.
    this.heartbeatEveryMs = clamp((options.deadConsumerMs ?? 20_000) / 4, 10, 5_000);
  }

  get running(): boolean {
    return this.state === "running";
  }

  /** Creates the group if needed and starts reading. Resolves once the consumer is reading. */
  async start(): Promise<void> {
    if (this.state !== "idle") return;
    await ensureGroup(this.o.redis, this.streamKey, this.o.group);
    await this.reclaimer.join();
    const reader = this.o.redis.duplicate();
    // The caller's connection reports its own errors; the reader's surface through the loop.
    reader.on("error", (error: Error) => this.log.debug({ err: error }, "reader connection error"));
    reader.on("ready", () => void this.refreshReaderId(reader));
    this.reader = reader;
    await this.refreshReaderId(reader);
    this.state = "running";
    this.nextReclaimAt = 0;
    this.nextCleanupAt = 0;
    this.nextHeartbeatAt = Date.now() + this.heartbeatEveryMs;
    this.loop = this.run();
    this.log.info(
      { concurrency: this.concurrency, batchSize: this.o.batchSize },
      "stream consumer started",
    );
  }

  /**
   * Stops reading, waits up to `timeoutMs` (default 30 s) for running handlers, then aborts the
   * rest through their signal and leaves their entries pending for redelivery. Closes the
   * connections it opened; leaves no timer behind.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.state === "idle") return this.stopping ?? Promise.resolve();
    if (this.state === "running") {
      this.state = "stopping";
      this.stopping = this.shutdown(options.timeoutMs ?? 30_000);
    }
    return this.stopping!;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.notifySlot();
    this.cancelSleep();
    void this.wakeReader();
    if (!(await settlesWithin(this.loop, Math.max(0, deadline - Date.now())))) {
      // The reader is stuck (Redis unreachable): drop its connection so the loop can end.
      this.reader?.disconnect();
      await this.loop;
    }
    const running = [...this.settler.inFlight.values()];
    const drained = await settlesWithin(
      Promise.all(running.map((r) => r.done)),
      Math.max(0, deadline - Date.now()),
    );
    if (!drained) {
      const left = [...this.settler.inFlight.entries()];
      for (const [, r] of left) {
        r.abandoned = true;
        r.controller.abort(new Error("stream consumer stopped"));
      }
      // Abandoned runs no longer hold slots; a restarted consumer starts with all of them free.
      this.settler.inFlight.clear();
      this.log.warn(
        { entries: left.map(([id]) => id), timeoutMs },
        "stop timed out; aborted handlers, their entries stay pending for redelivery",
      );
    }
    this.reader?.disconnect();
    this.reader = undefined;
    this.readerId = undefined;
    try {
      // Bounded: with Redis gone, stop() must still return; cleanup removes the ghost later.
      const leaving = this.reclaimer.leave();
      leaving.catch(() => undefined);
      if (await settlesWithin(leaving, 1_000)) await leaving;
    } catch (error) {
      this.log.warn(
        { err: error },
        "could not leave the consumer group; dead-consumer cleanup will remove it",
      );
    }
    this.state = "idle";
    this.log.info("stream consumer stopped");
  }

  private async run(): Promise<void> {
    while (this.state === "running") {
      try {
        await this.waitForSlot();
        if (this.state !== "running") break;
        const now = Date.now();
        if (now >= this.nextReclaimAt) {
          const more = await this.reclaim();
          this.nextReclaimAt = more ? now : now + this.reclaimEveryMs;
        }
        if (this.o.deadConsumerMs !== undefined && now >= this.nextCleanupAt) {
          await this.removeDeadConsumers(this.o.deadConsumerMs);
          this.nextCleanupAt = now + this.cleanupEveryMs;
        }
        if (now >= this.nextHeartbeatAt) {
          await this.reclaimer.heartbeat();
          this.nextHeartbeatAt = now + this.heartbeatEveryMs;
        }
        const soonest = Math.min(
          this.nextReclaimAt,
          this.nextHeartbeatAt,
          this.o.deadConsumerMs === undefined ? Infinity : this.nextCleanupAt,
        );
        let blockMs = Math.min(this.o.blockMs, soonest - Date.now());
        if (this.free() > 0) {
          const { ids, nextDueInMs } = await this.retries.popDue(this.free());
          if (ids.length > 0) await this.claimAndDispatch(ids);
          if (nextDueInMs !== undefined) blockMs = Math.min(blockMs, nextDueInMs);
        }
        if (this.free() > 0 && this.state === "running")
          await this.readNew(Math.min(this.o.batchSize, this.free()), blockMs);
        this.errorStreak = 0;
      } catch (error) {
        if (this.state !== "running") break;
        await this.recover(error);
      }
    }
  }

  private async recover(error: unknown): Promise<void> {
    if (isRedisError(error, "NOGROUP")) {
      // The stream or group was deleted under us (a reset); recreate it and carry on.
      this.log.warn("consumer group vanished; recreating it");
      try {
        await ensureGroup(this.o.redis, this.streamKey, this.o.group);
        return;
      } catch (again) {
        error = again;
      }
    }
    this.errorStreak += 1;
    // Log an outage once, not on every retry of the loop.
    if (this.errorStreak === 1)
      this.log.error({ err: error }, "stream consumer loop failed; retrying with backoff");
    await this.sleep(50 + computeBackoff(this.errorStreak, { baseMs: 100, maxMs: 5_000 }));
  }

  private async readNew(count: number, blockMs: number): Promise<void> {
    const reader = this.reader;
    if (!reader) return;
    const args: (string | number)[] = ["GROUP", this.o.group, this.o.consumer, "COUNT", count];
    // BLOCK 0 would mean "forever"; with work already due, read without blocking.
    if (blockMs >= 1) args.push("BLOCK", Math.ceil(blockMs));
    args.push("STREAMS", this.streamKey, ">");
    this.readerBlocked = blockMs >= 1;
    let reply: StreamReply;
    try {
      reply = (await reader.call("XREADGROUP", ...args)) as StreamReply;
    } finally {
      this.readerBlocked = false;
    }
    const fresh: ClaimedEntry[] = [];
    for (const [, entries] of reply ?? []) {
      for (const [entryId, flat] of entries) {
        fresh.push({
          entryId,
          fields: fieldsToRecord(flat ?? []),
          deliveries: 1,
          failure: undefined,
        });
      }
    }
    this.dispatchAll(fresh);
  }

  /** Entries that never failed go to the batch handler together; the others one by one. */
  private dispatchAll(entries: ClaimedEntry[]): void {
    if (!this.o.batchHandler) {
      for (const entry of entries) this.settler.dispatch(entry);
      return;
    }
    const batch: ClaimedEntry[] = [];
    for (const entry of entries) {
      if (this.settler.inFlight.has(entry.entryId)) continue;
      if (entry.failure) this.settler.dispatch(entry);
      else batch.push(entry);
    }
    if (batch.length === 1) this.settler.dispatch(batch[0]!);
    else if (batch.length > 1) this.settler.dispatchBatch(batch);
  }

  private async claimAndDispatch(ids: string[]): Promise<number> {
    const { claimed, gone } = await this.retries.claim(ids);
    if (gone.length > 0)
      this.log.debug({ entries: gone }, "entries no longer pending (acknowledged or trimmed)");
    this.dispatchAll(claimed);
    return claimed.length;
  }

  private async reclaim(): Promise<boolean> {
    const { ids, deleted, done } = await this.reclaimer.claimIdle(this.free());
    if (deleted.length > 0)
      this.log.warn(
        { entries: deleted },
        "pending entries were trimmed from the stream before processing",
      );
    const now = Date.now();
    const own = ids.filter((id) => this.settler.inFlight.has(id));
    await this.reclaimer.restoreIdle(
      own.map((entryId) => ({
        entryId,
        idleMs: now - this.settler.inFlight.get(entryId)!.deliveredAt,
      })),
    );
    const others = ids.filter((id) => !this.settler.inFlight.has(id));
    if (others.length > 0) {
      const n = await this.claimAndDispatch(others);
      if (n > 0) {
        this.o.metrics?.reclaimed(this.o.group, n);
        this.log.info(
          { entries: others, claimIdleMs: this.o.claimIdleMs },
          "reclaimed entries idle on other consumers",
        );
      }
    }
    return !done;
  }

  private async removeDeadConsumers(idleMs: number): Promise<void> {
    const removed = await this.reclaimer.removeDeadConsumers(idleMs);
    for (const name of removed)
      this.log.info({ deadConsumer: name, idleMs }, "removed dead consumer from group");
    if (removed.length) this.o.metrics?.consumersRemoved?.(this.o.group, removed.length);
  }

  private free(): number {
    return this.concurrency - this.settler.inFlight.size;
  }

  private waitForSlot(): Promise<void> {
    if (this.free() > 0 || this.state !== "running") return Promise.resolve();
    return new Promise((resolve) => {
      this.slotFreed = resolve;
    });
  }

  private notifySlot(): void {
    const resolve = this.slotFreed;
    this.slotFreed = undefined;
    resolve?.();
  }

  private async wakeReader(): Promise<void> {
    if (!this.readerBlocked || this.readerId === undefined) return;
    try {
      // The blocked XREADGROUP returns as if it timed out: nothing is delivered and lost.
      await this.o.redis.call("CLIENT", "UNBLOCK", this.readerId);
    } catch (error) {
      this.log.debug({ err: error }, "could not unblock reader");
    }
  }

  private async refreshReaderId(reader: Redis): Promise<void> {
    try {
      this.readerId = Number(await reader.client("ID"));
    } catch (error) {
      this.log.debug({ err: error }, "could not read reader client id");
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping = undefined;
        resolve();
      }, ms);
      this.sleeping = { timer, resolve };
    });
  }

  private cancelSleep(): void {
    if (!this.sleeping) return;
    clearTimeout(this.sleeping.timer);
    this.sleeping.resolve();
    this.sleeping = undefined;
  }
}
