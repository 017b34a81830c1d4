import type { Redis } from "ioredis";

import type { Db } from "../db/database.js";
import { appendProvenance } from "../db/provenance.js";
import { trendExists } from "../db/trend-lock-queries.js";
import { badInput } from "../domain/domain-error.js";
import type { Logger } from "../observability/logger.js";
import { withItemSpan } from "../observability/tracing.js";
import {
  DEAD_LETTER_STREAMS,
  serviceConsumerOf,
  stageOfDeadLetters,
  stageOfStream,
} from "../pipeline/registry.js";
import { reopenFailed } from "../pipeline/stage-failure.js";
import { type Envelope, fieldsToRecord, parseEnvelope } from "../streams/envelope.js";
import type { StreamKeys } from "../streams/stream-names.js";

export interface DeadLetterEntry {
  id: string;
  stream: string;
  sourceStream: string;
  sourceId: string | null;
  group: string | null;
  trendId: string | null;
  error: string;
  errorCode: string | null;
  attempts: number;
  firstFailedAt: Date | null;
  lastFailedAt: Date | null;
  envelope: Envelope | null;
  /** The raw envelope field, kept for entries whose envelope does not parse. */
  raw: string | undefined;
}

export interface DeadLetterFilter {
  ids?: string[];
  /** Only entries that failed at or after / before this time. */
  since?: Date;
  until?: Date;
  /** Substring of the error message or its code (case-insensitive). */
  error?: string;
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** A dead-letter stream by its name, or by the name of the stream it serves (from the registry). */
export function resolveDeadLetterStream(stream: string): string {
  const stage = stageOfDeadLetters(stream) ?? stageOfStream(stream) ?? serviceConsumerOf(stream);
  if (stage) return stage.deadLetterStream;
  throw badInput("stream", `must be one of ${DEAD_LETTER_STREAMS.join(", ")}`);
}

/**
 * Reads and replays dead letters. A replay re-adds the original job to its stream with a fresh
 * attempt count, records the replay in provenance, and only then deletes the dead letter, so a
 * crash in between leaves the entry to replay again — harmless, because every stage is
 * idempotent (replaying twice does not embed twice).
 */
export class DeadLetterService {
  constructor(private readonly deps: { redis: Redis; keys: StreamKeys; db: Db; logger: Logger }) {}

