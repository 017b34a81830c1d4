import { sql, type Transaction } from "kysely";

import type { ProvenanceInput } from "../../db/provenance.js";
import type { Database, TrendStatus } from "../../db/types.js";
import { toValidJson } from "../../domain/valid-text.js";
import type { Enrichment } from "../../nlp/enricher.js";
import { lockedCte } from "../batch-write.js";
import { enrichedColumns } from "./enrichment-record.js";

/** What one item of a batch writes when it moves to ENRICHED (with its plan if it had none). */
export interface EnrichedWrite {
  trendId: string;
  traceId: string;
  /** The status and budget the item was read with: if either changed, the item is not written. */
  readStatus: TrendStatus;
  readSpent: number;
  enrichment: Enrichment;
  etlCost: number;
  plan?: {
    intent: string;
    steps: unknown;
    budget: number;
    planner: string;
    cost: number;
    provenance: ProvenanceInput;
  };
  etlProvenance: ProvenanceInput;
  /** Its outbox events in order; `embeddingStatus` in those marked is set from the row as written. */
  events: { stream: string; envelope: unknown; setEmbeddingStatus: boolean }[];
}

/**
 * The ETL batch's whole write as ONE statement (run it in a transaction: the caller rolls back
 * when `charged` is short, i.e. a step of the batch was charged already). It locks the batch's
 * trends in id order (two batches never deadlock), then, for each item whose status and budget
 * are still as read and whose budget covers plan + etl, sets the enrichment columns and the
 * spend, charges the steps, stores the plan, appends the plan and etl provenance (etl follows
 * plan, or the trend's latest entry) and enqueues the events, in input order. Items not written
 * (changed since read, over budget) are left for the per-item path. One round trip instead of
 * the seven statements (and their scheduling waits on a busy machine) it replaces.
 */
