import { type Kysely, sql } from "kysely";

/**
 * Judge policy versions (issue 13): every applied policy is a numbered, immutable row with who
 * applied it, why, and what its simulation predicted; the active policy is the latest version.
 * Audit samples (issue type `audit_sample`) join the escalation kinds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE judge_policies (
      version integer PRIMARY KEY CHECK (version > 0),
      policy jsonb NOT NULL,
      -- 'operator' (applyJudgePolicy) or 'config' (POLICY_PATH or the JUDGE_* defaults)
      origin text NOT NULL CHECK (origin IN ('operator','config')),
      -- Digest of a config-sourced policy: a restart with the same file adds no version.
      config_digest text,
      created_by_key_id text,
      created_by_name text NOT NULL,
      justification text NOT NULL CHECK (length(btrim(justification)) > 0),
      simulation jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((origin = 'config') = (config_digest IS NOT NULL))
    )`.execute(db);
  // An audit trail: versions are appended, never rewritten.
  await sql`
    CREATE FUNCTION judge_policies_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'judge_policies is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER judge_policies_no_update_delete BEFORE UPDATE OR DELETE ON judge_policies
    FOR EACH ROW EXECUTE FUNCTION judge_policies_append_only()`.execute(db);

  await sql`ALTER TABLE escalations DROP CONSTRAINT escalations_issue_type_check`.execute(db);
  await sql`
    ALTER TABLE escalations ADD CONSTRAINT escalations_issue_type_check
    CHECK (issue_type IN ('low_confidence','toxicity','budget_overrun','audit_sample'))`.execute(
    db,
  );

  // Simulation and the Judge's statistics read the Judge's decisions by time.
  await sql`CREATE INDEX provenance_judge_time_idx ON provenance_log (created_at) WHERE step = 'judge'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS provenance_judge_time_idx`.execute(db);
  await sql`DELETE FROM escalations WHERE issue_type = 'audit_sample'`.execute(db);
  await sql`ALTER TABLE escalations DROP CONSTRAINT escalations_issue_type_check`.execute(db);
  await sql`
    ALTER TABLE escalations ADD CONSTRAINT escalations_issue_type_check
    CHECK (issue_type IN ('low_confidence','toxicity','budget_overrun'))`.execute(db);
  await sql`DROP TABLE IF EXISTS judge_policies`.execute(db);
  await sql`DROP FUNCTION IF EXISTS judge_policies_append_only`.execute(db);
}
