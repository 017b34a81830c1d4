import type { TrendStatus } from "../db/types.js";
import type { PipelineStep } from "../domain/budget.js";
import { GROUPS, STREAMS } from "../streams/stream-names.js";
import type { StageModule } from "./stage.js";

/**
 * One definition per stream stage of the pipeline. Everything that used to list the stages by
 * hand derives from this table: the workers `trendgate worker <name>` starts, their spans and
 * metrics labels, group health, the autoscaler's stages, the dead-letter streams (replay and its
 * dry run), the stream a budget-paused step resumes on, and the console's lists (through the
 * API). Adding a stage is one folder under src/pipeline and one line here.
 *
 * The stage's code (compute and writes) loads lazily through `load`, so importing the registry
 * for its names costs nothing and creates no import cycle with the steps.
 */
export interface StageDefinition {
  /** Worker name (`trendgate worker <name>`), metrics label and consumer-name part. */
  readonly name: string;
  /** The pipeline step it runs: the span name and the budget step. */
  readonly step: PipelineStep;
  readonly stream: string;
  readonly group: string;
  readonly deadLetterStream: string;
  /** Statuses of the items it takes, and the statuses it may leave them in. */
  readonly from: readonly TrendStatus[];
  readonly to: readonly TrendStatus[];
  /** Budget steps that, once paused and granted more budget, re-enter the pipeline here. */
  readonly resumes: readonly PipelineStep[];
  readonly load: () => Promise<StageModule>;
}

export const STAGES = [
  {
    name: "etl",
    step: "etl",
    stream: STREAMS.ingest,
    group: GROUPS.etl,
    deadLetterStream: STREAMS.ingestDlq,
    from: ["RECEIVED", "PLANNED"],
    to: ["ENRICHED", "PAUSED"],
    resumes: ["plan", "etl"],
    load: async () => (await import("./enrich/enrich-stage.js")).enrichStage,
  },
  {
    name: "embedding",
    step: "embed",
    stream: STREAMS.embeddingJobs,
    group: GROUPS.embedding,
    deadLetterStream: STREAMS.embeddingDlq,
    from: ["ENRICHED"],
    to: ["EMBEDDED", "PAUSED"],
    resumes: ["embed"],
    load: async () => (await import("./embed/embed-stage.js")).embedStage,
  },
  {
    name: "judge",
    step: "judge",
    stream: STREAMS.judgeJobs,
    group: GROUPS.judge,
    deadLetterStream: STREAMS.judgeDlq,
    from: ["EMBEDDED"],
    to: ["READY", "ESCALATED", "REJECTED", "PAUSED"],
    resumes: ["judge"],
    load: async () => (await import("./judge/judge-stage.js")).judgeStage,
  },
  {
    name: "publisher",
    step: "publish",
    stream: STREAMS.publishJobs,
    group: GROUPS.publisher,
    deadLetterStream: STREAMS.publishDlq,
    from: ["READY", "APPROVED", "ESCALATED", "REJECTED"],
    to: ["PUBLISHED", "PAUSED"],
    resumes: ["publish"],
    load: async () => (await import("./publish/publish-stage.js")).publishStage,
  },
] as const satisfies readonly StageDefinition[];

export type StageName = (typeof STAGES)[number]["name"];

/** Processes that are not stream stages but that `trendgate worker` also starts. */
export const SERVICE_WORKERS = ["relay", "maintenance", "webhooks"] as const;

/**
 * Stream consumers that are not pipeline stages (no trend status moves, no budget): they retry
 * and dead-letter like the stages, and their dead letters list and replay with the same tool
 * (`trendgate dlq`, `deadLetters`, `replayDeadLetters`).
 */
export const SERVICE_CONSUMERS = [
  {
    name: "webhooks",
    stream: STREAMS.webhooks,
    group: GROUPS.webhooks,
    deadLetterStream: STREAMS.webhookDlq,
  },
] as const;

/** A service consumer by its stream or its dead-letter stream. */
export function serviceConsumerOf(stream: string): (typeof SERVICE_CONSUMERS)[number] | undefined {
  return SERVICE_CONSUMERS.find((c) => c.stream === stream || c.deadLetterStream === stream);
}

export const WORKER_NAMES = [...STAGES.map((s) => s.name), ...SERVICE_WORKERS] as const;
export type WorkerName = StageName | (typeof SERVICE_WORKERS)[number];

export function isWorkerName(name: string): name is WorkerName {
  return (WORKER_NAMES as readonly string[]).includes(name);
}

export function stageNamed(name: string): StageDefinition | undefined {
  return STAGES.find((s) => s.name === name);
}

/** The stage that consumes a work stream. */
export function stageOfStream(stream: string): StageDefinition | undefined {
  return STAGES.find((s) => s.stream === stream);
}

/** The stage whose dead letters land in this stream. */
export function stageOfDeadLetters(stream: string): StageDefinition | undefined {
  return STAGES.find((s) => s.deadLetterStream === stream);
}

/** The stream that re-runs a budget step once its pause is lifted. */
export function resumeStreamOf(step: PipelineStep): string {
  const stage = STAGES.find((s) => (s.resumes as readonly PipelineStep[]).includes(step));
  if (!stage) throw new Error(`no stage resumes budget step ${step}`);
  return stage.stream;
}

export const STAGE_STREAMS: string[] = STAGES.map((s) => s.stream);
export const DEAD_LETTER_STREAMS: string[] = [
  ...STAGES.map((s) => s.deadLetterStream),
  ...SERVICE_CONSUMERS.map((c) => c.deadLetterStream),
];
