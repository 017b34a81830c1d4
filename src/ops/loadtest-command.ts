import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";

import cliProgress from "cli-progress";

import {
  type LoadStep,
  LoadtestError,
  type LoadtestReport,
  parseSteps,
  runLoadtest,
} from "./loadtest.js";
import { renderLoadtestHtml, renderLoadtestSvg } from "./loadtest-chart.js";
import { parseMix } from "./loadtest-mix.js";

export const LOADTEST_USAGE = `usage: trendgate loadtest [--url URL] [--key KEY] (--rate N --duration S | --steps "rate:s,rate:s,...")
                          [--out DIR] [--mix K=W,...] [--concurrency N] [--seed N] [--drain-timeout S]
                          [--database-url URL] [--scaler-url URL] [--no-progress]

  --url            GraphQL endpoint (default http://127.0.0.1:$PORT/graphql, PORT default 4000)
  --key            integrator or operator key (default: the first such key in TRENDGATE_API_KEYS)
  --rate/--duration  a steady rate in items/s for S seconds (default 50 for 60)
  --steps          a stepped rate, e.g. "20:30,80:30,20:30"
  --out            where report.json, report.svg and report.html go (default bench/results/loadtest-<time>)
  --mix            what is posted, e.g. "clean=1" (default clean=0.7,toxic=0.08,unsure=0.08,
                   duplicate=0.08,malformed=0.06)
  --concurrency    requests in flight at most (default max(64, 4 × the peak rate))
  --database-url   read provenance with SQL instead of GraphQL (faster for big runs)
  --scaler-url     the autoscaler's /metrics (default http://127.0.0.1:9464/metrics; sampled if it answers)`;

/** The key the load test posts with when --key is absent: an integrator's, else an operator's. */
export function keyFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const pairs = (env.TRENDGATE_API_KEYS ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => [p.slice(0, p.indexOf(":")), p.slice(p.indexOf(":") + 1)] as const);
  return (
    pairs.find(([role]) => role === "integrator")?.[1] ??
    pairs.find(([role]) => role === "operator")?.[1]
  );
}

/**
 * `trendgate loadtest ...` (argv: the arguments after `loadtest`). Prints a progress bar on a
 * TTY, then the figures; writes report.json, report.svg and report.html. Throws LoadtestError
 * (code LOADTEST_*) for bad options or an unreachable/refusing gateway.
 */
