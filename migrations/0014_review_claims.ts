import { type Kysely, sql } from "kysely";

/**
 * When each reviewer took each escalation (issue 14, item 7: median handling time, claim →
 * review). An escalation row holds only its current claim, and the claim announcements on the
 * stream are trimmed, so the start of a claim was lost once a review followed.
 *
 * A trigger records it wherever a claim happens (claimEscalation, claimNextEscalation, a
 * deadline's reassignment, a lease taken over) without each of those paths having to remember:
 * a row whenever an escalation becomes CLAIMED by a key that did not hold it a moment before.
 * A holder renewing its own claim is the same claim, so handling time counts from the first.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE escalation_claims (
      escalation_id uuid NOT NULL REFERENCES escalations (id),
      reviewer_key_id text NOT NULL,
      reviewer_name text,
      claimed_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX escalation_claims_reviewer_idx ON escalation_claims (escalation_id, reviewer_key_id, claimed_at)`.execute(
    db,
  );
  await sql`
    CREATE FUNCTION record_escalation_claim() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO escalation_claims (escalation_id, reviewer_key_id, reviewer_name)
      VALUES (NEW.id, NEW.claimed_by_key, NEW.claimed_by);
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER record_escalation_claim AFTER UPDATE ON escalations
    FOR EACH ROW
    WHEN (NEW.status = 'CLAIMED' AND NEW.claimed_by_key IS NOT NULL
      AND (OLD.status IS DISTINCT FROM 'CLAIMED' OR OLD.claimed_by_key IS DISTINCT FROM NEW.claimed_by_key))
    EXECUTE FUNCTION record_escalation_claim()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS record_escalation_claim ON escalations`.execute(db);
  await sql`DROP FUNCTION IF EXISTS record_escalation_claim`.execute(db);
  await sql`DROP TABLE IF EXISTS escalation_claims`.execute(db);
}
