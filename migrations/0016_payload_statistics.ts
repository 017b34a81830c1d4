import { type Kysely, sql } from "kysely";

/**
 * No planner statistics for the columns that only carry payload: no query filters, joins,
 * groups or sorts on their whole values (the few `->>` lookups estimate without column
 * statistics either), so the planner never reads them, but autovacuum's
 * ANALYZE samples and sorts them (jsonb comparisons, detoasting) each time a table grows by a
 * tenth. Under ingest that was 13 % of all Postgres CPU (perf, the no-op pipeline bench,
 * 20,000 items on a fresh database). The columns the pipeline and the API search on (ids,
 * status, times, tenant, source, external_id, topics, language, step, stream) keep theirs.
 */
const PAYLOAD_COLUMNS: Record<string, readonly string[]> = {
  enriched_trends: [
    "title",
    "body",
    "url",
    "author",
    "metadata",
    "normalized_body",
    "summary",
    "enrichment",
  ],
  provenance_log: ["input", "output"],
  outbox: ["payload"],
  planner_intents: ["steps"],
};

async function setStatistics(db: Kysely<unknown>, target: number): Promise<void> {
  for (const [table, columns] of Object.entries(PAYLOAD_COLUMNS))
    for (const column of columns)
      await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN ${sql.ref(column)} SET STATISTICS ${sql.raw(String(target))}`.execute(
        db,
      );
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await setStatistics(db, 0);
}

/** -1: back to default_statistics_target. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await setStatistics(db, -1);
}
