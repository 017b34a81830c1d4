import { sql, type Transaction } from "kysely";

import type { Db } from "../../db/database.js";
import type { Database, TrendRow, TrendStatus } from "../../db/types.js";
import { toValidJson } from "../../domain/valid-text.js";
import {
  chargedCte,
  lockedCte,
  provenanceAndEventsCtes,
  type StageBatchWrite,
} from "../batch-write.js";

/** A trend of a publish read, with what decides its approval path. */
export type PublishCandidate = TrendRow & {
  has_incident: boolean;
  has_override: boolean;
  /** The reason code of the latest human APPROVE (an appeal's wins), as the per-item path reads it. */
  approve_reason_code: string | null;
};

/** The trends of one publish read and their approval facts, in ONE query. */
export function loadPublishCandidates(
  db: Db,
  trendIds: readonly string[],
): Promise<PublishCandidate[]> {
  if (trendIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom("enriched_trends as t")
    .selectAll("t")
    .select((eb) => [
      eb
        .exists(eb.selectFrom("incidents as i").select("i.id").whereRef("i.trend_id", "=", "t.id"))
        .as("has_incident"),
      eb
        .exists(
          eb
            .selectFrom("publish_overrides as o")
            .select("o.id")
            .whereRef("o.trend_id", "=", "t.id"),
        )
        .as("has_override"),
      eb
        .selectFrom("escalations as e")
        .select("e.reason_code")
        .whereRef("e.trend_id", "=", "t.id")
        .where("e.status", "=", "RESOLVED")
        .where("e.decision", "=", "APPROVE")
        .orderBy("e.resolved_at", "desc")
        .limit(1)
        .as("approve_reason_code"),
    ])
    .where("t.id", "in", trendIds)
    .execute() as Promise<PublishCandidate[]>;
}

/**
 * Charges the publish step of each item in ONE statement, in the caller's transaction (which
 * must roll back when `charged` is short of `spent`: a concurrent charge got there first). Locks
 * the trends in id order; for each still READY or APPROVED whose publish step is not charged yet
 * and fits its budget: the spend and the charge. Returns the items that may call the tool: those
 * charged now and those charged already (a redelivery after a crash between the tool call and
 * the record: the tool then answers with the first reference). The others are over budget or
 * no longer publishable, for the per-item path to pause or skip.
 */
export async function chargePublishBatch(
  trx: Transaction<Database>,
  items: readonly { trendId: string; cost: number }[],
): Promise<{ payable: Set<string>; spent: number; charged: number }> {
  if (items.length === 0) return { payable: new Set(), spent: 0, charged: 0 };
  const { rows } = await sql<{ spent: string[] | null; prior: string[] | null; charged: number }>`
    WITH v AS (
      SELECT * FROM unnest(
        ${items.map((i) => i.trendId)}::uuid[],
        ${items.map((i) => i.cost)}::float8[]
      ) AS v(id, cost)
    ),
    ${lockedCte},
    prior AS (
      SELECT c.trend_id AS id FROM budget_charges c
      WHERE c.step = 'publish' AND c.trend_id IN (SELECT id FROM v)
    ),
    upd AS (
      UPDATE enriched_trends t SET budget_spent = t.budget_spent + v.cost
      FROM v
      WHERE t.id = v.id AND t.id IN (SELECT id FROM locked) AND t.id NOT IN (SELECT id FROM prior)
        AND t.status IN ('READY', 'APPROVED')
        AND t.budget_spent + v.cost <= t.budget_limit + 1e-9
      RETURNING t.id
    ),
    ${chargedCte("publish")}
    SELECT (SELECT array_agg(id::text) FROM upd) AS spent,
      (SELECT array_agg(id::text) FROM prior) AS prior,
      (SELECT count(*)::int FROM charged) AS charged`.execute(trx);
  const spent = rows[0]?.spent ?? [];
  return {
    payable: new Set([...spent, ...(rows[0]?.prior ?? [])]),
    spent: spent.length,
    charged: rows[0]?.charged ?? 0,
  };
}

/** What one published item of a batch records: its publication, provenance entry and event. */
export interface PublishedWrite extends Pick<StageBatchWrite, "trendId" | "traceId" | "events"> {
  provenance: StageBatchWrite["provenance"];
  /** The status the item was published from; it is recorded only if it still has it. */
  fromStatus: TrendStatus;
  publication: {
    id: string;
    adapter: string;
    tool: string;
    externalRef: string;
    idempotencyKey: string;
    approvalPath: "judge" | "moderator";
    reasonCode: string | null;
  };
}

/**
 * Records a batch's publications and PUBLISHED as ONE statement (in a transaction). Locks the
 * trends in id order; for each item still in the status it was published from and without an
 * incident: the publication (the invariant trigger re-checks it), PUBLISHED, the provenance
 * entry and the `trend:updates` event, in input order. Returns the ids that moved and the
 * current status of every locked item, so the caller can tell a redelivery that finished first
 * (PUBLISHED) from an item that stopped being publishable while the tool published it.
 */
export async function recordPublishedBatch(
  trx: Transaction<Database>,
  items: readonly PublishedWrite[],
): Promise<{ moved: Set<string>; status: Map<string, TrendStatus> }> {
  if (items.length === 0) return { moved: new Set(), status: new Map() };
  const p = items.map((i) => i.publication);
  const { rows } = await sql<{ moved: string[] | null; ids: string[]; statuses: TrendStatus[] }>`
    WITH v AS (
      SELECT * FROM unnest(
        ${items.map((i) => i.trendId)}::uuid[],
        ${items.map((i) => i.traceId)}::text[],
        ${items.map((i) => i.fromStatus)}::text[],
        ${p.map((x) => x.id)}::uuid[],
        ${p.map((x) => x.adapter)}::text[],
        ${p.map((x) => x.tool)}::text[],
        ${p.map((x) => x.externalRef)}::text[],
        ${p.map((x) => x.idempotencyKey)}::text[],
        ${p.map((x) => x.approvalPath)}::text[],
        ${p.map((x) => x.reasonCode)}::text[],
        ${items.map((i) => i.provenance.actor)}::text[],
        ${items.map((i) => toValidJson(i.provenance.input))}::text[],
        ${items.map((i) => toValidJson(i.provenance.output))}::text[]
      ) WITH ORDINALITY AS v(id, trace_id, from_status, pub_id, adapter, tool, external_ref,
        idempotency_key, approval_path, reason_code, actor, input, output, ord)
    ),
    locked AS (
      SELECT t.id, t.status FROM enriched_trends t WHERE t.id IN (SELECT id FROM v)
      ORDER BY t.id FOR UPDATE
    ),
    pub AS (
      INSERT INTO publications (id, trend_id, adapter, tool, external_ref, idempotency_key,
        approval_path, override_id, reason_code)
      SELECT v.pub_id, v.id, v.adapter, v.tool, v.external_ref, v.idempotency_key,
        v.approval_path, NULL, v.reason_code
      FROM v JOIN locked l ON l.id = v.id
      WHERE l.status = v.from_status
        AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.trend_id = v.id)
      ORDER BY v.ord
      RETURNING trend_id
    ),
    -- Each trend moves only after its publication row (and the trigger's check) exists.
    upd AS (
      UPDATE enriched_trends t SET status = 'PUBLISHED', updated_at = now()
      FROM pub WHERE t.id = pub.trend_id
      RETURNING t.id
    ),
    ${provenanceAndEventsCtes("publish", items)}
    SELECT (SELECT array_agg(id::text) FROM upd) AS moved,
      (SELECT array_agg(id::text ORDER BY id) FROM locked) AS ids,
      (SELECT array_agg(status ORDER BY id) FROM locked) AS statuses`.execute(trx);
  const row = rows[0];
  const status = new Map<string, TrendStatus>();
  row?.ids?.forEach((id, n) => status.set(id, row.statuses[n]!));
  return { moved: new Set(row?.moved ?? []), status };
}
