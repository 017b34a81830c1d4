import { randomUUID } from "node:crypto";

import type { Transaction } from "kysely";

import { enqueueOutboxMany } from "../../db/outbox.js";
import type { Database } from "../../db/types.js";
import { toValidJson } from "../../domain/valid-text.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { StageBatchWrite } from "../batch-write.js";
import { commitJudgedBatch } from "./judge-queries.js";

/** What one item of a judge batch writes when the policy rejects it (`events`: its trend update). */
export interface RejectionWrite extends StageBatchWrite {
  rule: string;
  reason: string;
}

/**
 * The judge batch's rejections in three statements (in a transaction; the caller rolls back when
 * `charged` is short): REJECTED with the charge, provenance and trend update as for READY
 * (commitJudgedBatch), then the moved trends' provenance chains (read after, so each includes
 * the entry just written), then one incident per trend and rule (ON CONFLICT DO NOTHING, as the
 * per-item handler) and one `alert.incident` each, written as the per-item handler does. Was ~14
 * round trips per rejection.
 */
export async function commitRejectionBatch(
  trx: Transaction<Database>,
  items: readonly RejectionWrite[],
): Promise<{ moved: Set<string>; charged: number }> {
  const result = await commitJudgedBatch(trx, items, "REJECTED");
  const rejected = items.filter((i) => result.moved.has(i.trendId));
  if (rejected.length === 0) return result;
  const entries = await trx
    .selectFrom("provenance_log")
    .select(["trend_id", "id", "step", "actor", "created_at"])
    .where(
      "trend_id",
      "in",
      rejected.map((r) => r.trendId),
    )
    .orderBy("id")
    .execute();
  const chains = new Map<
    string,
    { id: string; step: string; actor: string; created_at: string }[]
  >();
  for (const { trend_id, ...c } of entries) {
    if (trend_id === null) continue;
    const chain = chains.get(trend_id) ?? [];
    chain.push({ ...c, id: c.id, created_at: new Date(c.created_at).toISOString() });
    chains.set(trend_id, chain);
  }
  const incidents = rejected.map((r) => ({ write: r, id: randomUUID() }));
  await trx
    .insertInto("incidents")
    .values(
      incidents.map(({ write, id }) => ({
        id,
        trend_id: write.trendId,
        rule: write.rule,
        reason: write.reason,
        provenance: toValidJson(chains.get(write.trendId) ?? []),
      })),
    )
    .onConflict((oc) => oc.columns(["trend_id", "rule"]).doNothing())
    .execute();
  await enqueueOutboxMany(
    trx,
    incidents.map(({ write, id }) => ({
      stream: STREAMS.operatorAlerts,
      envelope: makeEnvelope("alert.incident", {
        traceId: write.traceId,
        trendId: write.trendId,
        payload: {
          trendId: write.trendId,
          kind: "INCIDENT",
          severity: "critical",
          message: `trend ${write.trendId} rejected by policy: ${write.reason}`,
          incidentId: id,
          rule: write.rule,
        },
      }),
    })),
  );
  return result;
}
