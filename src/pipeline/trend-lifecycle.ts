import type { Transaction } from "kysely";

import { enqueueOutbox } from "../db/outbox.js";
import { updateStatusIfIn } from "../db/trend-queries.js";
import type { Database, TrendRow, TrendStatus, TrendUpdate } from "../db/types.js";
import { canTransition } from "../domain/trend-status.js";
import { type Envelope, makeEnvelope } from "../streams/envelope.js";
import { STREAMS } from "../streams/stream-names.js";

export interface TransitionResult {
  trend: TrendRow;
  from: TrendStatus;
}

/**
 * Moves a trend to `to` inside the caller's transaction, if its current status is one of
 * `from` and the move is allowed; locks the row so concurrent workers serialize. Returns
 * undefined when the trend is not in an expected status — the caller's job was already done (a
 * redelivery) or overtaken, and it must write nothing else. Announces the change on
 * `trend:updates` through the outbox, so subscribers see every transition exactly when it commits.
 */
export async function transitionTrend(
  trx: Transaction<Database>,
  trendId: string,
  from: readonly TrendStatus[],
  to: TrendStatus,
  set: Omit<TrendUpdate, "status" | "id"> = {},
  meta: { reason?: string; actor?: string } = {},
): Promise<TransitionResult | undefined> {
  const allowed = from.filter((status) => canTransition(status, to));
  if (allowed.length === 0) return undefined;
  const moved = await updateStatusIfIn(trx, trendId, allowed, to, set);
  if (!moved) return undefined;
  const { trend, from: previous } = moved;
  await announceTrendUpdate(trx, trend, previous, meta);
  return { trend, from: previous };
}

/** Writes the `trend:updates` event for a change already made in this transaction. */
export async function announceTrendUpdate(
  trx: Transaction<Database>,
  trend: TrendRow,
  from: TrendStatus | null,
  meta: { reason?: string; actor?: string } = {},
): Promise<void> {
  await enqueueOutbox(trx, STREAMS.trendUpdates, trendUpdatedEnvelope(trend, from, meta));
}

/** The `trend:updates` event of a change to `trend.status` (for batch writers to enqueue together). */
export function trendUpdatedEnvelope(
  trend: Pick<TrendRow, "id" | "trace_id" | "status" | "embedding_status"> &
    Partial<Pick<TrendRow, "failed_stage" | "failed_error" | "failed_at" | "updated_at">>,
  from: TrendStatus | null,
  meta: { reason?: string; actor?: string; traceparent?: string } = {},
): Envelope {
  return makeEnvelope("trend.updated", {
    traceId: trend.trace_id,
    trendId: trend.id,
    traceparent: meta.traceparent,
    payload: {
      trendId: trend.id,
      from,
      to: trend.status,
      embeddingStatus: trend.embedding_status,
      reason: meta.reason ?? null,
      actor: meta.actor ?? null,
      // Set when the item moved to FAILED: which stage, why, when (issue 12).
      failure:
        trend.status === "FAILED" && trend.failed_stage
          ? {
              stage: trend.failed_stage,
              error: trend.failed_error ?? "",
              at: new Date(trend.failed_at ?? trend.updated_at ?? Date.now()).toISOString(),
            }
          : null,
    },
  });
}
