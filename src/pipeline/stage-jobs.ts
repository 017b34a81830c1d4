import type { TrendRow } from "../db/types.js";
import { IN_FLIGHT_STATUSES, type InFlightStatus } from "../domain/trend-status.js";
import { type Envelope, makeEnvelope } from "../streams/envelope.js";
import { STAGES } from "./registry.js";

export const PIPELINE_STAGES: readonly PipelineStage[] = STAGES.map((s) => s.name);
export type PipelineStage = (typeof STAGES)[number]["name"];

export interface StageJobs {
  stream: string;
  group: string;
  deadLetterStream: string;
  /** The in-flight statuses the stage moves an item out of (FAILED comes from these only). */
  consumes: readonly InFlightStatus[];
  /** The provenance step of the stage's work; `${step}_failed` records its dead letter. */
  step: string;
}

/**
 * The registry's stages seen from an item waiting for one: the dead-letter hook (FAILED),
 * replay and the reconciler read it, so the three agree on which stage an item waits for.
 * Human-held statuses (ESCALATED, REJECTED with an override) are not in-flight: a publisher
 * job for them failing leaves them as they are.
 */
export const STAGE_JOBS = Object.fromEntries(
  STAGES.map((s) => [
    s.name,
    {
      stream: s.stream,
      group: s.group,
      deadLetterStream: s.deadLetterStream,
      consumes: (s.from as readonly string[]).filter((status): status is InFlightStatus =>
        (IN_FLIGHT_STATUSES as readonly string[]).includes(status),
      ),
      step: s.step,
    },
  ]),
) as unknown as Record<PipelineStage, StageJobs>;

/** The stage that moves an item out of `status`. */
export function stageWaitedFor(status: InFlightStatus): PipelineStage {
  return PIPELINE_STAGES.find((s) => STAGE_JOBS[s].consumes.includes(status))!;
}

/** The job the stage would have received for this trend, as the step before it writes it. */
export function stageJobEnvelope(
  trend: Pick<TrendRow, "id" | "trace_id" | "status">,
  extra: Record<string, unknown> = {},
): Envelope {
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
  const approvalPath =
    stage === "publisher"
      ? { approvalPath: trend.status === "APPROVED" ? "moderator" : "judge" }
      : {};
  return makeEnvelope(type, {
    traceId: trend.trace_id,
    trendId: trend.id,
    payload: { trendId: trend.id, ...approvalPath, ...extra },
  });
}
