import { type Kysely, sql } from "kysely";

/**
 * Wakes the outbox relay the moment a transaction that wrote outbox rows commits (NOTIFY is
 * transactional: delivered at commit, never for a rollback), so an event waits for a round
 * trip, not for the relay's next poll. One notification per statement; Postgres folds
 * duplicates within a transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('trendgate_outbox', '');
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS outbox_notify ON outbox`.execute(db);
  await sql`DROP FUNCTION IF EXISTS outbox_notify`.execute(db);
}
