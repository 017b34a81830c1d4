import { type Kysely, sql } from "kysely";

const BEFORE = `'RECEIVED','PLANNED','ENRICHED','EMBEDDED','READY','ESCALATED','APPROVED','REJECTED','PAUSED','CANCELLED','PUBLISHED'`;

/**
 * FAILED: an item whose stage dead-lettered its job (issue 12). Before, such an item stayed
 * RECEIVED (or ENRICHED, ...) with no sign of the failure anywhere on the trend. The failure's
 * stage, error and time are on the row, and `failed_from` is the status replay returns it to.
 * The partial index serves the reconciler, which looks for items that sit in a status a worker
 * should move them out of.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE enriched_trends DROP CONSTRAINT enriched_trends_status_check`.execute(db);
  await sql`
    ALTER TABLE enriched_trends ADD CONSTRAINT enriched_trends_status_check
      CHECK (status IN (${sql.raw(BEFORE)},'FAILED'))`.execute(db);
  await sql`
    ALTER TABLE enriched_trends
      ADD COLUMN failed_stage text,
      ADD COLUMN failed_error text,
      ADD COLUMN failed_at timestamptz,
      ADD COLUMN failed_from text,
      ADD CONSTRAINT enriched_trends_failure_check
        CHECK ((status = 'FAILED') = (failed_stage IS NOT NULL AND failed_from IS NOT NULL))`.execute(
    db,
  );
  await sql`
    CREATE INDEX enriched_trends_in_flight_idx ON enriched_trends (updated_at)
    WHERE status IN ('RECEIVED','PLANNED','ENRICHED','EMBEDDED','READY','APPROVED')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS enriched_trends_in_flight_idx`.execute(db);
  // FAILED items go back to where they failed, so the old constraint holds again.
  await sql`UPDATE enriched_trends SET status = failed_from WHERE status = 'FAILED'`.execute(db);
  await sql`
    ALTER TABLE enriched_trends
      DROP CONSTRAINT enriched_trends_failure_check,
      DROP COLUMN failed_stage,
      DROP COLUMN failed_error,
      DROP COLUMN failed_at,
      DROP COLUMN failed_from`.execute(db);
  await sql`ALTER TABLE enriched_trends DROP CONSTRAINT enriched_trends_status_check`.execute(db);
  await sql`
    ALTER TABLE enriched_trends ADD CONSTRAINT enriched_trends_status_check
      CHECK (status IN (${sql.raw(BEFORE)}))`.execute(db);
}
