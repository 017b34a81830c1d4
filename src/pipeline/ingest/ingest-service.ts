import { randomUUID } from "node:crypto";

import type { Span } from "@opentelemetry/api";
import type { Redis } from "ioredis";
import { z } from "zod";

import type { Db } from "../../db/database.js";
import type { TrendStatus } from "../../db/types.js";
import { DomainError } from "../../domain/domain-error.js";
import { DEFAULT_TENANT } from "../../domain/tenant-scope.js";
import { toValidText } from "../../domain/valid-text.js";
import type { Logger } from "../../observability/logger.js";
import { randomHex } from "../../observability/random-hex.js";
import { endSpan, startItemSpan, traceparentOf } from "../../observability/tracing.js";
import { makeEnvelope } from "../../streams/envelope.js";
import type { StreamKeys } from "../../streams/stream-names.js";
import { trendUpdatedEnvelope } from "../trend-lifecycle.js";
import { Backpressure } from "./backpressure.js";
import {
  externalKey,
  findTrendsByExternalId,
  insertTrendBatch,
  type NewTrend,
} from "./ingest-queries.js";

export interface TrendInputData {
  source: string;
  externalId?: string | null;
  title?: string | null;
  body: string;
  url?: string | null;
  author?: string | null;
  publishedAt?: Date | string | null;
  metadata?: unknown;
}

export interface IngestReceipt {
  id: string;
  traceId: string;
  status: TrendStatus;
  duplicate: boolean;
}

/** Who posts: the tenant the trends belong to and the key that posted them. */
export interface IngestOrigin {
  tenant: string;
  keyId?: string | null;
}

export interface IngestLimits {
  bodyMaxChars: number;
  maxBatch: number;
  /** ETL backlog above which ingest answers BACKPRESSURE. */
  highWaterMark: number;
  /** Backlog of any later stage (embedding, judge, publisher) above which ingest does too; default highWaterMark. */
  stageHighWaterMark?: number;
  defaultBudget: number;
}

const MAX_METADATA_BYTES = 16_384;

function inputSchema(limits: IngestLimits) {
  // Text is made valid first (lone surrogates → U+FFFD, U+0000 removed; domain/valid-text.ts),
  // so limits and "is required" judge what will be stored: a body of NULs is an empty body.
  const validString = () => z.string({ message: "is required" }).transform(toValidText);
  const optionalText = (max: number) =>
    validString()
      .pipe(z.string().max(max, `must be at most ${max} characters`))
      .nullish()
      .transform((v) => (v == null || v.trim() === "" ? null : v.trim()));
  return z.object({
    source: validString().pipe(
      z
        .string()
        .trim()
        .min(1, "is required")
        .max(200, "must be at most 200 characters")
        .regex(/^[\p{L}\p{N}_.:/@-]+$/u, "may hold letters, digits and _ . : / @ - only"),
    ),
    externalId: optionalText(200),
    title: optionalText(500),
    body: validString().pipe(
      z
        .string()
        .refine((v) => v.trim().length > 0, "is required")
        .refine(
          (v) => v.length <= limits.bodyMaxChars,
          `must be at most ${limits.bodyMaxChars} characters`,
        ),
    ),
    url: z
      .string()
      .max(2048, "must be at most 2048 characters")
      .nullish()
      .refine((v) => v == null || isHttpUrl(v), "must be an absolute http(s) URL")
      .transform((v) => v ?? null),
    author: optionalText(200),
    publishedAt: z
      .union([z.date(), z.string()])
      .nullish()
      .transform((v, ctx) => {
        if (v == null) return null;
        const d = v instanceof Date ? v : new Date(v);
        if (Number.isNaN(d.getTime())) {
          ctx.addIssue({ code: "custom", message: "must be an ISO 8601 date-time" });
          return z.NEVER;
        }
        return d;
      }),
    metadata: z
      .unknown()
      .optional()
      .refine(
        (v) => v === undefined || v === null || (typeof v === "object" && !Array.isArray(v)),
        "must be a JSON object",
      )
      .refine(
        (v) => v == null || Buffer.byteLength(JSON.stringify(v)) <= MAX_METADATA_BYTES,
        `must serialize to at most ${MAX_METADATA_BYTES} bytes`,
      )
      .transform((v) => (v ?? {}) as Record<string, unknown>),
  });
}

type ValidInput = z.output<ReturnType<typeof inputSchema>>;

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

/** W3C trace ids: 16 random bytes as 32 hex characters, so OpenTelemetry can adopt them as-is. */
export function newTraceId(): string {
  return randomHex(16);
}

/**
 * Accepts content from integrators: validates it, refuses with BACKPRESSURE when the ingest
 * stream is over its high-water mark, and writes the trend, its first provenance entry and the
 * `trend:ingest:stream` event in one transaction (outbox), so a receipt always means the item
 * will be processed. Idempotent on source + externalId, also under concurrent posts.
 */
export class IngestService {
  private readonly schema: ReturnType<typeof inputSchema>;
  private readonly backpressure: Backpressure;

  constructor(
    private readonly deps: {
      db: Db;
      redis: Redis;
      keys: StreamKeys;
      limits: IngestLimits;
      logger: Logger;
      /** Publish these outbox rows now instead of waiting for the relay's next poll. */
      flushOutbox?: (ids: string[]) => Promise<unknown>;
    },
  ) {
    this.schema = inputSchema(deps.limits);
    this.backpressure = new Backpressure({
      db: deps.db,
      redis: deps.redis,
      keys: deps.keys,
      ingestHighWaterMark: deps.limits.highWaterMark,
      stageHighWaterMark: deps.limits.stageHighWaterMark ?? deps.limits.highWaterMark,
    });
  }

