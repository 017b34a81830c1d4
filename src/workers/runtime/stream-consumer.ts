import { performance } from "node:perf_hooks";
import type { Redis } from "ioredis";
import type { Logger } from "../../observability/logger.js";
import {
  type Envelope,
  MalformedEntryError,
  fieldsToRecord,
  parseEnvelope,
} from "../../streams/envelope.js";
import type { StreamKeys } from "../../streams/stream-names.js";
import { AckBatcher } from "./ack-batcher.js";
import { computeBackoff } from "./backoff.js";
import { ensureGroup, isRedisError } from "./consumer-group.js";
import type { ConsumerMetrics } from "./consumer-metrics.js";
import { writeDeadLetter } from "./dead-letter.js";
import { errorCode, toError } from "./failure-record.js";
import { DeliveryLimitError, isDeterministicFailure } from "./permanent-error.js";
import { Reclaimer } from "./reclaimer.js";
import { type ClaimedEntry, RetrySchedule } from "./retry-schedule.js";

export { PermanentError, DeliveryLimitError } from "./permanent-error.js";
export type { ConsumerMetrics } from "./consumer-metrics.js";
export type { BackoffOptions } from "./backoff.js";

/** One delivery of a stream entry to a handler. */
export interface Job {
  /** Logical stream name (without the key prefix). */
  stream: string;
  entryId: string;
  envelope: Envelope;
  /** 1-based; 1 + the failed attempts recorded for this entry in this group. */
  attempt: number;
  /** Times the group delivered the entry, this one included (more than `attempt` after a crash). */
  deliveries: number;
}

/**
 * Does the work for one entry. Resolve only after the work is durable (the DB transaction
 * committed): the entry is acknowledged right after, and never redelivered. Throw to retry;
 * throw {@link PermanentError} (or MalformedEntryError) to dead-letter at once, as a Postgres
 * error of SQLSTATE class 22, 23 or 42 does (see isDeterministicFailure). The signal aborts
 * when `stop()` runs out of time; the entry then stays pending and is redelivered.
 */
export type JobHandler = (job: Job, signal: AbortSignal) => Promise<void>;

/**
 * Does the work for the entries of one read at once (batch at a time), all or nothing: resolve
 * after one commit made every job durable except those it returns, which the runtime then hands
 * to the {@link JobHandler} one by one (jobs the batch path does not cover, e.g. an item that
 * must pause). Throw to have every job handled one by one instead: a poison entry then fails
 * alone (retried, then dead-lettered) and the others commit.
 */
export type BatchHandler = (jobs: Job[], signal: AbortSignal) => Promise<readonly Job[]>;

export interface StreamConsumerOptions {
  /** ioredis connection for ordinary commands; the consumer duplicates it for blocking reads. */
  redis: Redis;
  keys: StreamKeys;
  /** Logical name, e.g. STREAMS.ingest. */
  stream: string;
  group: string;
  /** Unique per process, e.g. `${hostname}-${pid}-${random}`. */
  consumer: string;
  /** Logical name of the dead-letter stream (the stage registry names it); default `${stream}:dlq`. */
  deadLetterStream?: string;
  handler: JobHandler;
  /** When set, new entries of one read go to it together; retries still go to `handler` alone. */
  batchHandler?: BatchHandler;
  /** Most entries fetched by one read (XREADGROUP COUNT). */
  batchSize: number;
  /** Longest a read waits for new entries (XREADGROUP BLOCK). */
  blockMs: number;
  /** Most handlers running at once. */
  concurrency: number;
  /** Attempts before an entry is dead-lettered; also the most deliveries an entry may have. */
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  /** Jitter source for the backoff, in [0, 1); default Math.random. Tests pin it. */
  random?: () => number;
  /** Entries pending on a consumer longer than this are taken over. Must exceed the slowest handler. */
  claimIdleMs: number;
  /** Consumers of the group idle longer than this and owning no entry are deleted. Off when unset. */
  deadConsumerMs?: number;
  logger: Logger;
  /** Called after an entry was moved to the dead letters (job is undefined when the envelope was unreadable). */
  onDeadLetter?: (
    job: Job | undefined,
    error: Error,
    raw: { entryId: string; fields: Record<string, string> },
  ) => Promise<void>;
  metrics?: ConsumerMetrics;
}

