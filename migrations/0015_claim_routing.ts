import { type Kysely, sql } from "kysely";

/**
 * claimNextEscalation without sorting the queue (issue 14, item 2). Urgency = severity × (1 +
 * minutes waiting) orders the escalations of one issue type (one severity) by age, so the most
 * urgent eligible escalation is the most urgent of each issue type's oldest eligible one. This
 * index hands out each issue type's unresolved escalations oldest first, those routed to a skill
 * (a disagreement's decider skill, else a deadline's reassignment: the skill that overrides the
 * policy's) apart, so routing walks a few index entries per issue type instead of scanning,
 * joining and sorting every unresolved escalation. The expression is routing.ts's ROUTED_SKILL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX escalations_claim_heads_idx
      ON escalations (issue_type, (coalesce(decider_skill, required_skill)), created_at, id)
      WHERE status <> 'RESOLVED'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS escalations_claim_heads_idx`.execute(db);
}