  /** Validates without writing; throws BAD_USER_INPUT naming the field (e.g. `inputs[2].url`). */
  validate(inputs: TrendInputData[], fieldPrefix: (index: number) => string): ValidInput[] {
    return inputs.map((input, index) => {
      const parsed = this.schema.safeParse(input);
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0]!;
      const field = `${fieldPrefix(index)}.${issue.path.join(".") || "?"}`;
      throw new DomainError("BAD_USER_INPUT", `${field} ${issue.message}`, {
        field,
        fields: parsed.error.issues.map((i) => `${fieldPrefix(index)}.${i.path.join(".")}`),
      });
    });
  }

  async ingest(
    input: TrendInputData,
    actor: string,
    origin?: IngestOrigin,
  ): Promise<IngestReceipt> {
    const [receipt] = await this.ingestMany([input], actor, () => "input", origin);
    return receipt!;
  }

  async ingestMany(
    inputs: TrendInputData[],
    actor: string,
    fieldPrefix: (index: number) => string = (i) => `inputs[${i}]`,
    origin: IngestOrigin = { tenant: DEFAULT_TENANT },
  ): Promise<IngestReceipt[]> {
    if (inputs.length === 0)
      throw new DomainError("BAD_USER_INPUT", "inputs must not be empty", { field: "inputs" });
    if (inputs.length > this.deps.limits.maxBatch) {
      throw new DomainError(
        "BAD_USER_INPUT",
        `inputs must hold at most ${this.deps.limits.maxBatch} items`,
        {
          field: "inputs",
        },
      );
    }
    const valid = this.validate(inputs, fieldPrefix);
    await this.backpressure.check(valid.length);

    const { receipts, outboxIds } = await this.write(valid, actor, origin);
    if (outboxIds.length && this.deps.flushOutbox) {
      // Fast path; the relay publishes anything this misses.
      this.deps
        .flushOutbox(outboxIds)
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error }, "outbox fast path failed; the relay will publish"),
        );
    }
    this.backpressure.admitted(receipts.filter((r) => !r.duplicate).length);
    return receipts;
  }

  /**
   * The ingest write for a whole batch: one statement inserts the trends, their first
   * provenance entries and their events (the ingest job, then the trend update), atomically.
   * A duplicate's receipt is looked up after, which also sees a concurrent call that committed
   * first. One span per item under its new trace; one log line per batch.
   */
  private async write(
    valid: ValidInput[],
    actor: string,
    origin: IngestOrigin,
  ): Promise<{ receipts: IngestReceipt[]; outboxIds: string[] }> {
    // The item's trace starts here; its events carry the ingest span as their parent.
    const spans: Span[] = [];
    const items: NewTrend[] = valid.map((v) => {
      const id = randomUUID();
      const traceId = newTraceId();
      const span = startItemSpan(
        "ingest",
        { traceId },
        { "trendgate.source": v.source, "trendgate.trend_id": id },
      );
      spans.push(span);
      const traceparent = traceparentOf(span);
      return {
        id,
        traceId,
        source: v.source,
        externalId: v.externalId,
        title: v.title,
        body: v.body,
        url: v.url,
        author: v.author,
        publishedAt: v.publishedAt,
        metadata: v.metadata,
        budgetLimit: this.deps.limits.defaultBudget,
        provenance: {
          input: { source: v.source, externalId: v.externalId, title: v.title, url: v.url },
          output: { status: "RECEIVED", bodyChars: v.body.length },
        },
        ingestEvent: makeEnvelope("trend.ingested", {
          traceId,
          trendId: id,
          traceparent,
          payload: { trendId: id },
        }),
        updateEvent: trendUpdatedEnvelope(
          { id, trace_id: traceId, status: "RECEIVED", embedding_status: "PENDING" },
          null,
          { actor, reason: "ingested", traceparent },
        ),
      };
    });
    try {
      const { inserted, ingestJobs } = await insertTrendBatch(this.deps.db, items, actor, origin);
      const duplicates = items.filter((i) => !inserted.has(i.id));
      const existing = await findTrendsByExternalId(
        this.deps.db,
        duplicates.map((d) => ({ source: d.source, externalId: d.externalId! })),
        origin.tenant,
      );
      const receipts = items.map((item, i): IngestReceipt => {
        if (inserted.has(item.id))
          return { id: item.id, traceId: item.traceId, status: "RECEIVED", duplicate: false };
        // Same source + externalId as an earlier post (or a concurrent one that committed first).
        spans[i]!.setAttribute("trendgate.duplicate", true);
        const found = existing.get(externalKey(item.source, item.externalId!));
        if (!found)
          throw new Error(`trend ${item.source}/${item.externalId} conflicted but cannot be found`);
        return { id: found.id, traceId: found.trace_id, status: found.status, duplicate: true };
      });
      for (const span of spans) endSpan(span);
      this.deps.logger.info(
        { items: items.length, duplicates: duplicates.length, actor },
        "trends ingested",
      );
      return { receipts, outboxIds: ingestJobs };
    } catch (error) {
      for (const span of spans) endSpan(span, error);
      throw error;
    }
  }
}
