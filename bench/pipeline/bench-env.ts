import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { Redis } from "ioredis";
import { sql } from "kysely";
import pg from "pg";

import { type Config, loadConfig } from "../../src/config.js";
import { type DatabaseHandle, openDatabase } from "../../src/db/database.js";
import { ensureDatabaseExists, migrateToLatest } from "../../src/db/migrate.js";
import { StreamKeys } from "../../src/streams/stream-names.js";

/**
 * A private namespace for one benchmark run, like test/support/test-env.ts: its own Postgres
 * database `tg_bench_<hex>` (migrated), Redis key prefix `bench-<hex>:` and temp directory for
 * the vector store and publish file. `close()` drops all three, so a run leaves nothing behind
 * (and a crashed run is recognisable by name).
 */
export interface BenchEnv {
  config: Config;
  database: DatabaseHandle;
  redis: Redis;
  keys: StreamKeys;
  prefix: string;
  dbName: string;
  dir: string;
  close(): Promise<void>;
}

/** The Postgres server benches make their databases on (DATABASE_URL's, else the local one). */
export const BENCH_BASE_URL =
  process.env.DATABASE_URL ?? "postgres://trendgate:trendgate@127.0.0.1:5432/trendgate";

/** `BENCH_BASE_URL` pointing at database `name`. */
export function benchDatabaseUrl(name: string): string {
  const url = new URL(BENCH_BASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops database `name` on the bench server, closing its connections. */
export async function dropBenchDatabase(name: string): Promise<void> {
  const admin = new URL(BENCH_BASE_URL);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Deletes every Redis key that starts with `prefix`. */
export async function deleteRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== "0");
}

export async function createBenchEnv(
  overrides: Partial<Config> = {},
  /** Names this run's database `<namePrefix><hex>`, e.g. a helper's own `fo_` namespace. */
  namePrefix = "tg_bench_",
): Promise<BenchEnv> {
  const suffix = randomBytes(6).toString("hex");
  const dbName = `${namePrefix}${suffix}`;
  const prefix = `${namePrefix === "tg_bench_" ? "bench-" : namePrefix}${suffix}:`;
  const dir = await mkdtemp(path.join(tmpdir(), "trendgate-bench-"));
  const config = loadConfig(
    {
      ...process.env,
      DATABASE_URL: benchDatabaseUrl(dbName),
      STREAM_PREFIX: prefix,
      LOG_LEVEL: "silent",
    },
    {
      VECTOR_STORE_PATH: path.join(dir, "vectors"),
      PUBLISH_JSONL_PATH: path.join(dir, "published.jsonl"),
      BOOTSTRAP_KEYS: false,
      ...overrides,
    },
  );
  await ensureDatabaseExists(config.DATABASE_URL);
  const database = openDatabase(config.DATABASE_URL, { max: 5 });
  await migrateToLatest(database.db);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  let closed = false;
  return {
    config,
    database,
    redis,
    keys: new StreamKeys(prefix),
    prefix,
    dbName,
    dir,
    async close() {
      if (closed) return;
      closed = true;
      await database.close().catch(() => undefined);
      await deleteRedisPrefix(redis, prefix);
      await redis.quit().catch(() => redis.disconnect());
      await dropBenchDatabase(dbName);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * CPU seconds (user + system) the Postgres backends serving this database have used so far,
 * read from /proc (NaN where Postgres is not local or /proc is not readable). On a shared
 * machine the wall-clock rate depends on everyone's load; CPU per item much less so.
 */
async function postgresBackendCpuSeconds(db: DatabaseHandle["db"]): Promise<number> {
  const { rows } = await sql<{
    pid: number;
  }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`.execute(db);
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const { pid } of rows) {
    try {
      // Fields after the command name: state is [0], utime [11], stime [12].
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      return Number.NaN;
    }
  }
  return total;
}

/**
 * CPU seconds (user + system, all its threads) the Redis server has used so far, from its own
 * `INFO cpu`: the whole server, so only meaningful while nothing else is using it.
 */
async function redisServerCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1]);
  return field("used_cpu_user") + field("used_cpu_sys");
}

/** CPU milliseconds used since a meter started (see {@link startCpuMeter}). */
export interface CpuUsed {
  /** This process, all its threads. */
  nodeMs: number;
  /** The Postgres backends of the bench database. */
  postgresMs: number;
  /** The whole Redis server. */
  redisMs: number;
}

/**
 * Starts counting CPU in node, the bench database's Postgres backends and Redis; the returned
 * function gives what each used since. A wall-clock rate depends on everyone's load on a shared
 * machine, CPU much less; and the split says which side a change moved.
 */
export async function startCpuMeter(
  env: Pick<BenchEnv, "database" | "redis">,
): Promise<() => Promise<CpuUsed>> {
  const node = process.cpuUsage();
  const postgres = await postgresBackendCpuSeconds(env.database.db);
  const redis = await redisServerCpuSeconds(env.redis);
  return async () => {
    const { user, system } = process.cpuUsage(node);
    return {
      nodeMs: (user + system) / 1000,
      postgresMs: ((await postgresBackendCpuSeconds(env.database.db)) - postgres) * 1000,
      redisMs: ((await redisServerCpuSeconds(env.redis)) - redis) * 1000,
    };
  };
}

/** Nearest-rank percentile of an unsorted sample (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
