import { randomUUID } from "node:crypto";

import type { Db } from "../../db/database.js";
import type { ApprovalPath } from "../../db/types.js";
import { estimateStepCost } from "../../domain/budget.js";
import type { Publisher, PublishRequest, PublishResult } from "../../mcp/publish-client.js";
import type { Logger } from "../../observability/logger.js";
import { trendUpdatedEnvelope } from "../../services/trend-lifecycle.js";
import { STREAMS } from "../../streams/stream-names.js";
import {
  type BatchHandler,
  type Job,
  type JobHandler,
  PermanentError,
} from "../../workers/runtime/stream-consumer.js";
import { jobsByTrend } from "../batch-trends.js";
import { CallLimiter } from "../call-limiter.js";
import {
  chargePublishBatch,
  loadPublishCandidates,
  type PublishCandidate,
  type PublishedWrite,
  recordPublishedBatch,
} from "./publish-queries.js";
import { callPublishTool, publishProvenance, publishRequest } from "./publisher-worker.js";

/**
 * What the batch path already met for a job it hands back: the per-item handler rethrows it
 * (see {@link withBatchFailures}) instead of calling the tool again at once, so the job retries
 * with backoff or dead-letters exactly like a per-item failure.
 */
export type BatchFailures = WeakMap<Job, Error>;

/**
 * The publisher, batch at a time. Per read: the trends and their approval facts in one query,
 * the publish step charged in one statement (committed before any tool call, as on the per-item
 * path), the tool called for each item (at most `concurrency` calls in flight across reads),
 * and the publications with PUBLISHED recorded in one statement. The common case only: an item
 * READY (path judge) or APPROVED (path moderator) without incident or override. Everything else
 * goes back to the per-item handler: overrides, incidents, other statuses, over budget, unknown
 * or repeated trends, and items whose status changed before the record. A failing tool call
 * isolates its item: it is handed back with its error in `failures`. The invariant trigger
 * re-checks every publication; a redelivery after a crash between the tool call and the record
 * finds its charge, and the tool answers with the first reference (same idempotency key).
 */
export function createPublishBatchHandler(deps: {
  db: Db;
  publisher: Publisher;
  logger: Logger;
  concurrency: number;
  failures: BatchFailures;
}): BatchHandler {
  const limiter = new CallLimiter(deps.concurrency);
  return async (jobs) => {
    const { alone, byId } = jobsByTrend(jobs);
    if (byId.size === 0) return alone;
    const found = new Map(
      (await loadPublishCandidates(deps.db, [...byId.keys()])).map((t) => [t.id, t]),
    );
    const plain: { job: Job; trend: PublishCandidate; path: PlainPath }[] = [];
    for (const [id, job] of byId) {
      const trend = found.get(id);
      // Published already: a redelivery, acknowledged as the per-item path does.
      if (trend?.status === "PUBLISHED") continue;
      const path = trend && plainPath(trend);
      if (trend && path) plain.push({ job, trend, path });
      else alone.push(job);
    }
    if (plain.length === 0) return alone;

    const cost = estimateStepCost("publish", "");
    const payable = await deps.db.transaction().execute(async (trx) => {
      const charge = await chargePublishBatch(
        trx,
        plain.map((p) => ({ trendId: p.trend.id, cost })),
      );
      if (charge.charged !== charge.spent)
        throw new Error("a publish step of this batch was charged concurrently");
      return charge.payable;
    });

    const called: { job: Job; write: PublishedWrite }[] = [];
    await Promise.all(
      plain.map(async (p) => {
        if (!payable.has(p.trend.id)) return void alone.push(p.job);
        try {
          const request = { ...publishRequest(p.trend, p.path), approvalPath: p.path };
          const result = await limiter.run(() => callPublishTool(deps.publisher, request));
          called.push({ job: p.job, write: publishedWrite(p.trend, request, result) });
        } catch (error) {
          deps.failures.set(p.job, error instanceof Error ? error : new Error(String(error)));
          alone.push(p.job);
        }
      }),
    );
    if (called.length === 0) return alone;

    const { moved, status } = await deps.db.transaction().execute((trx) =>
      recordPublishedBatch(
        trx,
        called.map((c) => c.write),
      ),
    );
    for (const { job, write } of called) {
      if (moved.has(write.trendId) || status.get(write.trendId) === "PUBLISHED") continue;
      // As on the per-item path: the adapter published, the database refuses to record it.
      deps.failures.set(
        job,
        new PermanentError(
          `trend ${write.trendId} is no longer publishable (${status.get(write.trendId) ?? "gone"} or an incident); the adapter holds reference ${write.publication.externalRef}`,
        ),
      );
      alone.push(job);
    }
    deps.logger.debug({ items: moved.size, alone: alone.length }, "batch published");
    return alone;
  };
}

/**
 * The per-item handler of a stage with a publish batch path: a job the batch handed back with a
 * failure throws that failure (once), so the runtime retries or dead-letters it without another
 * tool call now; any other job runs `handler`.
 */
export function withBatchFailures(failures: BatchFailures, handler: JobHandler): JobHandler {
  return async (job, signal) => {
    const failure = failures.get(job);
    if (failure) {
      failures.delete(job);
      throw failure;
    }
    await handler(job, signal);
  };
}

/** The approval paths the batch covers (an override goes to the per-item path). */
type PlainPath = Exclude<ApprovalPath, "override">;

/** The approval path of an item the batch covers; undefined sends it to the per-item path. */
function plainPath(trend: PublishCandidate): PlainPath | undefined {
  if (trend.has_incident || trend.has_override) return undefined;
  if (trend.status === "READY") return "judge";
  if (trend.status === "APPROVED") return "moderator";
  return undefined;
}

/** What the per-item path writes for one publication, as a batch write. */
function publishedWrite(
  trend: PublishCandidate,
  request: PublishRequest & { approvalPath: PlainPath },
  result: PublishResult,
): PublishedWrite {
  const { approvalPath } = request;
  const reasonCode = approvalPath === "moderator" ? trend.approve_reason_code : null;
  return {
    trendId: trend.id,
    traceId: trend.trace_id,
    fromStatus: trend.status,
    provenance: publishProvenance(result, { approvalPath, overrideId: null }, reasonCode),
    publication: {
      id: randomUUID(),
      adapter: result.adapter,
      tool: result.tool,
      externalRef: result.externalRef,
      idempotencyKey: request.idempotencyKey,
      approvalPath,
      reasonCode,
    },
    events: [
      {
        stream: STREAMS.trendUpdates,
        envelope: trendUpdatedEnvelope({ ...trend, status: "PUBLISHED" }, trend.status, {
          actor: "worker:publisher",
          reason: `published via ${approvalPath}`,
        }),
      },
    ],
  };
}
