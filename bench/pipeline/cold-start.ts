/**
 * The first load after a start: `trendgate start` on a fresh database, then at once
 * `trendgate loadtest` at a steady rate, with and without the enrichment threads' warm-up
 * (ENRICH_WARMUP_TEXTS, src/nlp/warmup-inputs.ts).
 *
 *   npx tsx bench/pipeline/cold-start.ts [--runs 3] [--rate 100] [--duration 30] [--warmup 0,1000]
 *
 * Each run starts the whole system as a user does (`node bin/trendgate.js start`, its own
 * database and Redis prefix, dropped at the end), times it until "Trendgate is up", runs the
 * load test CLI against it and reads its report.json. The settings alternate within a run, so a
 * machine that slows down during the bench slows both. Prints every run and the medians; the
 * last line is one JSON object of the medians per setting. Figures on a shared machine are
 * provisional.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Redis } from "ioredis";

import { freePort } from "../tools/free-port.js";
import { median } from "../tools/median.js";
import { benchDatabaseUrl, deleteRedisPrefix, dropBenchDatabase } from "./bench-env.js";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    rate: { type: "string", default: "100" },
    duration: { type: "string", default: "30" },
    warmup: { type: "string", default: "0,1000" },
  },
});
/** A whole number ≥ `min` from an option, or a clear error naming the option. */
function wholeNumber(option: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${option} must be a whole number ≥ ${min}, got "${text}"`);
  return value;
}
const RUNS = wholeNumber("runs", args.runs, 1);
wholeNumber("rate", args.rate, 1);
wholeNumber("duration", args.duration, 1);
const SETTINGS = args.warmup.split(",").map((w) => wholeNumber("warmup", w.trim(), 0));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const KEY = `cold${randomBytes(8).toString("hex")}`;
const START_TIMEOUT_MS = 180_000;
const CLI = fileURLToPath(new URL("../../bin/trendgate.js", import.meta.url));

interface Figures {
  startupSeconds: number;
  endToEndP50: number;
  endToEndP99: number;
  ingestP99: number;
}

/** Resolves when the child prints `marker`, rejects when it exits or the time is up first. */
function waitForOutput(child: ChildProcess, marker: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => reject(new Error(`no "${marker}" in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4096);
      if (seen.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${marker}": ${seen.slice(-800)}`));
    });
  });
}

function run(command: string, argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { env, stdio: ["ignore", "ignore", "inherit"] });
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${argv[0]} exited with ${code}`)),
    );
  });
}

/** Stops the system (SIGTERM) and waits for it, unless it has exited already. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

async function coldRun(warmupTexts: number): Promise<Figures> {
  const suffix = randomBytes(6).toString("hex");
  const dbName = `tg_cold_${suffix}`;
  const prefix = `cold-${suffix}:`;
  const databaseUrl = benchDatabaseUrl(dbName);
  const dir = await mkdtemp(path.join(tmpdir(), "trendgate-cold-"));
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    STREAM_PREFIX: prefix,
    PORT: String(port),
    TRENDGATE_API_KEYS: `integrator:${KEY}`,
    BOOTSTRAP_KEYS: "false",
    VECTOR_STORE_PATH: path.join(dir, "vectors"),
    PUBLISH_JSONL_PATH: path.join(dir, "published.jsonl"),
    LOG_LEVEL: "warn",
    ENRICH_WARMUP_TEXTS: String(warmupTexts),
  };
  const started = performance.now();
  const system = spawn(process.execPath, [CLI, "start"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    await waitForOutput(system, "Trendgate is up", START_TIMEOUT_MS);
    const startupSeconds = (performance.now() - started) / 1000;
    const out = path.join(dir, "loadtest");
    await run(
      process.execPath,
      [
        CLI,
        "loadtest",
        "--url",
        `http://127.0.0.1:${port}/graphql`,
        "--key",
        KEY,
        "--rate",
        args.rate,
        "--duration",
        args.duration,
        "--database-url",
        databaseUrl,
        "--out",
        out,
        "--no-progress",
      ],
      env,
    );
    const report = JSON.parse(await readFile(path.join(out, "report.json"), "utf8")) as {
      endToEndMs: { p50: number; p99: number };
      ingestLatencyMs: { p99: number };
    };
    return {
      startupSeconds,
      endToEndP50: report.endToEndMs.p50,
      endToEndP99: report.endToEndMs.p99,
      ingestP99: Math.round(report.ingestLatencyMs.p99),
    };
  } finally {
    await stop(system);
    await dropBenchDatabase(dbName);
    const redis = new Redis(REDIS_URL);
    await deleteRedisPrefix(redis, prefix);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  }
}

const results = new Map<number, Figures[]>(SETTINGS.map((w) => [w, []]));
for (let r = 1; r <= RUNS; r++) {
  for (const warmup of SETTINGS) {
    const figures = await coldRun(warmup);
    results.get(warmup)!.push(figures);
    console.error(
      `run ${r} warm-up ${warmup}: up after ${figures.startupSeconds.toFixed(1)} s, end-to-end p50 ${figures.endToEndP50} / p99 ${figures.endToEndP99} ms, ingest p99 ${figures.ingestP99} ms`,
    );
  }
}

console.log(
  `\nfirst ${args.duration} s at ${args.rate} items/s after a start; ${RUNS} run(s) per setting`,
);
const summary: Record<string, Figures & { endToEndP99Runs: number[] }> = {};
for (const [warmup, runs] of results) {
  const pick = (f: (x: Figures) => number) => median(runs.map(f));
  summary[`warmup_${warmup}`] = {
    startupSeconds: Number(pick((x) => x.startupSeconds).toFixed(1)),
    endToEndP50: pick((x) => x.endToEndP50),
    endToEndP99: pick((x) => x.endToEndP99),
    ingestP99: pick((x) => x.ingestP99),
    endToEndP99Runs: runs.map((x) => x.endToEndP99),
  };
  console.log(
    `ENRICH_WARMUP_TEXTS=${String(warmup).padEnd(6)} up ${summary[`warmup_${warmup}`]!.startupSeconds} s · end-to-end p50 ${pick((x) => x.endToEndP50)} ms, p99 ${pick((x) => x.endToEndP99)} ms (runs ${runs.map((x) => x.endToEndP99).join(" / ")}) · ingest p99 ${pick((x) => x.ingestP99)} ms`,
  );
}
console.log(JSON.stringify(summary));
