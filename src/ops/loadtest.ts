import { randomBytes } from "node:crypto";

import { trailsFromGraphql, trailsFromSql } from "./item-trails.js";
import { dueBy, rateAt } from "./load-schedule.js";
import { analyzeTrails } from "./loadtest-analysis.js";
import { LoadtestError } from "./loadtest-error.js";
import { createLoadtestMix, DEFAULT_MIX, MIX_KINDS, type MixKind } from "./loadtest-mix.js";
import {
  type GqlResponse,
  type LoadtestOptions,
  type LoadtestProgress,
  type LoadtestReport,
  type LoadtestSample,
  quantiles,
} from "./loadtest-report.js";
import { HEALTH, LoadtestSampler } from "./loadtest-sampler.js";

export { dueBy, type LoadStep, parseSteps } from "./load-schedule.js";
export { LoadtestError } from "./loadtest-error.js";
export * from "./loadtest-report.js";

const INGEST = `mutation($input: TrendInput!) { ingestTrend(input: $input) { id status duplicate } }`;

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
  // Open loop: each item is one request, so the rate is offered only while requests in flight
  // can cover rate × request time; the default allows requests of up to 4 s at the peak rate.
  const peakRate = Math.max(...options.steps.map((step) => step.rate));
  const concurrency = options.concurrency ?? Math.max(64, Math.ceil(4 * peakRate));
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
  const sampler = new LoadtestSampler({
    gql,
    metricsUrl,
    metricsHeaders,
    scalerMetricsUrl: options.scalerMetricsUrl,
  });
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
    backlog = (await sampler.fill(sample)) ?? backlog;
    samples.push(sample);
    report();
  };
  let sampling = true;
  const samplingLoop = (async () => {
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
  await samplingLoop;

  // --- collect ------------------------------------------------------------------------------
  phase = "collect";
  report();
  const trails = options.databaseUrl
    ? await trailsFromSql(options.databaseUrl, [...accepted.keys()])
    : await trailsFromGraphql(gql, [...accepted.keys()]);
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
    ...analyzeTrails(trails, startMs),
    samples,
  };
}
