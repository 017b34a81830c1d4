import { performance } from "node:perf_hooks";

import type { Logger } from "../../observability/logger.js";
import { type Envelope, MalformedEntryError, parseEnvelope } from "../../streams/envelope.js";
import type { AckBatcher } from "./ack-batcher.js";
import { computeBackoff } from "./backoff.js";
import { writeDeadLetter } from "./dead-letter.js";
import { errorCode, toError } from "./failure-record.js";
import type { Job, StreamConsumerOptions } from "./job.js";
import { DeliveryLimitError, isDeterministicFailure } from "./permanent-error.js";
import type { ClaimedEntry, RetrySchedule } from "./retry-schedule.js";

/** One dispatch (an entry, or the entries of one batch) while its handler runs. */
export interface Running {
  controller: AbortController;
  deliveredAt: number;
  /** Set when stop() gave up waiting: the outcome is ignored and the entry left pending. */
  abandoned: boolean;
  done: Promise<void>;
}

/**
 * Settles the entries a consumer owns: runs the handler (or the batch handler), then
 * acknowledges, schedules a retry or dead-letters each entry. The consumer (stream-consumer.ts)
 * decides what to read and when; this decides what becomes of each entry it hands over.
 */
export class EntrySettler {
  constructor(
    private readonly o: StreamConsumerOptions,
    private readonly log: Logger,
    private readonly streamKey: string,
    private readonly deadLetterKey: string,
    private readonly retries: RetrySchedule,
    private readonly acks: AckBatcher,
    /** A retry due sooner than the blocked read's timeout: let the read recompute its wait. */
    private readonly wakeReader: () => void,
    /** An entry settled: its slot is free for the next read. */
    private readonly onSlotFreed: () => void,
  ) {}

  /** Entries dispatched and not yet settled, by entry id: the slots in use. */
  readonly inFlight = new Map<string, Running>();

  /** Runs one entry alone; it holds a slot until settled. */
  dispatch(entry: ClaimedEntry): void {
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
        this.onSlotFreed();
      });
  }

  /** Runs the entries of one read through the batch handler; each holds a slot until settled. */
  dispatchBatch(entries: ClaimedEntry[]): void {
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
        this.onSlotFreed();
      });
  }

  /**
   * One read's entries through the batch handler: one commit and one XACK for all of them.
   * When the batch fails, each entry runs alone, so only a poison entry retries or dead-letters.
   */
  async executeBatch(entries: ClaimedEntry[], run: Running): Promise<void> {
    const ready: { entry: ClaimedEntry; job: Job }[] = [];
    for (const entry of entries) {
      const job = await this.prepare(entry);
      if (job) ready.push({ entry, job });
    }
    if (ready.length === 0) return;
    const started = performance.now();
    let alone: ReadonlySet<Job>;
    try {
      alone = new Set(
        await this.o.batchHandler!(
          ready.map((r) => r.job),
          run.controller.signal,
        ),
      );
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
      await this.o.redis.xack(
        this.streamKey,
        this.o.group,
        ...committed.map((r) => r.entry.entryId),
      );
      const perItemMs = (performance.now() - started) / ready.length;
      for (let i = 0; i < committed.length; i++) this.o.metrics?.processed(this.o.group, perItemMs);
    }
    for (const r of ready) {
      if (alone.has(r.job) && !run.abandoned) await this.runOne(r.entry, r.job, run);
    }
  }

  async execute(entry: ClaimedEntry, run: Running): Promise<void> {
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
    if (delayMs < this.o.blockMs) this.wakeReader();
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
}

function traceFields(job: Job): Record<string, unknown> {
  return {
    entryId: job.entryId,
    trace_id: job.envelope.traceId,
    enriched_trend_id: job.envelope.trendId,
  };
}
