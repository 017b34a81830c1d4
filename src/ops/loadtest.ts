import { randomBytes } from "node:crypto";

import { trailsFromGraphql, trailsFromSql } from "./item-trails.js";
import { dueBy, rateAt } from "./load-schedule.js";
import { LoadtestError } from "./loadtest-error.js";
import { createLoadtestMix, DEFAULT_MIX, MIX_KINDS, type MixKind } from "./loadtest-mix.js";
import {
  histogramBuckets,
  histogramQuantile,
  parsePrometheusText,
  type PromSample,
  select,
  subtractBuckets,
} from "./prometheus-text.js";
import { SCALABLE_STAGES, type ScalableStage, STAGE_STREAMS } from "./stages.js";

export { dueBy, type LoadStep, parseSteps } from "./load-schedule.js";
export { LoadtestError } from "./loadtest-error.js";
export * from "./loadtest-report.js";
import {
  type GqlResponse,
  type LoadtestOptions,
  type LoadtestProgress,
  type LoadtestReport,
  type LoadtestSample,
  quantiles,
  SETTLED_STATES,
} from "./loadtest-report.js";

/** The pipeline's steps in order; a stage's latency runs from the previous one present. */
const STEP_ORDER = ["ingest", "plan", "etl", "embed", "judge", "publish"] as const;

const INGEST = `mutation($input: TrendInput!) { ingestTrend(input: $input) { id status duplicate } }`;
const HEALTH = `{ pipelineHealth { outboxBacklog streams { stream groups { name lag pending consumers { name idleMs } } } } }`;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Drives the gateway at a steady or stepped rate with a realistic mix, samples /metrics and
 * pipelineHealth every second, waits (bounded) for the accepted items to settle, and measures
 * per-stage latency from their provenance. Pure HTTP: it works against any running Trendgate.
 */
