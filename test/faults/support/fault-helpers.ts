import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import type { Db } from "../../../src/db/database.js";
import { eventually } from "../../support/app-harness.js";
import type { TestEnv } from "../../support/test-env.js";

const run = promisify(execFile);

/** Runs the real CLI (`node bin/trendgate.js ...`) against a test namespace. */
export async function trendgateCli(
  env: TestEnv,
  args: string[],
  extra: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { config } = env;
  try {
    const { stdout, stderr } = await run(process.execPath, ["bin/trendgate.js", ...args], {
      env: {
        ...process.env,
        DATABASE_URL: config.DATABASE_URL,
        REDIS_URL: config.REDIS_URL,
        STREAM_PREFIX: config.STREAM_PREFIX,
        VECTOR_STORE_PATH: config.VECTOR_STORE_PATH,
        LOG_LEVEL: "silent",
        USER: "fault-test",
        ...extra,
      },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as {
      code: number;
      stdout: string;
      stderr: string;
      killed?: boolean;
      signal?: string;
    };
    return {
      code: typeof e.code === "number" ? e.code : -1,
      stdout: e.stdout,
      stderr: `${e.stderr}${e.killed ? ` (killed: ${e.signal})` : ""}`,
    };
  }
}

export async function trendRow(db: Db, id: string) {
  return db
    .selectFrom("enriched_trends")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
}

/** The trend's provenance steps, oldest first. */
export async function provenanceSteps(db: Db, id: string): Promise<string[]> {
  const rows = await db
    .selectFrom("provenance_log")
    .select("step")
    .where("trend_id", "=", id)
    .orderBy("id")
    .execute();
  return rows.map((r) => r.step);
}

export async function embeddingRecords(db: Db, id: string) {
  return db.selectFrom("embedding_records").selectAll().where("trend_id", "=", id).execute();
}

/** Dead letters of a stream as field records, oldest first. */
export async function deadLetters(
  env: TestEnv,
  stream: string,
): Promise<{ id: string; fields: Record<string, string> }[]> {
  const raw = await env.redis.xrange(env.keys.key(stream), "-", "+");
  return raw.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return { id, fields };
  });
}

/** The trend id a dead letter's envelope names, if it parses. */
export function deadLetterTrendId(fields: Record<string, string>): string | undefined {
  try {
    return (JSON.parse(fields.envelope ?? "") as { trendId?: string }).trendId;
  } catch {
    return undefined;
  }
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const CRASH_FIXTURE = path.join(ROOT, "test/faults/fixtures/crash-after-adapter.ts");

/**
 * Starts fixtures/crash-after-adapter.ts for `stage` (it exits with code 1 right after the
 * external side effect, before the database commit) and resolves once it is consuming.
 */
export async function startCrashingWorker(
  env: TestEnv,
  stage: "embedding" | "publisher",
  extra: Record<string, string>,
): Promise<{ exited: Promise<number | null>; stdout: () => string; stderr: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", CRASH_FIXTURE], {
    cwd: ROOT,
    env: {
      ...process.env,
      STAGE: stage,
      DATABASE_URL: env.config.DATABASE_URL,
      REDIS_URL: env.config.REDIS_URL,
      PREFIX: env.prefix,
      CONSUMER: `doomed-${stage}`,
      ...extra,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await eventually(async () => (stdout.includes("ready") ? true : undefined), 30_000);
  return { exited, stdout: () => stdout, stderr: () => stderr };
}

/** Entries delivered to `group` and not yet acknowledged. */
export async function pendingOf(env: TestEnv, stream: string, group: string): Promise<number> {
  const [count] = (await env.redis.xpending(env.keys.key(stream), group)) as [number];
  return count;
}
