import { type Kysely, sql } from "kysely";

/** The tables the API pages through with a (created_at, id) keyset cursor. */
const PAGED_TABLES = ["enriched_trends", "escalations", "incidents"] as const;

/**
 * Keyset cursors carry created_at as a JavaScript Date, which keeps milliseconds, while
 * timestamptz keeps microseconds. A page boundary inside a millisecond then skipped rows: every
 * item of one `ingestTrends` call shares its transaction's now(), so paging `trends` returned 250
 * of 300 items posted in one batch. Storing these timestamps at millisecond precision makes the
 * cursor exact again; ties within a millisecond are ordered by id, as the cursor already does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of PAGED_TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', now())`.execute(
      db,
    );
    await sql`
      UPDATE ${sql.table(table)} SET created_at = date_trunc('milliseconds', created_at)
      WHERE created_at <> date_trunc('milliseconds', created_at)`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of PAGED_TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN created_at SET DEFAULT now()`.execute(
      db,
    );
  }
}
