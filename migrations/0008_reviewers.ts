import { type Kysely, sql } from "kysely";

/**
 * Reviewers as a workforce (issue 14, items 1–3).
 *
 * - A key carries a reviewer profile: `languages` (ISO 639-1; empty = any), `skills` (free
 *   labels; the policy's `review.requiredSkill` names them) and `capacity` (claims held at once).
 * - An escalation may need several reviews (k-of-n): each reviewer's decision is a row of
 *   `escalation_reviews`, one per (escalation, key), and the escalation is `IN_REVIEW` between
 *   the first review and the outcome. `counted` turns false when the reviewer's key is revoked
 *   before the outcome, so their review no longer counts towards it.
 * - `decider_skill` is set when reviewers disagreed and the policy names
 *   `review.escalateDisagreementTo`: from then on only a reviewer with that skill is eligible,
 *   and their decision is final.
 * - `excluded_reviewers` (key ids) may never review it (appeals exclude the original deciders).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE api_keys
      ADD COLUMN languages text[] NOT NULL DEFAULT '{}',
      ADD COLUMN skills text[] NOT NULL DEFAULT '{}',
      ADD COLUMN capacity integer NOT NULL DEFAULT 3 CHECK (capacity BETWEEN 1 AND 1000)`.execute(
    db,
  );

  await sql`ALTER TABLE escalations DROP CONSTRAINT escalations_status_check`.execute(db);
  await sql`
    ALTER TABLE escalations ADD CONSTRAINT escalations_status_check
      CHECK (status IN ('OPEN','CLAIMED','IN_REVIEW','RESOLVED'))`.execute(db);
  await sql`
    ALTER TABLE escalations
      ADD COLUMN excluded_reviewers text[] NOT NULL DEFAULT '{}',
      ADD COLUMN decider_skill text`.execute(db);
  // Capacity counts the claims a key holds: one index lookup per claim.
  await sql`
    CREATE INDEX escalations_claimed_by_key_idx ON escalations (claimed_by_key)
      WHERE status = 'CLAIMED'`.execute(db);

  await sql`
    CREATE TABLE escalation_reviews (
      escalation_id uuid NOT NULL REFERENCES escalations (id),
      reviewer_key_id text NOT NULL,
      reviewer_name text NOT NULL,
      decision text NOT NULL CHECK (decision IN ('APPROVE','REJECT')),
      reason_code text,
      note text,
      at timestamptz NOT NULL DEFAULT now(),
      counted boolean NOT NULL DEFAULT true,
      PRIMARY KEY (escalation_id, reviewer_key_id)
    )`.execute(db);
  // Reviewer metrics and "has this key reviewed it" read reviews by key.
  await sql`CREATE INDEX escalation_reviews_reviewer_idx ON escalation_reviews (reviewer_key_id, at)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS escalation_reviews`.execute(db);
  await sql`DROP INDEX IF EXISTS escalations_claimed_by_key_idx`.execute(db);
  await sql`ALTER TABLE escalations DROP COLUMN IF EXISTS decider_skill, DROP COLUMN IF EXISTS excluded_reviewers`.execute(
    db,
  );
  await sql`UPDATE escalations SET status = 'OPEN' WHERE status = 'IN_REVIEW'`.execute(db);
  await sql`ALTER TABLE escalations DROP CONSTRAINT escalations_status_check`.execute(db);
  await sql`
    ALTER TABLE escalations ADD CONSTRAINT escalations_status_check
      CHECK (status IN ('OPEN','CLAIMED','RESOLVED'))`.execute(db);
  await sql`ALTER TABLE api_keys DROP COLUMN IF EXISTS capacity, DROP COLUMN IF EXISTS skills, DROP COLUMN IF EXISTS languages`.execute(
    db,
  );
}
