import type { LoadStep } from "./load-schedule.js";
import type { MixKind, MixWeights } from "./loadtest-mix.js";
import type { ScalableStage } from "./stages.js";

// The load test's options, samples and report, and the quantiles it reports (kept apart from
// the runner in loadtest.ts so that file holds only the run itself).

export interface LoadtestOptions {
  /** The gateway's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  /** An integrator (or operator) key. */
  key: string;
  steps: LoadStep[];
  /** Most requests in flight (default 64); past it the client falls behind and says so. */
  concurrency?: number;
  seed?: number;
  mix?: MixWeights;
  sampleEveryMs?: number;
  /** How long to wait after the last send for items to reach a final state (default 120 s). */
  drainTimeoutMs?: number;
  /** Read provenance with SQL instead of GraphQL (faster for large runs). */
  databaseUrl?: string;
  /** The autoscaler's /metrics, when one runs (`trendgate start --autoscale`); sampled if it answers. */
  scalerMetricsUrl?: string;
  /** The gateway's /metrics (default: /metrics on the API's origin) and its METRICS_TOKEN, if any. */
  metricsUrl?: string;
  metricsToken?: string;
  onProgress?: (progress: LoadtestProgress) => void;
  signal?: AbortSignal;
}

export interface LoadtestProgress {
  phase: "load" | "drain" | "collect";
  planned: number;
  sent: number;
  accepted: number;
  refused: number;
  backlog: number;
}

/** One sample of the system, taken every second during the run. */
export interface LoadtestSample {
  /** Seconds since the first send. */
  t: number;
  targetRate: number;
  sent: number;
  accepted: number;
  refused: number;
  /** Per stage: lag and pending of its group, from GET /metrics. */
  lag: Partial<Record<ScalableStage, number>>;
  pending: Partial<Record<ScalableStage, number>>;
  oldestPendingSeconds: Partial<Record<ScalableStage, number>>;
  /** Per stage: consumers in its group, from the pipelineHealth query. */
  consumers: Partial<Record<ScalableStage, number>>;
  /** Per stage: handler p50 (seconds) over this interval, when the gateway process runs workers. */
  handlerP50: Partial<Record<string, number>>;
  /** From the autoscaler's /metrics, when it answers. */
  desiredWorkers: Partial<Record<ScalableStage, number>>;
  workers: Partial<Record<ScalableStage, number>>;
}

export interface Quantiles {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface LoadtestReport {
  runId: string;
  url: string;
  steps: LoadStep[];
  startedAt: string;
  loadSeconds: number;
  drainSeconds: number;
  drained: boolean;
  counts: {
    planned: number;
    sent: number;
    accepted: number;
    duplicates: number;
    refusedBackpressure: number;
    invalid: number;
    errors: number;
    /** Items the client could not send on time because `concurrency` requests were in flight. */
    lateSends: number;
    byKind: Record<
      MixKind,
      {
        sent: number;
        accepted: number;
        duplicates: number;
        refused: number;
        invalid: number;
        errors: number;
      }
    >;
  };
  errorSamples: string[];
  /** Ingest request round trip (ms) as the client saw it. */
  ingestLatencyMs: Quantiles;
  /** Per stage, from the previous step's provenance entry to this step's (ms): queueing + work. */
  stageLatencyMs: Record<string, Quantiles>;
  endToEndMs: Quantiles;
  finalStates: Record<string, number>;
  /** Accepted items in PUBLISHED, REJECTED, CANCELLED, or waiting for a human (ESCALATED, PAUSED). */
  settled: number;
  /** Accepted items in any other state at the end (still moving, or stuck). */
  notSettled: number;
  /** Per second after the start: items that finished their last step, and their end-to-end p50. */
  completions: { t: number; count: number; p50Ms: number | null }[];
  samples: LoadtestSample[];
}

export const SETTLED_STATES = ["PUBLISHED", "REJECTED", "CANCELLED", "ESCALATED", "PAUSED"];
export type GqlResponse<T> = {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
};

export function quantiles(values: number[]): Quantiles {
  if (values.length === 0) return { n: 0, p50: null, p95: null, p99: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1)! };
}
