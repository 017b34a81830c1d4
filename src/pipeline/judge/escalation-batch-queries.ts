import { sql, type Transaction } from "kysely";

import { enqueueOutboxMany } from "../../db/outbox.js";
import type { Database, IssueType } from "../../db/types.js";
import { toValidJson } from "../../domain/valid-text.js";
import type { Envelope } from "../../streams/envelope.js";
import {
  chargedCte,
  guardedMoveCte,
  itemsCte,
  lockedCte,
  type StageBatchWrite,
} from "../batch-write.js";

/**
 * What one item of a judge batch writes when the policy (or the audit sample) escalates it: what
 * a READY item writes (`events` is its trend update), plus the escalation row and, only if that
 * row is new, its announcements (openEscalation's `escalation.created` and webhook events).
 */
export interface EscalationWrite extends StageBatchWrite {
  escalation: {
    id: string;
    issueType: IssueType;
    reason: string;
    rule: string;
    scores: Record<string, unknown>;
  };
  /** Written only if the escalation row was inserted; the first gets `provenanceId` set. */
  announcements: { stream: string; envelope: Envelope }[];
  /** An earlier override's publish job, built for its id (written after the statement). */
  overrideJob: (overrideId: string) => { stream: string; envelope: Envelope };
}

/**
 * The judge batch's escalations as ONE statement plus one query for earlier overrides (in a
 * transaction; the caller rolls back when `charged` is short). Same guards as commitReadyBatch:
 * locked in id order, only items still EMBEDDED with the budget they were read with and room for
 * the charge move to ESCALATED; each gets the charge, the provenance entry (after the trend's
 * latest), its trend update, the escalation (ON CONFLICT as openEscalation: at most one
 * unresolved of a kind per trend) and, if that row is new, the announcements, whose
 * `provenanceId` is the entry written here. Was ~13 round trips per item through the per-item
 * handler (the load test's Judge bottleneck).
 */
export async function commitEscalationBatch(
  trx: Transaction<Database>,
  items: readonly EscalationWrite[],
): Promise<{ moved: Set<string>; charged: number }> {
  if (items.length === 0) return { moved: new Set(), charged: 0 };
  // Events in item order: the trend update first, then (if the row is new) the announcements.
  const events = items.flatMap((i) => [
    ...i.events.map((e) => ({ trendId: i.trendId, kind: "always", ...e })),
    ...i.announcements.map((e, n) => ({
      trendId: i.trendId,
      kind: n === 0 ? "created" : "new",
      ...e,
    })),
  ]);
  const { rows } = await sql<{ moved: string[] | null; charged: number }>`
    WITH ${itemsCte(items, [
      { name: "esc_id", type: "uuid", values: items.map((i) => i.escalation.id) },
      { name: "issue_type", type: "text", values: items.map((i) => i.escalation.issueType) },
      { name: "reason", type: "text", values: items.map((i) => i.escalation.reason) },
      { name: "rule", type: "text", values: items.map((i) => i.escalation.rule) },
      {
        name: "scores",
        type: "text",
        values: items.map((i) => JSON.stringify(i.escalation.scores)),
      },
    ])},
    ${lockedCte},
    ${guardedMoveCte("EMBEDDED", "ESCALATED")},
    ${chargedCte("judge")},
    prov AS (
      INSERT INTO provenance_log (trace_id, trend_id, step, actor, input, output, parent_id)
      SELECT v.trace_id, v.id, 'judge', v.actor, v.input::jsonb, v.output::jsonb,
        (SELECT l.id FROM provenance_log l WHERE l.trend_id = v.id ORDER BY l.id DESC LIMIT 1)
      FROM v WHERE v.id IN (SELECT id FROM upd) ORDER BY v.ord
      RETURNING id, trend_id
    ),
    esc AS (
      INSERT INTO escalations (id, trend_id, issue_type, reason, rule, scores)
      SELECT v.esc_id, v.id, v.issue_type, v.reason, v.rule, v.scores::jsonb
      FROM v WHERE v.id IN (SELECT id FROM upd) ORDER BY v.ord
      ON CONFLICT (trend_id, issue_type) WHERE status <> 'RESOLVED' DO NOTHING
      RETURNING trend_id
    ),
    events AS (
      INSERT INTO outbox (stream, payload)
      SELECT ev.stream,
        CASE WHEN ev.kind = 'created'
          THEN jsonb_set(ev.payload::jsonb, '{payload,provenanceId}', to_jsonb(p.id::text))
          ELSE ev.payload::jsonb END
      FROM unnest(
        ${events.map((e) => e.trendId)}::uuid[],
        ${events.map((e) => e.kind)}::text[],
        ${events.map((e) => e.stream)}::text[],
        ${events.map((e) => toValidJson(e.envelope))}::text[]
      ) WITH ORDINALITY AS ev(trend_id, kind, stream, payload, ord)
      LEFT JOIN prov p ON p.trend_id = ev.trend_id
      WHERE ev.trend_id IN (SELECT id FROM upd)
        AND (ev.kind = 'always' OR ev.trend_id IN (SELECT trend_id FROM esc))
      ORDER BY ev.ord
    )
    SELECT (SELECT array_agg(id::text) FROM upd) AS moved, (SELECT count(*)::int FROM charged) AS charged`.execute(
    trx,
  );
  const moved = new Set(rows[0]?.moved ?? []);
  await enqueueOverrideJobs(
    trx,
    items.filter((i) => moved.has(i.trendId)),
  );
  return { moved, charged: rows[0]?.charged ?? 0 };
}

/**
 * An operator who overrode before the Judge ran: the publisher skipped the item then (an unjudged
 * item cannot move to PUBLISHED) and nothing else would send it there again. Read after the
 * statement above, as the per-item handler does after its status update, so an override that
 * committed while this transaction waited for the trend's lock is seen.
 */
async function enqueueOverrideJobs(
  trx: Transaction<Database>,
  moved: readonly EscalationWrite[],
): Promise<void> {
  if (moved.length === 0) return;
  const overrides = await trx
    .selectFrom("publish_overrides")
    .select(["trend_id", "id"])
    .distinctOn("trend_id")
    .where(
      "trend_id",
      "in",
      moved.map((m) => m.trendId),
    )
    .orderBy("trend_id")
    .execute();
  const byTrend = new Map(overrides.map((o) => [o.trend_id, o.id]));
  await enqueueOutboxMany(
    trx,
    moved.flatMap((m) => {
      const overrideId = byTrend.get(m.trendId);
      return overrideId === undefined ? [] : [m.overrideJob(overrideId)];
    }),
  );
}
