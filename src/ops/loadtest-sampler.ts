import type { GqlResponse, LoadtestSample } from "./loadtest-report.js";
import {
  histogramBuckets,
  histogramQuantile,
  parsePrometheusText,
  type PromSample,
  select,
  subtractBuckets,
} from "./prometheus-text.js";
import { SCALABLE_STAGES, type ScalableStage, STAGE_STREAMS } from "./stages.js";

export const HEALTH = `{ pipelineHealth { outboxBacklog streams { stream groups { name lag pending consumers { name idleMs } } } } }`;

interface PipelineHealth {
  pipelineHealth: {
    outboxBacklog: number;
    streams: {
      stream: string;
      groups: {
        name: string;
        lag: number | null;
        pending: number;
        consumers: { name: string; idleMs: number }[];
      }[];
    }[];
  };
}

type Gql = <T>(
  query: string,
  variables?: Record<string, unknown>,
  timeoutMs?: number,
) => Promise<GqlResponse<T> & { status: number }>;

/**
 * Samples the system under load from the outside: the gateway's /metrics (stage gauges and
 * handler durations), the pipelineHealth query (consumers, and the backlog the drain waits on),
 * and the autoscaler's /metrics when there is one. Keeps the previous handler histogram, so
 * each sample's p50 covers only its own interval.
 */
export class LoadtestSampler {
  private previousHistogram = new Map<string, Map<number, number>>();

  constructor(
    private readonly o: {
      gql: Gql;
      metricsUrl: string;
      metricsHeaders: Record<string, string>;
      scalerMetricsUrl?: string;
    },
  ) {}

  /**
   * Fills `sample`'s per-stage figures from what answers (a source that does not is skipped);
   * returns the backlog (outbox plus every stage's lag and pending), undefined when
   * pipelineHealth did not answer.
   */
  async fill(sample: LoadtestSample): Promise<number | undefined> {
    const [metrics, health, scaler] = await Promise.allSettled([
      fetch(this.o.metricsUrl, {
        headers: this.o.metricsHeaders,
        signal: AbortSignal.timeout(3000),
      }).then((r) => {
        if (!r.ok) throw new Error(`/metrics answered ${r.status}`);
        return r.text();
      }),
      this.o.gql<PipelineHealth>(HEALTH, undefined, 5000),
      this.o.scalerMetricsUrl
        ? fetch(this.o.scalerMetricsUrl, { signal: AbortSignal.timeout(2000) }).then((r) =>
            r.text(),
          )
        : Promise.reject(new Error("no scaler")),
    ]);
    if (metrics.status === "fulfilled") {
      const parsed = parsePrometheusText(metrics.value);
      readStageGauges(parsed, sample);
      const now = new Map<string, Map<number, number>>();
      for (const stage of new Set(
        select(parsed, "trendgate_stage_duration_seconds_count").map(
          (s) => s.labels["stage"] ?? "",
        ),
      )) {
        const buckets = histogramBuckets(parsed, "trendgate_stage_duration_seconds", { stage });
        now.set(stage, buckets);
        const q = histogramQuantile(
          0.5,
          subtractBuckets(buckets, this.previousHistogram.get(stage)),
        );
        if (q !== null) sample.handlerP50[stage] = q;
      }
      this.previousHistogram = now;
    }
    let backlog: number | undefined;
    if (health.status === "fulfilled" && health.value.data) {
      const h = health.value.data.pipelineHealth;
      let total = h.outboxBacklog;
      for (const stage of SCALABLE_STAGES) {
        const { stream, group } = STAGE_STREAMS[stage];
        const g = h.streams.find((s) => s.stream === stream)?.groups.find((x) => x.name === group);
        if (!g) continue;
        sample.consumers[stage] = g.consumers.length;
        total += (g.lag ?? 0) + g.pending;
        // /metrics may be off or unreachable; pipelineHealth carries the same figures.
        sample.lag[stage] ??= g.lag ?? 0;
        sample.pending[stage] ??= g.pending;
      }
      backlog = total;
    }
    if (scaler.status === "fulfilled") {
      const parsed = parsePrometheusText(scaler.value);
      for (const s of select(parsed, "trendgate_autoscale_desired_workers"))
        sample.desiredWorkers[s.labels["stage"] as ScalableStage] = s.value;
      for (const s of select(parsed, "trendgate_autoscale_workers"))
        sample.workers[s.labels["stage"] as ScalableStage] = s.value;
    }
    return backlog;
  }
}

function readStageGauges(parsed: PromSample[], sample: LoadtestSample): void {
  for (const stage of SCALABLE_STAGES) {
    const labels = { stream: STAGE_STREAMS[stage].stream, group: STAGE_STREAMS[stage].group };
    const lag = select(parsed, "trendgate_stream_group_lag", labels)[0];
    const pending = select(parsed, "trendgate_stream_group_pending", labels)[0];
    const oldest = select(parsed, "trendgate_stream_group_oldest_pending_seconds", labels)[0];
    if (lag) sample.lag[stage] = lag.value;
    if (pending) sample.pending[stage] = pending.value;
    if (oldest) sample.oldestPendingSeconds[stage] = oldest.value;
  }
}
