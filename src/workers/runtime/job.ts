import type { Redis } from "ioredis";

import type { Logger } from "../../observability/logger.js";
import type { Envelope } from "../../streams/envelope.js";
import type { StreamKeys } from "../../streams/stream-names.js";
import type { ConsumerMetrics } from "./consumer-metrics.js";

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
