import { sql, type Transaction } from "kysely";
import type { Database, TrendRow, TrendStatus } from "../../db/types.js";

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
}

/**
 * Inserts a batch of trends in one statement. A trend whose source + externalId exists already
 * (posted earlier, by a concurrent call that committed first, or earlier in this batch) is not
 * inserted and not returned.
 */
export async function insertTrends(trx: Transaction<Database>, items: readonly NewTrend[]): Promise<TrendRow[]> {
  const { rows } = await sql<TrendRow>`
    INSERT INTO enriched_trends (id, trace_id, source, external_id, title, body, url, author, published_at, metadata, budget_limit)
    SELECT v.id, v.trace_id, v.source, v.external_id, v.title, v.body, v.url, v.author, v.published_at, v.metadata::jsonb, v.budget_limit
    FROM unnest(
      ${items.map((i) => i.id)}::uuid[],
      ${items.map((i) => i.traceId)}::text[],
      ${items.map((i) => i.source)}::text[],
      ${items.map((i) => i.externalId)}::text[],
      ${items.map((i) => i.title)}::text[],
      ${items.map((i) => i.body)}::text[],
      ${items.map((i) => i.url)}::text[],
      ${items.map((i) => i.author)}::text[],
      ${items.map((i) => i.publishedAt)}::timestamptz[],
      ${items.map((i) => JSON.stringify(i.metadata))}::text[],
      ${items.map((i) => i.budgetLimit)}::float8[]
    ) WITH ORDINALITY AS v(id, trace_id, source, external_id, title, body, url, author, published_at, metadata, budget_limit, ord)
    ORDER BY v.ord
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING *`.execute(trx);
  return rows;
}

/** The existing trends of these source + externalId pairs, keyed `source\u0000externalId`. */
export async function findTrendsByExternalId(
  trx: Transaction<Database>,
  keys: readonly { source: string; externalId: string }[],
): Promise<Map<string, { id: string; trace_id: string; status: TrendStatus }>> {
  if (keys.length === 0) return new Map();
  const { rows } = await sql<{ id: string; trace_id: string; status: TrendStatus; source: string; external_id: string }>`
    SELECT t.id, t.trace_id, t.status, t.source, t.external_id
    FROM enriched_trends t
    JOIN unnest(${keys.map((k) => k.source)}::text[], ${keys.map((k) => k.externalId)}::text[]) AS v(source, external_id)
      ON t.source = v.source AND t.external_id = v.external_id`.execute(trx);
  return new Map(rows.map((r) => [externalKey(r.source, r.external_id), r]));
}

export function externalKey(source: string, externalId: string): string {
  return `${source}\u0000${externalId}`;
}
