import { randomUUID } from "node:crypto";

import type { Db } from "../../db/database.js";
import { appendProvenance } from "../../db/provenance.js";
import type { ApprovalPath, TrendRow } from "../../db/types.js";
import { estimateStepCost } from "../../domain/budget.js";
import { canTransition, PUBLISHABLE_STATUSES } from "../../domain/trend-status.js";
import {
  type Publisher,
  PublishError,
  type PublishRequest,
  type PublishResult,
} from "../../mcp/publish-client.js";
import type { Logger } from "../../observability/logger.js";
import { chargeOrPause } from "../../services/budget-service.js";
import { transitionTrend } from "../../services/trend-lifecycle.js";
import { type JobHandler, PermanentError } from "../../workers/runtime/stream-consumer.js";
import { jobLogger, loadJobTrend } from "../../workers/stage-support.js";

/** One publication per trend: the adapter deduplicates on this key across retries and crashes. */
export const publishIdempotencyKey = (trendId: string) => `trendgate:publish:${trendId}`;

/**
 * The publisher (`trend:publish:jobs`, group publisher; the Judge, a moderator's APPROVE and an
 * operator's override each enqueue a job there in the transaction of their decision): publishes READY
 * and APPROVED items, or items with an operator override, through the MCP publish tool, then
 * records the Publication and PUBLISHED in one transaction. The database trigger re-checks the
 * invariant at insert; a crash after the tool call is safe because the retry presents the same
 * idempotency key and the adapter returns the first reference.
 */
export function createPublisherHandler(deps: {
  db: Db;
  publisher: Publisher;
  logger: Logger;
}): JobHandler {
  return async (job) => {
    const trend = await loadJobTrend(deps.db, job);
    if (trend.status === "PUBLISHED") return;
    const path = await approvalFor(deps.db, trend);
    const log = await jobLogger(deps.db, deps.logger, trend);
    if (!path) {
      log.info(
        { status: trend.status },
        "not publishable (status changed or no override); skipped",
      );
      return;
    }
    const charged = await deps.db.transaction().execute((trx) =>
      chargeOrPause(trx, trend, "publish", estimateStepCost("publish", ""), log, {
        overdraftIfUnpausable: path.approvalPath === "override",
      }),
    );
    if (charged === "paused") return;

    const reasonCode =
      path.approvalPath === "moderator" ? await approvingReasonCode(deps.db, trend.id) : null;
    const request = publishRequest(trend, path.approvalPath);
    const result = await callPublishTool(deps.publisher, request);
    await deps.db.transaction().execute(async (trx) => {
      // The publication goes in first: the database's invariant trigger checks the trend is
      // READY/APPROVED (or overridden) at this moment, and locks the row until commit.
      const current = await trx
        .selectFrom("enriched_trends")
        .select("status")
        .where("id", "=", trend.id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (current.status === "PUBLISHED") return;
      await trx
        .insertInto("publications")
        .values({
          id: randomUUID(),
          trend_id: trend.id,
          adapter: result.adapter,
          tool: result.tool,
          external_ref: result.externalRef,
          idempotency_key: request.idempotencyKey,
          approval_path: path.approvalPath,
          override_id: path.overrideId,
          reason_code: reasonCode,
        })
        .execute();
      const from = path.approvalPath === "override" ? [current.status] : PUBLISHABLE_STATUSES;
      const moved = await transitionTrend(
        trx,
        trend.id,
        from,
        "PUBLISHED",
        {},
        {
          actor: "worker:publisher",
          reason: `published via ${path.approvalPath}`,
        },
      );
      if (!moved) {
        throw new PermanentError(
          `trend ${trend.id} changed status while publishing; the adapter holds reference ${result.externalRef}`,
        );
      }
      await appendProvenance(trx, {
        traceId: trend.trace_id,
        trendId: trend.id,
        step: "publish",
        ...publishProvenance(result, path, reasonCode),
      });
    });
    log.info(
      { external_ref: result.externalRef, approval_path: path.approvalPath },
      "item published",
    );
  };
}

/** What the publish tool is asked for a trend (the batch path asks the same). */
export function publishRequest(trend: TrendRow, approvalPath: ApprovalPath): PublishRequest {
  return {
    trendId: trend.id,
    title: trend.title ?? "",
    summary: trend.summary ?? "",
    topics: trend.topics,
    url: trend.url,
    idempotencyKey: publishIdempotencyKey(trend.id),
    approvalPath,
  };
}

/**
 * Calls the publish tool. The runtime retries whatever is not permanent; an answer the adapter
 * says will not change (bad input, not a publish tool) would only burn the attempts before the
 * DLQ, so it becomes a PermanentError.
 */
export async function callPublishTool(
  publisher: Publisher,
  request: PublishRequest,
): Promise<PublishResult> {
  try {
    return await publisher.publish(request);
  } catch (error) {
    if (error instanceof PublishError && !error.retryable) {
      throw new PermanentError(`${error.code}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** The provenance entry of a publication (actor, input, output), alike on both paths. */
export function publishProvenance(
  result: PublishResult,
  path: { approvalPath: ApprovalPath; overrideId: string | null },
  reasonCode: string | null,
): { actor: string; input: unknown; output: unknown } {
  return {
    actor: `worker:publisher:${result.adapter}`,
    input: {
      tool: result.tool,
      arguments: result.arguments,
      approvalPath: path.approvalPath,
      overrideId: path.overrideId,
      reasonCode,
    },
    output: { externalRef: result.externalRef, duplicate: result.duplicate },
  };
}

/** The reason code of the human APPROVE that made the item publishable (the latest one: an appeal's wins). */
async function approvingReasonCode(db: Db, trendId: string): Promise<string | null> {
  const row = await db
    .selectFrom("escalations")
    .select("reason_code")
    .where("trend_id", "=", trendId)
    .where("status", "=", "RESOLVED")
    .where("decision", "=", "APPROVE")
    .orderBy("resolved_at", "desc")
    .limit(1)
    .executeTakeFirst();
  return row?.reason_code ?? null;
}

/**
 * How the trend may be published now, mirroring the database's invariant trigger so the adapter
 * is never called for something the trigger would refuse: the adapter publishes before the
 * commit, so a refusal there leaves an external publication the database never records. An
 * override counts only when it names every incident of the trend, and only from a status that
 * may move to PUBLISHED (an override of an item not yet judged waits for the Judge).
 */
export async function approvalFor(
  db: Db,
  trend: TrendRow,
): Promise<{ approvalPath: ApprovalPath; overrideId: string | null } | undefined> {
  const incidents = await db
    .selectFrom("incidents")
    .select("id")
    .where("trend_id", "=", trend.id)
    .execute();
  const overrides = await db
    .selectFrom("publish_overrides")
    .select(["id", "incident_id"])
    .where("trend_id", "=", trend.id)
    .orderBy("created_at", "desc")
    .execute();
  const override = overrides.find((o) => incidents.every((i) => i.id === o.incident_id));
  if (overrides.length === 0 && incidents.length === 0) {
    if (trend.status === "READY") return { approvalPath: "judge", overrideId: null };
    if (trend.status === "APPROVED") return { approvalPath: "moderator", overrideId: null };
  }
  if (override && canTransition(trend.status, "PUBLISHED")) {
    return { approvalPath: "override", overrideId: override.id };
  }
  return undefined;
}
