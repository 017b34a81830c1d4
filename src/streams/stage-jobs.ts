import type { TrendRow } from "../db/types.js";
import type { InFlightStatus } from "../domain/trend-status.js";
import { type Envelope, makeEnvelope } from "./envelope.js";
import { GROUPS, STREAMS } from "./stream-names.js";

export const PIPELINE_STAGES = ["etl", "embedding", "judge", "publisher"] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

export interface StageJobs {
  /** The stream the stage's group drains, and the group. */
  stream: string;
  group: string;
  /** The statuses the stage moves an item out of (its status guard). */
  consumes: readonly InFlightStatus[];
  /** The provenance step of the stage's work; `${step}_failed` records its dead letter. */
  step: string;
}

/**
 * What each automated stage consumes: which stream carries its jobs, and which statuses its
 * handler acts on. The dead-letter hook (FAILED), replay and the reconciler read it, so the
 * three agree on which stage an item is waiting for.
 */
export const STAGE_JOBS: Record<PipelineStage, StageJobs> = {
  etl: { stream: STREAMS.ingest, group: GROUPS.etl, consumes: ["RECEIVED", "PLANNED"], step: "etl" },
  embedding: { stream: STREAMS.embeddingJobs, group: GROUPS.embedding, consumes: ["ENRICHED"], step: "embed" },
  judge: { stream: STREAMS.judgeJobs, group: GROUPS.judge, consumes: ["EMBEDDED"], step: "judge" },
  publisher: { stream: STREAMS.publishJobs, group: GROUPS.publisher, consumes: ["READY", "APPROVED"], step: "publish" },
};

/** The stage that moves an item out of `status`. */
export function stageWaitedFor(status: InFlightStatus): PipelineStage {
  return PIPELINE_STAGES.find((s) => STAGE_JOBS[s].consumes.includes(status))!;
}

export function stageOfStream(stream: string): PipelineStage | undefined {
  return PIPELINE_STAGES.find((s) => STAGE_JOBS[s].stream === stream);
}

/** The job the stage would have received for this trend, as the step before it writes it. */
export function stageJobEnvelope(trend: Pick<TrendRow, "id" | "trace_id" | "status">, extra: Record<string, unknown> = {}): Envelope {
  const stage = stageWaitedFor(trend.status as InFlightStatus);
  const type =
    stage === "etl"
      ? "trend.ingested"
      : stage === "embedding"
        ? "trend.enriched"
        : stage === "judge"
          ? "trend.embedded"
          : trend.status === "APPROVED"
            ? "trend.approved"
            : "trend.ready";
  const approvalPath = stage === "publisher" ? { approvalPath: trend.status === "APPROVED" ? "moderator" : "judge" } : {};
  return makeEnvelope(type, { traceId: trend.trace_id, trendId: trend.id, payload: { trendId: trend.id, ...approvalPath, ...extra } });
}
