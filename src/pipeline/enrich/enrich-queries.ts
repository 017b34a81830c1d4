import { sql, type Transaction } from "kysely";
import type { Database, TrendRow, TrendStatus } from "../../db/types.js";
import type { Enrichment } from "../../nlp/enricher.js";
import { enrichedColumns } from "./enrichment-record.js";

/** What the events of an enriched trend need (not the whole row: bodies are large). */
export type EnrichedRow = Pick<TrendRow, "id" | "trace_id" | "status" | "embedding_status">;

export interface BudgetRow {
  id: string;
  status: TrendStatus;
  budget_spent: number;
  budget_limit: number;
}

/**
 * Locks the trends a batch writes, in id order (so two batches never deadlock), and returns
 * their status and budget as they are now.
 */
export async function lockTrends(trx: Transaction<Database>, ids: readonly string[]): Promise<Map<string, BudgetRow>> {
  const { rows } = await sql<BudgetRow>`
    SELECT id, status, budget_spent, budget_limit FROM enriched_trends
    WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`.execute(trx);
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Claims the (trend, step) charges of a batch in one statement; returns how many were new. A
 * charge that exists already means the step ran: the caller must roll back and let the items
 * go one by one, where the budget rules handle that case.
 */
export async function claimCharges(
  trx: Transaction<Database>,
  charges: readonly { trendId: string; step: string; cost: number }[],
): Promise<number> {
  if (charges.length === 0) return 0;
  const { rows } = await sql<{ trend_id: string }>`
    INSERT INTO budget_charges (trend_id, step, cost, unit)
    SELECT v.trend_id, v.step, v.cost, 'compute_unit'
    FROM unnest(${charges.map((c) => c.trendId)}::uuid[], ${charges.map((c) => c.step)}::text[], ${charges.map((c) => c.cost)}::float8[])
      AS v(trend_id, step, cost)
    ON CONFLICT (trend_id, step) DO NOTHING
    RETURNING trend_id`.execute(trx);
  return rows.length;
}

/**
 * Moves a batch of locked PLANNED or RECEIVED trends to ENRICHED in one UPDATE … FROM unnest:
 * their enrichment columns, and what the plan and etl steps cost added to budget_spent.
 */
export async function writeEnrichments(
  trx: Transaction<Database>,
  items: readonly { trendId: string; spend: number; enrichment: Enrichment }[],
): Promise<EnrichedRow[]> {
  if (items.length === 0) return [];
  const cols = items.map((i) => enrichedColumns(i.enrichment));
  const { rows } = await sql<EnrichedRow>`
    UPDATE enriched_trends t SET
      status = 'ENRICHED',
      budget_spent = t.budget_spent + v.spend,
      normalized_body = v.normalized_body,
      language = v.language,
      sentiment_score = v.sentiment_score,
      sentiment_label = v.sentiment_label,
      topics = ARRAY(SELECT jsonb_array_elements_text(v.topics::jsonb)),
      toxicity_score = v.toxicity_score,
      confidence = v.confidence,
      summary = v.summary,
      enrichment = v.enrichment::jsonb,
      updated_at = now()
    FROM unnest(
      ${items.map((i) => i.trendId)}::uuid[],
      ${items.map((i) => i.spend)}::float8[],
      ${cols.map((c) => c.normalized_body)}::text[],
      ${cols.map((c) => c.language)}::text[],
      ${cols.map((c) => c.sentiment_score)}::float8[],
      ${cols.map((c) => c.sentiment_label)}::text[],
      ${cols.map((c) => JSON.stringify(c.topics))}::text[],
      ${cols.map((c) => c.toxicity_score)}::float8[],
      ${cols.map((c) => c.confidence)}::float8[],
      ${cols.map((c) => c.summary)}::text[],
      ${cols.map((c) => c.enrichment)}::text[]
    ) AS v(id, spend, normalized_body, language, sentiment_score, sentiment_label, topics, toxicity_score, confidence, summary, enrichment)
    WHERE t.id = v.id AND t.status IN ('RECEIVED', 'PLANNED')
    RETURNING t.id, t.trace_id, t.status, t.embedding_status`.execute(trx);
  return rows;
}
