import { randomBytes } from "node:crypto";

import { Redis } from "ioredis";
import pg from "pg";

import { type Config, loadConfig } from "../../src/config.js";
import { type DatabaseHandle, openDatabase } from "../../src/db/database.js";
import { ensureDatabaseExists, migrateToLatest } from "../../src/db/migrate.js";
import { createLogger, type Logger } from "../../src/observability/logger.js";
import { StreamKeys } from "../../src/streams/stream-names.js";

/**
 * A private namespace for one test file: its own Postgres database (migrated) and its own
 * Redis key prefix, so files run in parallel against the same servers. `close()` drops both.
 */
export interface TestEnv {
  config: Config;
  database: DatabaseHandle;
  db: DatabaseHandle["db"];
  redis: Redis;
  keys: StreamKeys;
  prefix: string;
  logger: Logger;
  /** Extra Redis connections opened by the test; closed with the env. */
  newRedis(): Redis;
  close(): Promise<void>;
}

const BASE_URL =
  process.env.TEST_DATABASE_URL ??
  process.env.DATABASE_URL ??
  "postgres://trendgate:trendgate@127.0.0.1:5432/trendgate";

export async function createTestEnv(overrides: Partial<Config> = {}): Promise<TestEnv> {
  const suffix = randomBytes(6).toString("hex");
  const dbName = `tg_test_${suffix}`;
  const url = new URL(BASE_URL);
  url.pathname = `/${dbName}`;
  const prefix = `test-${suffix}:`;
  const config = loadConfig(
    // No audit samples unless a test asks for them: a sampled item would wait for a moderator.
    // Models on the main thread: a pool per test file is pointless (the pool has its own test).
    {
      AUDIT_SAMPLE_RATE: "0",
      ENRICH_THREADS: "0",
      ...process.env,
      DATABASE_URL: url.toString(),
      STREAM_PREFIX: prefix,
      LOG_LEVEL: "silent",
    },
    overrides,
  );
  await ensureDatabaseExists(config.DATABASE_URL);
  const database = openDatabase(config.DATABASE_URL, { max: 5 });
  await migrateToLatest(database.db);
  const extra: Redis[] = [];
  const newRedis = () => {
    const r = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
    extra.push(r);
    return r;
  };
  const redis = newRedis();
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? "silent", "test");
  return {
    config,
    database,
    db: database.db,
    redis,
    keys: new StreamKeys(prefix),
    prefix,
    logger,
    newRedis,
    async close() {
      await database.close();
      let cursor = "0";
      do {
        const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        cursor = next;
        if (found.length) await redis.del(...found);
      } while (cursor !== "0");
      await Promise.all(extra.map((r) => r.quit().catch(() => r.disconnect())));
      const admin = new URL(BASE_URL);
      admin.pathname = "/postgres";
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      // An autovacuum worker may be busy in the database; it gives way within moments.
      for (let attempt = 1; ; attempt++) {
        try {
          await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`);
          break;
        } catch (error) {
          if (attempt >= 10) throw error;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
      await client.end();
    },
  };
}
