import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
} from "kysely";
import type pg from "pg";

import type { Db } from "./database.js";
import type { Database } from "./types.js";
import { ValidTextPlugin } from "./valid-text-plugin.js";

/**
 * Runs `fn` against a database whose every write is undone: one connection, one outer
 * transaction that is always rolled back, and the transactions the code opens inside become
 * savepoints (a commit releases one, a rollback rolls back to it). Code written against `Db`
 * runs unchanged: its reads see its own writes, triggers and constraints fire as in the real
 * run, and nothing it does is ever visible to anyone else.
 *
 * One connection serves every query, so the code should run its transactions one after another
 * (as a stage handler does for one job). Row locks it takes are held until `fn` ends.
 */
export async function withRolledBackDatabase<T>(
  pool: pg.Pool,
  fn: (db: Db) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query("BEGIN");
    const db = new Kysely<Database>({
      dialect: new SavepointDialect(client),
      plugins: [new ValidTextPlugin()],
    });
    return await fn(db);
  } finally {
    await client.query("ROLLBACK").catch(() => (failed = true));
    // A connection whose rollback failed is destroyed rather than handed to the next user.
    client.release(failed);
  }
}

/** Postgres as usual, but over one checked-out client and with transactions as savepoints. */
class SavepointDialect extends PostgresDialect {
  private readonly config: PostgresDialectConfig;

  constructor(client: pg.PoolClient) {
    // One query at a time on the one client (code run here may start several at once, as it
    // would on a pool), and the same wrapper object every time: the driver keys its
    // connection objects by client.
    let tail: Promise<unknown> = Promise.resolve();
    const query = (text: string, values: unknown[]) => {
      const run = tail.then(() => client.query(text, values));
      tail = run.catch(() => undefined);
      return run;
    };
    const shared = { query, release: () => undefined };
    const config = {
      pool: { connect: async () => shared, end: async () => undefined },
    } as unknown as PostgresDialectConfig;
    super(config);
    this.config = config;
  }

  override createDriver(): Driver {
    return new SavepointDriver(this.config);
  }
}

class SavepointDriver extends PostgresDriver {
  private depth = 0;

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    this.depth += 1;
    await connection.executeQuery(CompiledQuery.raw(`savepoint dry_run_${this.depth}`));
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint dry_run_${this.depth}`));
    this.depth -= 1;
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const name = `dry_run_${this.depth}`;
    this.depth -= 1;
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint ${name}`));
    await connection.executeQuery(CompiledQuery.raw(`release savepoint ${name}`));
  }

  /** The client belongs to withRolledBackDatabase, which releases it. */
  override async destroy(): Promise<void> {}
}
