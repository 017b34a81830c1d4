import { type Kysely, sql } from "kysely";

import type { Database, TrendStatus } from "../../db/types.js";
import { toValidJson } from "../../domain/valid-text.js";
import { STREAMS } from "../../streams/stream-names.js";

export interface NewTrend {
  id: string;
  traceId: string;
  source: string;
  externalId: string | null;
  title: string | null;
  body: string;
  url: string | null;
  author: string | null;
  publishedAt: Date | null;
  metadata: Record<string, unknown>;
  budgetLimit: number;
  /** The first provenance entry's input and output. */
  provenance: { input: unknown; output: unknown };
  /** The `trend:ingest:stream` job and the `trend:updates` event (envelopes). */
  ingestEvent: unknown;
  updateEvent: unknown;
}

export interface InsertedBatch {
  /** Ids of the trends inserted (the others conflicted on source + externalId). */
  inserted: Set<string>;
  /** Outbox ids of the ingest jobs written. */
  ingestJobs: string[];
}

/**
 * The ingest write of a whole batch as ONE statement (atomic without an explicit transaction,
 * one round trip): the trends, then for each trend actually inserted its first provenance entry
 * and its two events, in input order. A trend whose source + externalId exists (posted earlier,
 * by a concurrent call that committed first, or earlier in this batch) is not inserted, and gets
 * neither provenance nor events.
 */
export async function insertTrendBatch(
  db: Kysely<Database>,
  items: readonly NewTrend[],
  actor: string,
  /** Whose batch: its tenant (idempotency is per tenant, source, externalId) and key. */
  origin: { tenant: string; keyId?: string | null },
): Promise<InsertedBatch> {
  // One jsonb parameter serialized once, not fifteen arrays escaped element by element by the
  // driver (see commitEnrichedBatch).
  const doc = items.map((i) => ({
    id: i.id,
    trace_id: i.traceId,
    source: i.source,
    external_id: i.externalId,
    title: i.title,
    body: i.body,
    url: i.url,
    author: i.author,
    published_at: i.publishedAt,
    metadata: i.metadata,
    budget_limit: i.budgetLimit,
    prov_input: i.provenance.input,
    prov_output: i.provenance.output,
    ingest_event: i.ingestEvent,
    update_event: i.updateEvent,
  }));
  const { rows } = await sql<{ kind: "trend" | "job"; id: string }>`
    WITH v AS (
      SELECT * FROM ROWS FROM (jsonb_to_recordset(${toValidJson(doc)}::jsonb) AS (
        id uuid, trace_id text, source text, external_id text, title text, body text, url text, author text,
        published_at timestamptz, metadata jsonb, budget_limit float8, prov_input jsonb, prov_output jsonb,
        ingest_event jsonb, update_event jsonb
      )) WITH ORDINALITY AS v(id, trace_id, source, external_id, title, body, url, author, published_at, metadata,
                              budget_limit, prov_input, prov_output, ingest_event, update_event, ord)
    ),
    ins AS (
      INSERT INTO enriched_trends (id, trace_id, source, external_id, title, body, url, author, published_at, metadata, budget_limit,
                                   tenant, ingested_by_key)
      SELECT v.id, v.trace_id, v.source, v.external_id, v.title, v.body, v.url, v.author, v.published_at, COALESCE(v.metadata, '{}'), v.budget_limit,
             ${origin.tenant}::text, ${origin.keyId ?? null}::text
      FROM v ORDER BY v.ord
      ON CONFLICT (tenant, source, external_id) DO NOTHING
      RETURNING id, embedding_status
    ),
    prov AS (
      INSERT INTO provenance_log (trace_id, trend_id, step, actor, input, output, parent_id)
      SELECT v.trace_id, v.id, 'ingest', ${actor}, v.prov_input, v.prov_output, NULL
      FROM v JOIN ins ON ins.id = v.id ORDER BY v.ord
    ),
    events AS (
      INSERT INTO outbox (stream, payload)
      SELECT e.stream, e.payload
      FROM v JOIN ins ON ins.id = v.id
      CROSS JOIN LATERAL (VALUES
        (1, ${STREAMS.ingest}::text, v.ingest_event),
        -- The update event reports the embedding status the row was given.
        (2, ${STREAMS.trendUpdates}::text, jsonb_set(v.update_event, '{payload,embeddingStatus}', to_jsonb(ins.embedding_status)))
      ) AS e(k, stream, payload)
      ORDER BY v.ord, e.k
      RETURNING id, stream
    )
    SELECT 'trend' AS kind, id::text AS id FROM ins
    UNION ALL
    SELECT 'job', id::text FROM events WHERE stream = ${STREAMS.ingest}`.execute(db);
  return {
    inserted: new Set(rows.filter((r) => r.kind === "trend").map((r) => r.id)),
    ingestJobs: rows.filter((r) => r.kind === "job").map((r) => r.id),
  };
}

/** The tenant's existing trends of these source + externalId pairs, keyed by {@link externalKey}. */
export async function findTrendsByExternalId(
  db: Kysely<Database>,
  keys: readonly { source: string; externalId: string }[],
  tenant: string,
): Promise<Map<string, { id: string; trace_id: string; status: TrendStatus }>> {
  if (keys.length === 0) return new Map();
  const { rows } = await sql<{
    id: string;
    trace_id: string;
    status: TrendStatus;
    source: string;
    external_id: string;
  }>`
    SELECT t.id, t.trace_id, t.status, t.source, t.external_id
    FROM enriched_trends t
    JOIN unnest(${keys.map((k) => k.source)}::text[], ${keys.map((k) => k.externalId)}::text[]) AS v(source, external_id)
      ON t.source = v.source AND t.external_id = v.external_id
    WHERE t.tenant = ${tenant}`.execute(db);
  return new Map(rows.map((r) => [externalKey(r.source, r.external_id), r]));
}

export function externalKey(source: string, externalId: string): string {
  return `${source}\u0000${externalId}`;
}
