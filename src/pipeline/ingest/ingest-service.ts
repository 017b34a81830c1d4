import { randomBytes, randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { sql } from "kysely";
import { z } from "zod";
import type { Db } from "../../db/database.js";
import { enqueueOutbox } from "../../db/outbox.js";
import { appendProvenance } from "../../db/provenance.js";
import type { TrendStatus } from "../../db/types.js";
import { DomainError } from "../../domain/domain-error.js";
import { DEFAULT_TENANT } from "../../domain/tenant-scope.js";
import type { Logger } from "../../observability/logger.js";
import { withItemSpan } from "../../observability/tracing.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { GROUPS, type StreamKeys, STREAMS } from "../../streams/stream-names.js";
import { announceTrendUpdate } from "../../services/trend-lifecycle.js";

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
  highWaterMark: number;
  defaultBudget: number;
}

const MAX_METADATA_BYTES = 16_384;

function inputSchema(limits: IngestLimits) {
  const optionalText = (max: number) =>
    z
      .string()
      .max(max, `must be at most ${max} characters`)
      .nullish()
      .transform((v) => (v == null || v.trim() === "" ? null : v.trim()));
  return z.object({
    source: z
      .string({ message: "is required" })
      .trim()
      .min(1, "is required")
      .max(200, "must be at most 200 characters")
      .regex(/^[\p{L}\p{N}_.:/@-]+$/u, "may hold letters, digits and _ . : / @ - only"),
    externalId: optionalText(200),
    title: optionalText(500),
    body: z
      .string({ message: "is required" })
      .refine((v) => v.trim().length > 0, "is required")
      .refine(
        (v) => v.length <= limits.bodyMaxChars,
        `must be at most ${limits.bodyMaxChars} characters`,
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
  return randomBytes(16).toString("hex");
}

/**
 * Accepts content from integrators: validates it, refuses with BACKPRESSURE when the ingest
 * stream is over its high-water mark, and writes the trend, its first provenance entry and the
 * `trend:ingest:stream` event in one transaction (outbox), so a receipt always means the item
 * will be processed. Idempotent on source + externalId, also under concurrent posts.
 */
export class IngestService {
  private readonly schema: ReturnType<typeof inputSchema>;
  private backpressureCheckedAt = 0;
  private backlog = 0;

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

  async ingest(input: TrendInputData, actor: string, origin?: IngestOrigin): Promise<IngestReceipt> {
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
    await this.checkBackpressure(valid.length);

    const outboxIds: string[] = [];
    const receipts = await this.deps.db.transaction().execute(async (trx) => {
      const out: IngestReceipt[] = [];
      for (const item of valid) {
        const traceId = newTraceId();
        // The item's trace starts here; the ingest event carries this span as its parent.
        const receipt = await withItemSpan(
          "ingest",
          { traceId },
          { "trendgate.source": item.source },
          async (span) => {
            const id = randomUUID();
            span.setAttribute("trendgate.trend_id", id);
            const inserted = await trx
              .insertInto("enriched_trends")
              .values({
                id,
                trace_id: traceId,
                source: item.source,
                external_id: item.externalId,
                title: item.title,
                body: item.body,
                url: item.url,
                author: item.author,
                published_at: item.publishedAt,
                metadata: JSON.stringify(item.metadata),
                budget_limit: this.deps.limits.defaultBudget,
                tenant: origin.tenant,
                ingested_by_key: origin.keyId ?? null,
              })
              // Idempotency is per tenant: another tenant's pair is a different trend.
              .onConflict((oc) => oc.columns(["tenant", "source", "external_id"]).doNothing())
              .returningAll()
              .executeTakeFirst();
            if (!inserted) {
              // Same source + externalId as an earlier post (or a concurrent one that committed first).
              const existing = await trx
                .selectFrom("enriched_trends")
                .select(["id", "trace_id", "status"])
                .where("tenant", "=", origin.tenant)
                .where("source", "=", item.source)
                .where("external_id", "=", item.externalId)
                .executeTakeFirstOrThrow();
              span.setAttribute("trendgate.duplicate", true);
              return {
                id: existing.id,
                traceId: existing.trace_id,
                status: existing.status,
                duplicate: true,
              };
            }
            await appendProvenance(trx, {
              traceId,
              trendId: id,
              step: "ingest",
              actor,
              // The first entry of a new trend: nothing to follow, no need to look.
              parentId: null,
              input: {
                source: item.source,
                externalId: item.externalId,
                title: item.title,
                url: item.url,
              },
              output: { status: "RECEIVED", bodyChars: item.body.length },
            });
            outboxIds.push(
              await enqueueOutbox(
                trx,
                STREAMS.ingest,
                makeEnvelope("trend.ingested", { traceId, trendId: id, payload: { trendId: id } }),
              ),
            );
            await announceTrendUpdate(trx, inserted, null, { actor, reason: "ingested" });
            this.deps.logger.info(
              { trace_id: traceId, enriched_trend_id: id, source: item.source },
              "trend ingested",
            );
            return { id, traceId, status: "RECEIVED" as TrendStatus, duplicate: false };
          },
        );
        out.push(receipt);
      }
      return out;
    });
    if (outboxIds.length && this.deps.flushOutbox) {
      // Fast path; the relay publishes anything this misses.
      this.deps
        .flushOutbox(outboxIds)
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error }, "outbox fast path failed; the relay will publish"),
        );
    }
    this.backlog += receipts.filter((r) => !r.duplicate).length;
    return receipts;
  }

  /**
   * Refuses new work while the ETL group's backlog (entries not yet delivered plus pending) is
   * over the high-water mark. Measured at most every 250 ms and counted locally in between, so a
   * burst cannot slip past between two measurements by much.
   */
  private async checkBackpressure(incoming: number): Promise<void> {
    const now = Date.now();
    if (now - this.backpressureCheckedAt > 250) {
      this.backlog = await this.measureBacklog();
      this.backpressureCheckedAt = now;
    }
    if (this.backlog + incoming > this.deps.limits.highWaterMark) {
      throw new DomainError(
        "BACKPRESSURE",
        `ingest is over its high-water mark (${this.backlog} items waiting, limit ${this.deps.limits.highWaterMark}); retry later`,
        { retryable: true, retryAfterMs: 1000, backlog: this.backlog },
      );
    }
  }

  private async measureBacklog(): Promise<number> {
    const key = this.deps.keys.key(STREAMS.ingest);
    const [groups, unsent] = await Promise.all([
      this.deps.redis.xinfo("GROUPS", key).catch(() => [] as unknown[]),
      this.deps.db
        .selectFrom("outbox")
        .select(sql<number>`count(*)::int`.as("n"))
        .where("stream", "=", STREAMS.ingest)
        .executeTakeFirst(),
    ]);
    let streamBacklog: number | undefined;
    for (const raw of groups as unknown[][]) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < raw.length; i += 2) info[String(raw[i])] = raw[i + 1];
      if (info.name === GROUPS.etl) {
        const lag = typeof info.lag === "number" ? info.lag : Number(info.lag ?? 0);
        streamBacklog = lag + Number(info.pending ?? 0);
      }
    }
    if (streamBacklog === undefined) streamBacklog = Number(await this.deps.redis.xlen(key));
    return streamBacklog + (unsent?.n ?? 0);
  }
}
