import { Redis } from "ioredis";

import type { Config } from "./config.js";
import { openDatabase } from "./db/database.js";
import { ensureDatabaseExists, migrateToLatest, redactUrl } from "./db/migrate.js";
import type { Logger } from "./observability/logger.js";

/** A dependency that cannot be reached at start; the CLI prints `message` on one line. */
export class StartupError extends Error {
  readonly code = "STARTUP_FAILED";
}

/** Checks both servers answer before anything else starts, naming the URL that does not. */
export async function checkConnectivity(config: Config): Promise<void> {
  const probe = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new StartupError(
      `cannot reach Redis at ${redactUrl(config.REDIS_URL)}: ${(error as Error).message}`,
    );
  } finally {
    probe.disconnect();
  }
  try {
    await ensureDatabaseExists(config.DATABASE_URL);
  } catch (error) {
    throw new StartupError(
      `cannot reach Postgres at ${redactUrl(config.DATABASE_URL)}: ${(error as Error).message}`,
    );
  }
}

/** Creates the database if needed and applies pending migrations. */
export async function migrate(config: Config, logger: Logger): Promise<void> {
  await checkConnectivity(config);
  const database = openDatabase(config.DATABASE_URL, { max: 1 });
  try {
    const results = await migrateToLatest(database.db);
    for (const r of results)
      logger.info({ migration: r.migrationName, status: r.status }, "migration applied");
    if (results.length === 0) logger.info("database schema is up to date");
  } finally {
    await database.close();
  }
}