interface Running {
  controller: AbortController;
  deliveredAt: number;
  /** Set when stop() gave up waiting: the outcome is ignored and the entry left pending. */
  abandoned: boolean;
  done: Promise<void>;
}

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
  private readonly acks: AckBatcher;
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
  private readonly inFlight = new Map<string, Running>();
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
    this.acks = new AckBatcher(options.redis, this.streamKey, group);
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
    const running = [...this.inFlight.values()];
    const drained = await settlesWithin(
      Promise.all(running.map((r) => r.done)),
      Math.max(0, deadline - Date.now()),
    );
    if (!drained) {
      const left = [...this.inFlight.entries()];
      for (const [, r] of left) {
        r.abandoned = true;
        r.controller.abort(new Error("stream consumer stopped"));
      }
      // Abandoned runs no longer hold slots; a restarted consumer starts with all of them free.
      this.inFlight.clear();
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
        fresh.push({ entryId, fields: fieldsToRecord(flat ?? []), deliveries: 1, failure: undefined });
      }
    }
    this.dispatchAll(fresh);
  }

  /** Entries that never failed go to the batch handler together; the others one by one. */
  private dispatchAll(entries: ClaimedEntry[]): void {
    if (!this.o.batchHandler) {
      for (const entry of entries) this.dispatch(entry);
      return;
    }
    const batch: ClaimedEntry[] = [];
    for (const entry of entries) {
      if (this.inFlight.has(entry.entryId)) continue;
      if (entry.failure) this.dispatch(entry);
      else batch.push(entry);
    }
    if (batch.length === 1) this.dispatch(batch[0]!);
    else if (batch.length > 1) this.dispatchBatch(batch);
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
    const own = ids.filter((id) => this.inFlight.has(id));
    await this.reclaimer.restoreIdle(
      own.map((entryId) => ({ entryId, idleMs: now - this.inFlight.get(entryId)!.deliveredAt })),
    );
    const others = ids.filter((id) => !this.inFlight.has(id));
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

  private dispatch(entry: ClaimedEntry): void {
    if (this.inFlight.has(entry.entryId)) return;
    const run: Running = {
      controller: new AbortController(),
      deliveredAt: Date.now(),
      abandoned: false,
      done: Promise.resolve(),
    };
    this.inFlight.set(entry.entryId, run);
    run.done = this.execute(entry, run)
      .catch((error: unknown) => {
        // Redis failed while acking, retrying or dead-lettering: the entry is still pending, so
        // reclaim hands it out again after claimIdleMs. Nothing is lost.
        this.log.error(
          { err: error, entryId: entry.entryId },
          "could not settle entry; it stays pending",
        );
      })
      .finally(() => {
        if (this.inFlight.get(entry.entryId) === run) this.inFlight.delete(entry.entryId);
        this.notifySlot();
      });
  }

  private dispatchBatch(entries: ClaimedEntry[]): void {
    const run: Running = {
      controller: new AbortController(),
      deliveredAt: Date.now(),
      abandoned: false,
      done: Promise.resolve(),
    };
    for (const entry of entries) this.inFlight.set(entry.entryId, run);
    run.done = this.executeBatch(entries, run)
      .catch((error: unknown) => {
        this.log.error(
          { err: error, entries: entries.map((e) => e.entryId) },
          "could not settle a batch; its unsettled entries stay pending",
        );
      })
      .finally(() => {
        for (const entry of entries) {
          if (this.inFlight.get(entry.entryId) === run) this.inFlight.delete(entry.entryId);
        }
        this.notifySlot();
      });
  }

  /**
   * One read's entries through the batch handler: one commit and one XACK for all of them.
   * When the batch fails, each entry runs alone, so only a poison entry retries or dead-letters.
   */
  private async executeBatch(entries: ClaimedEntry[], run: Running): Promise<void> {
    const ready: { entry: ClaimedEntry; job: Job }[] = [];
    for (const entry of entries) {
      const job = await this.prepare(entry);
      if (job) ready.push({ entry, job });
    }
    if (ready.length === 0) return;
    const started = performance.now();
    let alone: ReadonlySet<Job>;
    try {
      alone = new Set(await this.o.batchHandler!(ready.map((r) => r.job), run.controller.signal));
    } catch (error) {
      if (run.abandoned) return;
      this.log.warn(
        { err: error, entries: ready.length },
        "batch failed; handling its entries one at a time",
      );
      alone = new Set(ready.map((r) => r.job));
    }
    if (run.abandoned) return;
    const committed = ready.filter((r) => !alone.has(r.job));
    if (committed.length > 0) {
      await this.o.redis.xack(this.streamKey, this.o.group, ...committed.map((r) => r.entry.entryId));
      const perItemMs = (performance.now() - started) / ready.length;
      for (let i = 0; i < committed.length; i++) this.o.metrics?.processed(this.o.group, perItemMs);
    }
    for (const r of ready) {
      if (alone.has(r.job) && !run.abandoned) await this.runOne(r.entry, r.job, run);
    }
  }

  private async execute(entry: ClaimedEntry, run: Running): Promise<void> {
    const job = await this.prepare(entry);
    if (job) await this.runOne(entry, job, run);
  }

  /** The job of an entry, or undefined once an unreadable or over-delivered entry is dead-lettered. */
  private async prepare(entry: ClaimedEntry): Promise<Job | undefined> {
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(entry.fields.envelope);
    } catch (error) {
      await this.deadLetter(entry, undefined, toError(error));
      return undefined;
    }
    const job: Job = {
      stream: this.o.stream,
      entryId: entry.entryId,
      envelope,
      attempt: (entry.failure?.failures ?? 0) + 1,
      deliveries: entry.deliveries,
    };
    if (entry.deliveries > this.o.maxAttempts) {
      await this.deadLetter(
        entry,
        job,
        new DeliveryLimitError(entry.deliveries, this.o.maxAttempts),
      );
      return undefined;
    }
    return job;
  }

  private async runOne(entry: ClaimedEntry, job: Job, run: Running): Promise<void> {
    const started = performance.now();
    try {
      await this.o.handler(job, run.controller.signal);
    } catch (thrown) {
      if (run.abandoned) return;
      await this.fail(entry, job, toError(thrown));
      return;
    }
    if (run.abandoned) return;
    if (entry.failure) {
      const tx = this.o.redis.multi().xack(this.streamKey, this.o.group, entry.entryId);
      this.retries.forget(tx, entry.entryId);
      await tx.exec();
    } else {
      await this.acks.ack(entry.entryId);
    }
    this.o.metrics?.processed(this.o.group, performance.now() - started);
  }

  private async fail(entry: ClaimedEntry, job: Job, error: Error): Promise<void> {
    this.o.metrics?.failed(this.o.group);
    const code = errorCode(error);
    const permanent =
      isDeterministicFailure(error) ||
      error instanceof MalformedEntryError ||
      code === "PERMANENT" ||
      code === "MALFORMED_ENTRY";
    if (permanent || job.attempt >= this.o.maxAttempts) {
      await this.deadLetter(entry, job, error);
      return;
    }
    const now = new Date().toISOString();
    const delayMs = computeBackoff(job.attempt, this.o.backoff, this.o.random);
    await this.retries.park(entry.entryId, delayMs, {
      failures: job.attempt,
      firstFailedAt: entry.failure?.firstFailedAt || now,
      lastFailedAt: now,
      error: error.message,
      code,
    });
    this.o.metrics?.retried(this.o.group);
    this.log.warn(
      { ...traceFields(job), err: error, attempt: job.attempt, retryInMs: delayMs },
      "handler failed; retry scheduled",
    );
    // A blocked read would notice the retry only after blockMs; let it recompute its wait.
    if (delayMs < this.o.blockMs) void this.wakeReader();
  }

  private async deadLetter(entry: ClaimedEntry, job: Job | undefined, error: Error): Promise<void> {
    const now = new Date().toISOString();
    const deadLetterId = await writeDeadLetter(
      this.o.redis,
      {
        deadLetterKey: this.deadLetterKey,
        streamKey: this.streamKey,
        dueKey: this.retries.dueKey,
        failuresKey: this.retries.failuresKey,
      },
      {
        fields: entry.fields,
        sourceStreamName: this.o.stream,
        sourceId: entry.entryId,
        group: this.o.group,
        consumer: this.o.consumer,
        attempts: job?.attempt ?? (entry.failure?.failures ?? 0) + 1,
        deliveries: entry.deliveries,
        error,
        errorCode: errorCode(error),
        firstFailedAt: entry.failure?.firstFailedAt || now,
        lastFailedAt: now,
      },
    );
    this.o.metrics?.deadLettered(this.o.group);
    this.log.error(
      {
        ...(job ? traceFields(job) : {}),
        entryId: entry.entryId,
        deadLetterId,
        err: error,
        code: errorCode(error),
      },
      "entry moved to the dead letters",
    );
    if (!this.o.onDeadLetter) return;
    try {
      await this.o.onDeadLetter(job, error, { entryId: entry.entryId, fields: entry.fields });
    } catch (hookError) {
      // The dead letter is written and the entry acked; a failing hook must not undo that.
      this.log.error({ err: hookError, entryId: entry.entryId }, "onDeadLetter hook failed");
    }
  }

  private free(): number {
    return this.concurrency - this.inFlight.size;
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

function traceFields(job: Job): Record<string, unknown> {
  return {
    entryId: job.entryId,
    trace_id: job.envelope.traceId,
    enriched_trend_id: job.envelope.trendId,
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Whether `promise` settles within `ms`; clears its timer either way. */
async function settlesWithin(promise: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!promise) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
