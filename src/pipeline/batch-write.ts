import { type RawBuilder, sql } from "kysely";

import type { TrendStatus } from "../db/types.js";
import { toValidJson } from "../domain/valid-text.js";

/**
 * What one item of a batch stage writes when it moves on (the batch queries of enrich, embed
 * and judge take a list of these): checked against the budget it was read with, charged, its
 * provenance entry, and its outbox events in order.
 */
export interface StageBatchWrite {
  trendId: string;
  traceId: string;
  /** The budget the item was read with: if it changed, the item is not written. */
  readSpent: number;
  cost: number;
  provenance: { actor: string; input: unknown; output: unknown };
  /** Its outbox events in order (the trend update, then the next stage's job). */
  events: { stream: string; envelope: unknown }[];
}

/** A column of a batch query's items (`v`): its name, its Postgres type, one value per item. */
export interface ItemColumn {
  name: string;
  type: "uuid" | "text" | "int" | "float8";
  values: readonly unknown[];
}

/**
 * `v`, the items of a batch stage's query: id, trace_id, read_spent, cost, actor, input, output
 * (what every stage writes), then the stage's own `extra` columns, and `ord` (input order). One
 * array parameter per column, unnested together.
 */
export function itemsCte(
  items: readonly Pick<
    StageBatchWrite,
    "trendId" | "traceId" | "readSpent" | "cost" | "provenance"
  >[],
  extra: readonly ItemColumn[] = [],
): RawBuilder<unknown> {
  const columns: ItemColumn[] = [
    { name: "id", type: "uuid", values: items.map((i) => i.trendId) },
    { name: "trace_id", type: "text", values: items.map((i) => i.traceId) },
    { name: "read_spent", type: "float8", values: items.map((i) => i.readSpent) },
    { name: "cost", type: "float8", values: items.map((i) => i.cost) },
    { name: "actor", type: "text", values: items.map((i) => i.provenance.actor) },
    { name: "input", type: "text", values: items.map((i) => toValidJson(i.provenance.input)) },
    { name: "output", type: "text", values: items.map((i) => toValidJson(i.provenance.output)) },
    ...extra,
  ];
  // Names and types come from this module and its callers' constants, never from input.
  return sql`v AS (
      SELECT * FROM unnest(${sql.join(columns.map((c) => sql`${c.values}::${sql.raw(c.type)}[]`))})
        WITH ORDINALITY AS v(${sql.raw(columns.map((c) => c.name).join(", "))}, ord)
    )`;
}

/**
 * The parts of a batch query around its status update: `locked` takes the rows of the items in
 * `v` in id order (so two batches never deadlock), `charged` charges `step` for each trend in
 * `upd` once (a short count tells the caller a charge existed and it must roll back).
 * `locked` takes `= ANY(ARRAY(…))`, not `IN (SELECT …)`: with the latter the planner hash-joined
 * `v` against a sequential scan of every trend, a cost that grows with the table (EXPLAIN: 1.4 ms
 * per read at 2,000 trends); the array is one value and goes through the primary key.
 */
export const lockedCte: RawBuilder<unknown> = sql`locked AS (
      SELECT t.id FROM enriched_trends t WHERE t.id = ANY(ARRAY(SELECT id FROM v)) ORDER BY t.id FOR UPDATE
    )`;

export function chargedCte(step: string): RawBuilder<unknown> {
  return sql`charged AS (
      INSERT INTO budget_charges (trend_id, step, cost, unit)
      SELECT v.id, ${step}::text, v.cost, 'compute_unit' FROM v WHERE v.id IN (SELECT id FROM upd)
      ON CONFLICT (trend_id, step) DO NOTHING
      RETURNING trend_id
    )`;
}

/**
 * `upd`, the status move of a batch stage: each locked item still in `from` goes to `to` with
 * its step's cost added, only if its spend is what the read saw (no charge since) and the cost
 * fits its budget; `alsoSet` sets further columns (`embedding_status = 'SUCCEEDED',`).
 */
export function guardedMoveCte(
  from: TrendStatus,
  to: TrendStatus,
  alsoSet: RawBuilder<unknown> = sql``,
): RawBuilder<unknown> {
  return sql`upd AS (
      UPDATE enriched_trends t SET
        status = ${to}, ${alsoSet}
        budget_spent = t.budget_spent + v.cost,
        updated_at = now()
      FROM v
      WHERE t.id = v.id AND t.id IN (SELECT id FROM locked)
        AND t.status = ${from} AND t.budget_spent = v.read_spent
        AND t.budget_spent + v.cost <= t.budget_limit + 1e-9
      RETURNING t.id
    )`;
}

/**
 * The last two parts of a batch query (a `WITH` list whose `v` holds the items, with columns
 * id, trace_id, actor, input, output and ord, and whose `upd` holds the ids that moved): the
 * provenance entry of `step` after each moved trend's latest, then its outbox events in input
 * order. Shared so every batch stage writes provenance and events alike.
 */
export function provenanceAndEventsCtes(
  step: string,
  items: readonly Pick<StageBatchWrite, "trendId" | "events">[],
): RawBuilder<unknown> {
  const events = items.flatMap((i) => i.events.map((e) => ({ trendId: i.trendId, ...e })));
  return sql`prov AS (
      INSERT INTO provenance_log (trace_id, trend_id, step, actor, input, output, parent_id)
      SELECT v.trace_id, v.id, ${step}::text, v.actor, v.input::jsonb, v.output::jsonb,
        (SELECT l.id FROM provenance_log l WHERE l.trend_id = v.id ORDER BY l.id DESC LIMIT 1)
      FROM v WHERE v.id IN (SELECT id FROM upd) ORDER BY v.ord
    ),
    events AS (
      INSERT INTO outbox (stream, payload)
      SELECT ev.stream, ev.payload::jsonb
      FROM unnest(
        ${events.map((e) => e.trendId)}::uuid[],
        ${events.map((e) => e.stream)}::text[],
        ${events.map((e) => toValidJson(e.envelope))}::text[]
      ) WITH ORDINALITY AS ev(trend_id, stream, payload, ord)
      WHERE ev.trend_id IN (SELECT id FROM upd)
      ORDER BY ev.ord
    )`;
}
