import type { Db } from "../db/database.js";
import { appendProvenance } from "../db/provenance.js";
import { lockTrendFailureState } from "../db/trend-lock-queries.js";
import type { TrendStatus } from "../db/types.js";
import { truncateGraphemes } from "../domain/valid-text.js";
import type { Logger } from "../observability/logger.js";
import type { Job } from "../workers/runtime/stream-consumer.js";
import { type PipelineStage, STAGE_JOBS } from "./stage-jobs.js";
import { transitionTrend } from "./trend-lifecycle.js";

const ERROR_MAX_CHARS = 1000;

/** What the trend shows about its failure (`Trend.failure` in GraphQL). */
export interface StageFailure {
  stage: string;
  error: string;
  code: string;
  at: Date;
}

/**
 * Marks the item FAILED after its stage dead-lettered the job: the stage, the error and the
 * time go on the row, the provenance log gets `${step}_failed`, and `trend:updates` announces the
 * change (transitionTrend), all in one transaction. Only from a status the stage consumes: a
 * dead letter for a job the item has moved past (a late duplicate) changes nothing.
 * Returns whether the item was marked.
 */
export async function markStageFailed(
  db: Db,
  failure: { trendId: string; stage: PipelineStage; error: Error; code: string },
): Promise<boolean> {
  const stage = STAGE_JOBS[failure.stage];
  const error = truncateGraphemes(failure.error.message, ERROR_MAX_CHARS);
  return db.transaction().execute(async (trx) => {
    const current = await lockTrendFailureState(trx, failure.trendId);
    if (!current || !(stage.consumes as readonly TrendStatus[]).includes(current.status))
      return false;
    const moved = await transitionTrend(
      trx,
      failure.trendId,
      [current.status],
      "FAILED",
      {
        failed_stage: failure.stage,
        failed_error: `${failure.code}: ${error}`,
        failed_at: new Date(),
        failed_from: current.status,
        ...(failure.stage === "embedding" ? { embedding_status: "FAILED" as const } : {}),
      },
      {
        actor: `worker:${failure.stage}`,
        reason: `${failure.stage} failed (${failure.code}): ${error}`,
      },
    );
    if (!moved) return false;
    await appendProvenance(trx, {
      traceId: moved.trend.trace_id,
      trendId: failure.trendId,
      step: `${stage.step}_failed`,
      actor: `worker:${failure.stage}`,
      input: { from: current.status },
      output: { error, code: failure.code, deadLetterStream: stage.deadLetterStream },
    });
    return true;
  });
}

/** The runtime's onDeadLetter hook for a stage: the item becomes FAILED (see markStageFailed). */
export function stageFailureHook(deps: { db: Db; logger: Logger; stage: PipelineStage }) {
  return async (job: Job | undefined, error: Error): Promise<void> => {
    const trendId = job?.envelope.trendId ?? job?.envelope.payload.trendId;
    if (
      typeof trendId !== "string" ||
      !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(trendId)
    )
      return;
    const code =
      typeof (error as { code?: unknown }).code === "string"
        ? String((error as { code?: unknown }).code)
        : "HANDLER_ERROR";
    const marked = await markStageFailed(deps.db, { trendId, stage: deps.stage, error, code });
    if (marked)
      deps.logger.warn(
        { enriched_trend_id: trendId, trace_id: job?.envelope.traceId, stage: deps.stage, code },
        "item FAILED: its job went to the dead letters",
      );
  };
}

/**
 * Replay's first step: a FAILED item goes back to the status it failed in (failure fields
 * cleared, `trend:updates` told), so the replayed job passes its stage's status guard.
 * Returns the status it went back to, or undefined when it was not FAILED.
 */
export async function reopenFailed(
  db: Db,
  trendId: string,
  actor: string,
): Promise<TrendStatus | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await lockTrendFailureState(trx, trendId);
    if (row?.status !== "FAILED" || !row.failed_from) return undefined;
    const moved = await transitionTrend(
      trx,
      trendId,
      ["FAILED"],
      row.failed_from,
      {
        failed_stage: null,
        failed_error: null,
        failed_at: null,
        failed_from: null,
        ...(row.failed_stage === "embedding" ? { embedding_status: "PENDING" as const } : {}),
      },
      { actor, reason: "dead letter replayed" },
    );
    return moved ? row.failed_from : undefined;
  });
}
