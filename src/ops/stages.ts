import { GROUPS, STREAMS } from "../streams/stream-names.js";

/** The worker stages that scale with load, each with the stream and group it drains. */
export const SCALABLE_STAGES = ["etl", "embedding", "judge", "publisher"] as const;
export type ScalableStage = (typeof SCALABLE_STAGES)[number];

export const STAGE_STREAMS: Record<ScalableStage, { stream: string; group: string }> = {
  etl: { stream: STREAMS.ingest, group: GROUPS.etl },
  embedding: { stream: STREAMS.embeddingJobs, group: GROUPS.embedding },
  judge: { stream: STREAMS.judgeJobs, group: GROUPS.judge },
  // The publisher also drains hitl:resolution, but moderator decisions are a trickle next to it.
  publisher: { stream: STREAMS.publishJobs, group: GROUPS.publisher },
};
