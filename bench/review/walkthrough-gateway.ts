/**
 * The `trendgate start` child of bench/review/walkthrough.ts: a fresh database and Redis prefix
 * of its own, the keys and policy the walkthrough needs, webhooks pointed at the script's
 * receiver, and a clean stop (SIGINT, then wait for the exit).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { openSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";

/** The keys the walkthrough uses, by the part they play. */
export interface WalkthroughKeys {
  integrator: string;
  operator: string;
  /** Two English reviewers who approve (part 1) or reject (part 2) the toxic item. */
  en1: string;
  en2: string;
  /** A German reviewer who must never be routed the English item. */
  de: string;
  /** A third English reviewer, who decides the appeal (the first two may not). */
  en3: string;
}

export function newKeys(): WalkthroughKeys {
  const key = () => randomBytes(18).toString("base64url");
  return { integrator: key(), operator: key(), en1: key(), en2: key(), de: key(), en3: key() };
}

/** TRENDGATE_API_KEYS in the documented syntax (docs/REVIEW.md): capacity 3 is the default. */
export function keysVariable(keys: WalkthroughKeys): string {
  return [
    `integrator:${keys.integrator}`,
    `operator;name=walkthrough-operator:${keys.operator}`,
    `moderator;name=en1;languages=en;capacity=3:${keys.en1}`,
    `moderator;name=en2;languages=en;capacity=3:${keys.en2}`,
    `moderator;name=de;languages=de;capacity=3:${keys.de}`,
    `moderator;name=en3;languages=en;capacity=3:${keys.en3}`,
  ].join(",");
}

/** Two agreeing reviews for TOXICITY; every other threshold stays the default. */
export const WALKTHROUGH_POLICY = { review: { requiredReviews: { TOXICITY: 2 } } };

export interface GatewayOptions {
  port: number;
  databaseUrl: string;
  streamPrefix: string;
  keys: WalkthroughKeys;
  webhookUrl: string;
  webhookSecret: string;
  /** Where the child's output goes (its log lines are JSON on stdout). */
  logPath: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const BIN = fileURLToPath(new URL("../../bin/trendgate.js", import.meta.url));

export interface Gateway {
  url: string;
  dir: string;
  publishedPath: string;
  env: Record<string, string>;
  /** SIGINT to the process group, then the exit (SIGKILL after 30 s). */
  stop(): Promise<Exit>;
}

/** Drops the walkthrough's own database and deletes its own Redis keys, so a run starts empty. */
export async function freshState(
  databaseUrl: string,
  streamPrefix: string,
  redisUrl: string,
): Promise<void> {
  const target = new URL(databaseUrl);
  const name = target.pathname.slice(1);
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop database "${name}"`);
  const admin = new URL(databaseUrl);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
  if (!streamPrefix) throw new Error("refusing to clear Redis without a STREAM_PREFIX");
  const redis = new Redis(redisUrl);
  try {
    for await (const batch of redis.scanStream({ match: `${streamPrefix}*`, count: 500 })) {
      if ((batch as string[]).length) await redis.del(...(batch as string[]));
    }
  } finally {
    redis.disconnect();
  }
}

export async function startGateway(
  options: GatewayOptions,
  readyTimeoutMs = 180_000,
): Promise<Gateway> {
  const dir = await mkdtemp(join(tmpdir(), "trendgate-walkthrough-"));
  const policyPath = join(dir, "policy.json");
  await writeFile(policyPath, JSON.stringify(WALKTHROUGH_POLICY, null, 2));
  const publishedPath = join(dir, "published.jsonl");
  const env: Record<string, string> = {
    PORT: String(options.port),
    HOST: "127.0.0.1",
    DATABASE_URL: options.databaseUrl,
    STREAM_PREFIX: options.streamPrefix,
    TRENDGATE_API_KEYS: keysVariable(options.keys),
    BOOTSTRAP_KEYS: "false",
    POLICY_PATH: policyPath,
    WEBHOOK_URLS: options.webhookUrl,
    WEBHOOK_SECRET: options.webhookSecret,
    PUBLISH_JSONL_PATH: publishedPath,
    VECTOR_STORE_PATH: join(dir, "vectors"),
    // No audit samples: the only escalations are the walkthrough's own.
    AUDIT_SAMPLE_RATE: "0",
    ENRICH_THREADS: "1",
  };
  const log = openSync(options.logPath, "w");
  // `node bin/trendgate.js start` is what `npx trendgate start` runs; without npx in between the
  // exit code is the CLI's own (npx re-raises the signal and reports none). Its own process
  // group, so the SIGINT reaches the CLI and its MCP adapter child as a terminal's Ctrl-C would.
  const child: ChildProcess = spawn(process.execPath, [BIN, "start"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", log, log],
    detached: true,
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (gone) throw new Error(`trendgate start exited before it was ready; see ${options.logPath}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      process.kill(-child.pid!, "SIGKILL");
      throw new Error(`trendgate start not ready in ${readyTimeoutMs} ms; see ${options.logPath}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    url,
    dir,
    publishedPath,
    env,
    async stop() {
      if (gone) return exited;
      process.kill(-child.pid!, "SIGINT");
      const timer = setTimeout(() => !gone && process.kill(-child.pid!, "SIGKILL"), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
