import { type StageName, STAGES } from "../pipeline/registry.js";

/** The worker stages that scale with load: every registered stage. */
export const SCALABLE_STAGES: readonly StageName[] = STAGES.map((s) => s.name);
export type ScalableStage = StageName;

/** The stream and group each scalable stage drains (from the registry). */
export const STAGE_STREAMS = Object.fromEntries(
  STAGES.map((s) => [s.name, { stream: s.stream, group: s.group }]),
) as Record<ScalableStage, { stream: string; group: string }>;
