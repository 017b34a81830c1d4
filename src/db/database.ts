import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";

import type { Database } from "./types.js";
import { ValidTextPlugin } from "./valid-text-plugin.js";

// bigint columns (ids, counts) come back as strings unless told otherwise; keep them strings
// (provenance ids can outgrow 2^53) but parse numeric/float8 as numbers.
pg.types.setTypeParser(pg.types.builtins.FLOAT8, (v) => Number.parseFloat(v));

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Opens a pooled connection; `close()` ends the pool. */
export function openDatabase(url: string, options: { max?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // A client losing its server (Postgres restart) must not crash the process: the pool reports
  // idle clients here, and a checked-out client's own 'error' event would otherwise be unhandled
  // (its pending query rejects anyway, so the job fails and is retried).
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new ValidTextPlugin()],
  });
  return { db, pool, close: () => db.destroy() };
}
