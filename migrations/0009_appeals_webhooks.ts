import { type Kysely, sql } from "kysely";

/**
 * Issue 14, review-ops: reason codes, appeals, deadline ladders.
 *
 * - `escalations.reason_code`: the taxonomy code of the final decision (REJECT requires one), so
 *   it travels with the decision; `publications.reason_code` keeps it beside what was published.
 * - Appeals: an escalation of issue type `appeal` names the decided escalation it reopens
 *   (`appeal_of`, unique: one appeal per decision), the key that appealed and its statement.
 *   `excluded_reviewers` (key ids; also created by 0008 of review-flow, hence IF NOT EXISTS)
 *   keeps the reviewers who decided it away from the appeal.
 * - Deadlines: `required_skill` is set by a `reassign:<skill>` rung (eligibility honours it);
 *   `escalation_deadline_rungs` remembers which rung of the ladder fired, so each fires once, in
 *   order, across restarts of every process.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE escalations ADD COLUMN IF NOT EXISTS reason_code text`.execute(db);
  await sql`ALTER TABLE escalations ADD COLUMN IF NOT EXISTS excluded_reviewers text[] NOT NULL DEFAULT '{}'`.execute(
    db,
  );
  await sql`ALTER TABLE escalations ADD COLUMN IF NOT EXISTS required_skill text`.execute(db);
  await sql`ALTER TABLE escalations ADD COLUMN appeal_of uuid REFERENCES escalations (id)`.execute(
    db,
  );
  await sql`ALTER TABLE escalations ADD COLUMN appealed_by_key text`.execute(db);
  await sql`ALTER TABLE escalations ADD COLUMN appeal_statement text`.execute(db);
  // One appeal per decision, whatever races: the second insert fails here (CONFLICT).
  await sql`CREATE UNIQUE INDEX escalations_one_appeal_idx ON escalations (appeal_of) WHERE appeal_of IS NOT NULL`.execute(
    db,
  );
  await sql`ALTER TABLE escalations DROP CONSTRAINT escalations_issue_type_check`.execute(db);
  await sql`
    ALTER TABLE escalations ADD CONSTRAINT escalations_issue_type_check
    CHECK (issue_type IN ('low_confidence','toxicity','budget_overrun','audit_sample','appeal'))`.execute(
    db,
  );
  await sql`
    ALTER TABLE escalations ADD CONSTRAINT escalations_appeal_names_decision
    CHECK ((issue_type = 'appeal') = (appeal_of IS NOT NULL))`.execute(db);

  await sql`ALTER TABLE publications ADD COLUMN reason_code text`.execute(db);

  await sql`
    CREATE TABLE escalation_deadline_rungs (
      escalation_id uuid NOT NULL REFERENCES escalations (id),
      rung integer NOT NULL CHECK (rung >= 0),
      rule text NOT NULL,
      fired_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (escalation_id, rung)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS escalation_deadline_rungs`.execute(db);
  await sql`ALTER TABLE publications DROP COLUMN IF EXISTS reason_code`.execute(db);
  await sql`ALTER TABLE escalations DROP CONSTRAINT IF EXISTS escalations_appeal_names_decision`.execute(
    db,
  );
  await sql`UPDATE escalations SET appeal_of = NULL WHERE appeal_of IS NOT NULL`.execute(db);
  await sql`DELETE FROM escalations WHERE issue_type = 'appeal'`.execute(db);
  await sql`ALTER TABLE escalations DROP CONSTRAINT escalations_issue_type_check`.execute(db);
  await sql`
    ALTER TABLE escalations ADD CONSTRAINT escalations_issue_type_check
    CHECK (issue_type IN ('low_confidence','toxicity','budget_overrun','audit_sample'))`.execute(
    db,
  );
  await sql`DROP INDEX IF EXISTS escalations_one_appeal_idx`.execute(db);
  await sql`
    ALTER TABLE escalations DROP COLUMN IF EXISTS appeal_statement, DROP COLUMN IF EXISTS appealed_by_key,
      DROP COLUMN IF EXISTS appeal_of, DROP COLUMN IF EXISTS required_skill, DROP COLUMN IF EXISTS reason_code`.execute(
    db,
  );
}