export async function commitEnrichedBatch(
  trx: Transaction<Database>,
  items: readonly EnrichedWrite[],
): Promise<{ moved: Set<string>; charged: number }> {
  if (items.length === 0) return { moved: new Set(), charged: 0 };
  const cols = items.map((i) => enrichedColumns(i.enrichment));
  const planned = items.filter((i) => i.plan);
  const charges = items.flatMap((i) => [
    ...(i.plan ? [{ trendId: i.trendId, step: "plan", cost: i.plan.cost }] : []),
    { trendId: i.trendId, step: "etl", cost: i.etlCost },
  ]);
  const events = items.flatMap((i) => i.events.map((e) => ({ trendId: i.trendId, ...e })));
  const { rows } = await sql<{ moved: string[] | null; charged: number }>`
    WITH v AS (
      SELECT * FROM unnest(
        ${items.map((i) => i.trendId)}::uuid[],
        ${items.map((i) => i.readStatus)}::text[],
        ${items.map((i) => i.readSpent)}::float8[],
        ${items.map((i) => (i.plan?.cost ?? 0) + i.etlCost)}::float8[],
        ${cols.map((c) => c.normalized_body)}::text[],
        ${cols.map((c) => c.language)}::text[],
        ${cols.map((c) => c.sentiment_score)}::float8[],
        ${cols.map((c) => c.sentiment_label)}::text[],
        ${cols.map((c) => JSON.stringify(c.topics))}::text[],
        ${cols.map((c) => c.toxicity_score)}::float8[],
        ${cols.map((c) => c.confidence)}::float8[],
        ${cols.map((c) => c.summary)}::text[],
        ${cols.map((c) => c.enrichment)}::text[]
      ) AS v(id, read_status, read_spent, spend, normalized_body, language, sentiment_score, sentiment_label, topics,
             toxicity_score, confidence, summary, enrichment)
    ),
    ${lockedCte},
    upd AS (
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
      FROM v
      -- By primary key (see lockedCte): a condition on t.status alone would lead the planner to
      -- scan the status indexes, i.e. every RECEIVED/PLANNED trend (the backlog), for each read.
      WHERE t.id = v.id AND t.id = ANY(ARRAY(SELECT id FROM locked))
        AND t.status = v.read_status AND v.read_status IN ('RECEIVED', 'PLANNED') AND t.budget_spent = v.read_spent
        AND t.budget_spent + v.spend <= t.budget_limit + 1e-9
      RETURNING t.id, t.embedding_status
    ),
    charged AS (
      INSERT INTO budget_charges (trend_id, step, cost, unit)
      SELECT c.trend_id, c.step, c.cost, 'compute_unit'
      FROM unnest(${charges.map((c) => c.trendId)}::uuid[], ${charges.map((c) => c.step)}::text[], ${charges.map((c) => c.cost)}::float8[])
        AS c(trend_id, step, cost)
      WHERE c.trend_id IN (SELECT id FROM upd)
      ON CONFLICT (trend_id, step) DO NOTHING
      RETURNING trend_id
    ),
    p AS (
      SELECT * FROM unnest(
        ${planned.map((i) => i.trendId)}::uuid[],
        ${planned.map((i) => i.traceId)}::text[],
        ${planned.map((i) => i.plan!.intent)}::text[],
        ${planned.map((i) => toValidJson(i.plan!.steps))}::text[],
        ${planned.map((i) => i.plan!.budget)}::float8[],
        ${planned.map((i) => i.plan!.planner)}::text[],
        ${planned.map((i) => i.plan!.provenance.actor)}::text[],
        ${planned.map((i) => toValidJson(i.plan!.provenance.input ?? {}))}::text[],
        ${planned.map((i) => toValidJson(i.plan!.provenance.output ?? {}))}::text[]
      ) WITH ORDINALITY AS p(trend_id, trace_id, intent, steps, budget, planner, actor, input, output, ord)
      WHERE p.trend_id IN (SELECT id FROM upd)
    ),
    intents AS (
      INSERT INTO planner_intents (id, trend_id, trace_id, intent, steps, budget, planner)
      SELECT gen_random_uuid(), p.trend_id, p.trace_id, p.intent, p.steps::jsonb, p.budget, p.planner FROM p ORDER BY p.ord
      ON CONFLICT (trend_id) DO NOTHING
    ),
    plan_prov AS (
      INSERT INTO provenance_log (trace_id, trend_id, step, actor, input, output, parent_id)
      SELECT p.trace_id, p.trend_id, 'plan', p.actor, p.input::jsonb, p.output::jsonb,
        (SELECT l.id FROM provenance_log l WHERE l.trend_id = p.trend_id ORDER BY l.id DESC LIMIT 1)
      FROM p ORDER BY p.ord
      RETURNING id, trend_id
    ),
    -- The plan entries' ids by trend, built once: a join or a subquery per item scanned
    -- plan_prov once per item (the planner takes the CTEs for one row each), quadratic in the read.
    plan_prov_ids AS (
      SELECT jsonb_object_agg(trend_id::text, id) AS ids FROM plan_prov
    ),
    etl_prov AS (
      INSERT INTO provenance_log (trace_id, trend_id, step, actor, input, output, parent_id)
      SELECT e.trace_id, e.trend_id, 'etl', e.actor, e.input::jsonb, e.output::jsonb,
        COALESCE(((SELECT ids FROM plan_prov_ids) ->> e.trend_id::text)::bigint,
          (SELECT l.id FROM provenance_log l WHERE l.trend_id = e.trend_id ORDER BY l.id DESC LIMIT 1))
      FROM unnest(
        ${items.map((i) => i.trendId)}::uuid[],
        ${items.map((i) => i.traceId)}::text[],
        ${items.map((i) => i.etlProvenance.actor)}::text[],
        ${items.map((i) => toValidJson(i.etlProvenance.input ?? {}))}::text[],
        ${items.map((i) => toValidJson(i.etlProvenance.output ?? {}))}::text[]
      ) WITH ORDINALITY AS e(trend_id, trace_id, actor, input, output, ord)
      WHERE e.trend_id IN (SELECT id FROM upd)
      ORDER BY e.ord
    ),
    events AS (
      INSERT INTO outbox (stream, payload)
      SELECT ev.stream,
        CASE WHEN ev.set_status THEN jsonb_set(ev.payload::jsonb, '{payload,embeddingStatus}', to_jsonb(upd.embedding_status))
             ELSE ev.payload::jsonb END
      FROM unnest(
        ${events.map((e) => e.trendId)}::uuid[],
        ${events.map((e) => e.stream)}::text[],
        ${events.map((e) => toValidJson(e.envelope))}::text[],
        ${events.map((e) => e.setEmbeddingStatus)}::boolean[]
      ) WITH ORDINALITY AS ev(trend_id, stream, payload, set_status, ord)
      JOIN upd ON upd.id = ev.trend_id
      ORDER BY ev.ord
    )
    SELECT (SELECT array_agg(id::text) FROM upd) AS moved, (SELECT count(*)::int FROM charged) AS charged`.execute(
    trx,
  );
  return { moved: new Set(rows[0]?.moved ?? []), charged: rows[0]?.charged ?? 0 };
}