  async list(
    stream: string,
    options: { first: number; after?: string },
  ): Promise<{
    items: DeadLetterEntry[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    totalCount: number;
  }> {
    const dlq = resolveDeadLetterStream(stream);
    const first = Math.min(Math.max(options.first, 1), 500);
    const start = options.after ? `(${options.after}` : "-";
    const key = this.deps.keys.key(dlq);
    const [raw, total] = await Promise.all([
      this.deps.redis.xrange(key, start, "+", "COUNT", first + 1),
      this.deps.redis.xlen(key),
    ]);
    const items = raw
      .slice(0, first)
      .map(([id, fields]) => parseDeadLetter(dlq, id, fieldsToRecord(fields)));
    return {
      items,
      pageInfo: { hasNextPage: raw.length > first, endCursor: items.at(-1)?.id ?? null },
      totalCount: total,
    };
  }

  /** Every entry of the stream that matches the filter, oldest first. */
  async find(stream: string, filter: DeadLetterFilter = {}): Promise<DeadLetterEntry[]> {
    const dlq = resolveDeadLetterStream(stream);
    const key = this.deps.keys.key(dlq);
    const out: DeadLetterEntry[] = [];
    if (filter.ids?.length) {
      // Redis refuses a malformed entry id with an error; say which argument was wrong instead.
      const bad = filter.ids.find((id) => !STREAM_ID.test(id));
      if (bad !== undefined)
        throw badInput("ids", `"${bad.slice(0, 40)}" is not a stream entry id (<ms>-<seq>)`);
      for (const id of filter.ids) {
        const [entry] = await this.deps.redis.xrange(key, id, id);
        if (entry) out.push(parseDeadLetter(dlq, entry[0], fieldsToRecord(entry[1])));
      }
    } else {
      let start = "-";
      for (;;) {
        const page = await this.deps.redis.xrange(key, start, "+", "COUNT", 500);
        for (const [id, fields] of page) out.push(parseDeadLetter(dlq, id, fieldsToRecord(fields)));
        if (page.length < 500) break;
        start = `(${page.at(-1)![0]}`;
      }
    }
    const needle = filter.error?.toLowerCase();
    return out.filter(
      (e) =>
        (!filter.since || (e.lastFailedAt ?? new Date(0)) >= filter.since) &&
        (!filter.until || (e.lastFailedAt ?? new Date(0)) < filter.until) &&
        (!needle ||
          e.error.toLowerCase().includes(needle) ||
          (e.errorCode ?? "").toLowerCase().includes(needle)),
    );
  }

  async replay(
    stream: string,
    options: {
      ids?: string[];
      filter?: DeadLetterFilter;
      actor: string;
      onProgress?: (done: number, total: number) => void;
    },
  ): Promise<{ replayed: number; ids: string[]; skipped: string[] }> {
    const dlq = resolveDeadLetterStream(stream);
    const entries = await this.find(dlq, { ...options.filter, ids: options.ids });
    const found = new Set(entries.map((e) => e.id));
    const skipped = (options.ids ?? []).filter((id) => !found.has(id));
    const replayed: string[] = [];
    let done = 0;
    for (const entry of entries) {
      if (!entry.envelope || !entry.raw || !entry.sourceStream) {
        // An envelope that never parsed would only fail again; it stays for an operator to purge.
        skipped.push(entry.id);
      } else {
        await this.replayOne(dlq, entry, options.actor);
        replayed.push(entry.id);
      }
      options.onProgress?.(++done, entries.length);
    }
    this.deps.logger.info(
      { stream: dlq, replayed: replayed.length, skipped: skipped.length, actor: options.actor },
      "dead letters replayed",
    );
    return { replayed: replayed.length, ids: replayed, skipped };
  }

  async purge(stream: string, filter: DeadLetterFilter = {}): Promise<number> {
    const dlq = resolveDeadLetterStream(stream);
    const entries = await this.find(dlq, filter);
    if (entries.length === 0) return 0;
    return this.deps.redis.xdel(this.deps.keys.key(dlq), ...entries.map((e) => e.id));
  }

  /** One replay is a step of the item's trace like any other (a `replay` span). */
  private replayOne(dlq: string, entry: DeadLetterEntry, actor: string): Promise<void> {
    const envelope = entry.envelope!;
    return withItemSpan(
      "replay",
      envelope,
      { "trendgate.dead_letter_id": entry.id, "trendgate.stream": entry.sourceStream },
      () => this.reenqueue(dlq, entry, envelope, actor),
    );
  }

  private async reenqueue(
    dlq: string,
    entry: DeadLetterEntry,
    envelope: Envelope,
    actor: string,
  ): Promise<void> {
    const target = entry.sourceStream;
    // The item waits for its stage again; FAILED would be a lie once the job is re-enqueued.
    if (
      envelope.trendId &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(envelope.trendId)
    )
      await reopenFailed(this.deps.db, envelope.trendId, `operator:${actor}`);
    const newId = await this.deps.redis.xadd(
      this.deps.keys.key(target),
      "*",
      "envelope",
      entry.raw!,
      "attempt",
      "1",
    );
    if (envelope.trendId) {
      if (await trendExists(this.deps.db, envelope.trendId)) {
        await appendProvenance(this.deps.db, {
          traceId: envelope.traceId,
          trendId: envelope.trendId,
          step: "replay",
          actor: `operator:${actor}`,
          input: {
            deadLetterStream: dlq,
            deadLetterId: entry.id,
            error: entry.error,
            attempts: entry.attempts,
          },
          output: { stream: target, entryId: newId },
        });
      }
    }
    await this.deps.redis.xdel(this.deps.keys.key(dlq), entry.id);
  }
}

export function parseDeadLetter(
  stream: string,
  id: string,
  fields: Record<string, string>,
): DeadLetterEntry {
  let envelope: Envelope | null;
  try {
    envelope = parseEnvelope(fields.envelope);
  } catch {
    envelope = null;
  }
  const date = (v: string | undefined) => (v && !Number.isNaN(Date.parse(v)) ? new Date(v) : null);
  return {
    id,
    stream,
    sourceStream: fields.source_stream ?? "",
    sourceId: fields.source_id ?? null,
    group: fields.group ?? null,
    trendId: envelope?.trendId ?? null,
    error: fields.error ?? "",
    errorCode: fields.error_code ?? null,
    attempts: Number(fields.attempts ?? fields.attempt ?? 0),
    firstFailedAt: date(fields.first_failed_at),
    lastFailedAt: date(fields.last_failed_at),
    envelope,
    raw: fields.envelope,
  };
}