export async function runLoadtest(options: LoadtestOptions): Promise<LoadtestReport> {
  const runId = `lt-${Date.now().toString(36)}-${randomBytes(2).toString("hex")}`;
  const concurrency = options.concurrency ?? 64;
  const sampleEveryMs = options.sampleEveryMs ?? 1000;
  const base = new URL(options.url);
  const metricsUrl = options.metricsUrl ?? new URL("/metrics", base).toString();
  const metricsHeaders: Record<string, string> = options.metricsToken
    ? { authorization: `Bearer ${options.metricsToken}` }
    : {};
  const headers = { "content-type": "application/json", authorization: `Bearer ${options.key}` };
  const gql = async <T>(
    query: string,
    variables?: Record<string, unknown>,
    timeoutMs = 30_000,
  ): Promise<GqlResponse<T> & { status: number }> => {
    const res = await fetch(options.url, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json().catch(() => ({}))) as GqlResponse<T>;
    return { ...body, status: res.status };
  };

  // Fail fast with a clear message rather than a run full of connection errors.
  try {
    const probe = await gql<{ pipelineHealth: unknown }>(HEALTH, undefined, 5000);
    const code = probe.errors?.[0]?.extensions?.code;
    if (code === "UNAUTHENTICATED" || code === "FORBIDDEN")
      throw new LoadtestError("LOADTEST_UNAUTHORIZED", `the gateway refused the key (${code})`);
  } catch (error) {
    if (error instanceof LoadtestError) throw error;
    throw new LoadtestError(
      "LOADTEST_UNREACHABLE",
      `cannot reach ${options.url}: ${(error as Error).message}`,
    );
  }

  const steps = options.steps;
  const totalSeconds = steps.reduce((s, x) => s + x.seconds, 0);
  const planned = dueBy(steps, totalSeconds);
  const next = createLoadtestMix(runId, options.seed ?? 1, options.mix ?? DEFAULT_MIX);
  const byKind = Object.fromEntries(
    MIX_KINDS.map((k) => [
      k,
      { sent: 0, accepted: 0, duplicates: 0, refused: 0, invalid: 0, errors: 0 },
    ]),
  ) as LoadtestReport["counts"]["byKind"];
  const counts = {
    planned,
    sent: 0,
    accepted: 0,
    duplicates: 0,
    refusedBackpressure: 0,
    invalid: 0,
    errors: 0,
    lateSends: 0,
    byKind,
  };
  const accepted = new Map<string, MixKind>();
  const ingestMs: number[] = [];
  const errorSamples: string[] = [];
  let inFlight = 0;
  let backlog = 0;
  let phase: LoadtestProgress["phase"] = "load";
  const report = () =>
    options.onProgress?.({
      phase,
      planned,
      sent: counts.sent,
      accepted: counts.accepted,
      refused: counts.refusedBackpressure,
      backlog,
    });

  const send = async () => {
    const item = next();
    const stats = byKind[item.kind];
    counts.sent++;
    stats.sent++;
    inFlight++;
    const started = performance.now();
    try {
      const res = await gql<{ ingestTrend: { id: string; status: string; duplicate: boolean } }>(
        INGEST,
        { input: item.input },
      );
      ingestMs.push(performance.now() - started);
      const code = res.errors?.[0]?.extensions?.code;
      if (res.data?.ingestTrend) {
        counts.accepted++;
        stats.accepted++;
        if (res.data.ingestTrend.duplicate) {
          counts.duplicates++;
          stats.duplicates++;
        } else accepted.set(res.data.ingestTrend.id, item.kind);
      } else if (code === "BACKPRESSURE") {
        counts.refusedBackpressure++;
        stats.refused++;
      } else if (code === "BAD_USER_INPUT") {
        counts.invalid++;
        stats.invalid++;
      } else {
        counts.errors++;
        stats.errors++;
        if (errorSamples.length < 10)
          errorSamples.push(`${res.status} ${code ?? ""} ${res.errors?.[0]?.message ?? ""}`.trim());
      }
    } catch (error) {
      counts.errors++;
      stats.errors++;
      if (errorSamples.length < 10) errorSamples.push((error as Error).message);
    } finally {
      inFlight--;
    }
  };

  // --- sampling -----------------------------------------------------------------------------
  const samples: LoadtestSample[] = [];
  let previousHistogram = new Map<string, Map<number, number>>();
  let startMs = Date.now();
  const takeSample = async () => {
    const t = (Date.now() - startMs) / 1000;
    const sample: LoadtestSample = {
      t: Math.round(t * 10) / 10,
      targetRate: phase === "load" ? rateAt(steps, t) : 0,
      sent: counts.sent,
      accepted: counts.accepted,
      refused: counts.refusedBackpressure,
      lag: {},
      pending: {},
      oldestPendingSeconds: {},
      consumers: {},
      handlerP50: {},
      desiredWorkers: {},
      workers: {},
    };
    const [metrics, health, scaler] = await Promise.allSettled([
      fetch(metricsUrl, { headers: metricsHeaders, signal: AbortSignal.timeout(3000) }).then(
        (r) => {
          if (!r.ok) throw new Error(`/metrics answered ${r.status}`);
          return r.text();
        },
      ),
      gql<{
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
      }>(HEALTH, undefined, 5000),
      options.scalerMetricsUrl
        ? fetch(options.scalerMetricsUrl, { signal: AbortSignal.timeout(2000) }).then((r) =>
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
        const q = histogramQuantile(0.5, subtractBuckets(buckets, previousHistogram.get(stage)));
        if (q !== null) sample.handlerP50[stage] = q;
      }
      previousHistogram = now;
    }
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
    samples.push(sample);
    report();
  };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const started = Date.now();
      await takeSample().catch(() => undefined);
      await sleep(Math.max(0, sampleEveryMs - (Date.now() - started)));
    }
  })();

  // --- load ---------------------------------------------------------------------------------
  startMs = Date.now();
  const startedAt = new Date(startMs).toISOString();
  const sends = new Set<Promise<void>>();
  let late = 0;
  while (!options.signal?.aborted) {
    const elapsed = (Date.now() - startMs) / 1000;
    if (elapsed >= totalSeconds && counts.sent >= planned) break;
    const due = dueBy(steps, Math.min(elapsed, totalSeconds));
    while (counts.sent < due && inFlight < concurrency) {
      const p = send();
      sends.add(p);
      void p.finally(() => sends.delete(p));
    }
    if (counts.sent < due) late = Math.max(late, due - counts.sent);
    report();
    await sleep(10);
  }
  await Promise.all(sends);
  counts.lateSends = late;
  const loadSeconds = (Date.now() - startMs) / 1000;

  // --- drain --------------------------------------------------------------------------------
  phase = "drain";
  const drainStart = Date.now();
  const drainTimeoutMs = options.drainTimeoutMs ?? 120_000;
  let quietSamples = 0;
  let drained = false;
  let seen = samples.length;
  while (!options.signal?.aborted && Date.now() - drainStart < drainTimeoutMs) {
    await sleep(250);
    if (samples.length === seen) continue;
    seen = samples.length;
    quietSamples = backlog === 0 ? quietSamples + 1 : 0;
    if (quietSamples >= 2) {
      drained = true;
      break;
    }
  }
  const drainSeconds = (Date.now() - drainStart) / 1000;
  sampling = false;
  await sampler;

  // --- collect ------------------------------------------------------------------------------
  phase = "collect";
  report();
  const trails = options.databaseUrl
    ? await trailsFromSql(options.databaseUrl, [...accepted.keys()])
    : await trailsFromGraphql(gql, [...accepted.keys()]);
  const finalStates: Record<string, number> = {};
  const stageValues: Record<string, number[]> = {};
  const endToEnd: number[] = [];
  const completionBuckets = new Map<number, number[]>();
  for (const trail of trails) {
    finalStates[trail.status] = (finalStates[trail.status] ?? 0) + 1;
    const first = new Map<string, number>();
    for (const e of trail.steps) if (!first.has(e.step)) first.set(e.step, e.at);
    let previous: number | undefined;
    let last: number | undefined;
    for (const step of STEP_ORDER) {
      const at = first.get(step);
      if (at === undefined) continue;
      if (previous !== undefined) (stageValues[step] ??= []).push(Math.max(0, at - previous));
      previous = at;
      last = at;
    }
    const ingestAt = first.get("ingest");
    if (
      ingestAt !== undefined &&
      last !== undefined &&
      last > ingestAt &&
      SETTLED_STATES.includes(trail.status)
    ) {
      endToEnd.push(last - ingestAt);
      const second = Math.max(0, Math.floor((last - startMs) / 1000));
      const bucket = completionBuckets.get(second) ?? [];
      bucket.push(last - ingestAt);
      completionBuckets.set(second, bucket);
    }
  }
  const settled = trails.filter((t) => SETTLED_STATES.includes(t.status)).length;
  const lastSecond = Math.max(0, ...completionBuckets.keys());
  const completions = Array.from(
    { length: completionBuckets.size ? lastSecond + 1 : 0 },
    (_, t) => {
      const values = completionBuckets.get(t) ?? [];
      return { t, count: values.length, p50Ms: quantiles(values).p50 };
    },
  );

  return {
    runId,
    url: options.url,
    steps,
    startedAt,
    loadSeconds,
    drainSeconds,
    drained,
    counts,
    errorSamples,
    ingestLatencyMs: quantiles(ingestMs),
    stageLatencyMs: Object.fromEntries(
      STEP_ORDER.slice(1)
        .filter((s) => stageValues[s])
        .map((s) => [s, quantiles(stageValues[s]!)]),
    ),
    endToEndMs: quantiles(endToEnd),
    finalStates,
    settled,
    notSettled: trails.length - settled,
    completions,
    samples,
  };
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