export async function runLoadtestCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      key: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      steps: { type: "string" },
      out: { type: "string" },
      concurrency: { type: "string" },
      mix: { type: "string" },
      seed: { type: "string", default: "1" },
      "drain-timeout": { type: "string", default: "120" },
      "database-url": { type: "string" },
      "scaler-url": { type: "string", default: "http://127.0.0.1:9464/metrics" },
      "no-progress": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${LOADTEST_USAGE}\n`);
    return;
  }
  const url = values.url ?? `http://127.0.0.1:${process.env.PORT || 4000}/graphql`;
  const key = values.key ?? keyFromEnv(process.env);
  if (!key)
    throw new LoadtestError(
      "LOADTEST_BAD_OPTIONS",
      "--key is required (or an integrator:<key> pair in TRENDGATE_API_KEYS)",
    );
  if (values.steps && (values.rate || values.duration))
    throw new LoadtestError("LOADTEST_BAD_OPTIONS", "use either --steps or --rate/--duration");
  const steps: LoadStep[] = values.steps
    ? parseSteps(values.steps)
    : parseSteps(`${values.rate ?? 50}:${values.duration ?? 60}`);
  const positive = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0)
      throw new LoadtestError("LOADTEST_BAD_OPTIONS", `--${name} must be a positive number`);
    return n;
  };
  const out =
    values.out ??
    path.join("bench", "results", `loadtest-${new Date().toISOString().replace(/[:.]/g, "-")}`);

  const showBar = !values["no-progress"] && process.stderr.isTTY;
  const bar = new cliProgress.SingleBar(
    {
      format:
        "{phase} [{bar}] {value}/{total} sent | accepted {accepted} | refused {refused} | backlog {backlog}",
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  let report: LoadtestReport;
  try {
    report = await runLoadtest({
      url,
      key,
      steps,
      concurrency:
        values.concurrency === undefined ? undefined : positive("concurrency", values.concurrency),
      seed: Number(values.seed),
      mix: values.mix === undefined ? undefined : parseMix(values.mix),
      drainTimeoutMs: positive("drain-timeout", values["drain-timeout"]) * 1000,
      databaseUrl: values["database-url"],
      scalerMetricsUrl: values["scaler-url"],
      // The gateway serves /metrics on its API port only to this bearer token (or on METRICS_PORT).
      metricsToken: process.env.METRICS_TOKEN,
      metricsUrl: process.env.METRICS_PORT
        ? `http://127.0.0.1:${process.env.METRICS_PORT}/metrics`
        : undefined,
      signal: controller.signal,
      onProgress: (p) => {
        if (!showBar) return;
        const payload = {
          phase: p.phase.padEnd(7),
          accepted: p.accepted,
          refused: p.refused,
          backlog: p.backlog,
        };
        if (!started) {
          bar.start(p.planned, p.sent, payload);
          started = true;
        } else bar.update(p.sent, payload);
      },
    });
  } finally {
    if (started) bar.stop();
    process.removeListener("SIGINT", onSigint);
  }

  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(out, "report.svg"), renderLoadtestSvg(report));
  await writeFile(path.join(out, "report.html"), renderLoadtestHtml(report));
  process.stdout.write(
    `${summarize(report)}\nreport: ${path.join(out, "report.html")} (report.json, report.svg beside it)\n`,
  );
}

export function summarize(report: LoadtestReport): string {
  const c = report.counts;
  const ms = (v: number | null) => (v === null ? "-" : `${Math.round(v)}`);
  const lines = [
    `load: ${report.steps.map((s) => `${s.rate}/s x ${s.seconds}s`).join(", ")}; drained ${report.drained ? "yes" : "NO"} after ${report.drainSeconds.toFixed(1)} s`,
    `sent ${c.sent} / planned ${c.planned}; accepted ${c.accepted} (duplicates ${c.duplicates}); refused BACKPRESSURE ${c.refusedBackpressure}; invalid ${c.invalid}; errors ${c.errors}`,
    `settled ${report.settled}, not settled ${report.notSettled}; final states ${JSON.stringify(report.finalStates)}`,
    "stage        n      p50 ms   p99 ms",
    ...Object.entries(report.stageLatencyMs).map(
      ([s, q]) =>
        `${s.padEnd(10)} ${String(q.n).padStart(5)} ${ms(q.p50).padStart(9)} ${ms(q.p99).padStart(8)}`,
    ),
    `${"end-to-end".padEnd(10)} ${String(report.endToEndMs.n).padStart(5)} ${ms(report.endToEndMs.p50).padStart(9)} ${ms(report.endToEndMs.p99).padStart(8)}`,
    `ingest request p50 ${ms(report.ingestLatencyMs.p50)} ms, p99 ${ms(report.ingestLatencyMs.p99)} ms`,
  ];
  const peak = (pick: (s: LoadtestReport["samples"][number]) => number) =>
    Math.max(0, ...report.samples.map(pick));
  lines.push(
    `peak backlog (lag+pending, all stages) ${peak((s) => Object.values(s.lag).reduce((a, b) => a + (b ?? 0), 0) + Object.values(s.pending).reduce((a, b) => a + (b ?? 0), 0))}; ` +
      `final backlog ${(() => {
        const s = report.samples.at(-1);
        return s
          ? Object.values(s.lag).reduce((a, b) => a + (b ?? 0), 0) +
              Object.values(s.pending).reduce((a, b) => a + (b ?? 0), 0)
          : 0;
      })()}`,
  );
  if (report.errorSamples.length)
    lines.push(`first errors: ${report.errorSamples.slice(0, 3).join(" | ")}`);
  return lines.join("\n");
}
