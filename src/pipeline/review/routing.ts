import { type RawBuilder, type SqlBool, sql, type Transaction } from "kysely";
import { type Database, type EscalationRow, ISSUE_TYPES } from "../../db/types.js";
import { tenantCondition } from "../../db/tenant-filter.js";
import type { TenantScope } from "../../domain/tenant-scope.js";
import type { ReviewPolicy } from "../judge/judge-policy.js";
import { eligibleFor, type ReviewerView } from "./eligibility.js";

/**
 * Severity of each issue type, the first factor of urgency. Toxic items (and appeals) come first,
 * a paused item's budget next, unsure items after, audit samples last (the Judge would have
 * published them; they measure, they do not protect). An issue type not listed weighs 1.
 */
export const SEVERITY: Readonly<Record<string, number>> = {
  toxicity: 3,
  appeal: 3,
  budget_overrun: 2,
  low_confidence: 1,
  audit_sample: 0.5,
};

/**
 * Urgency = severity × (1 + minutes waiting): an escalation gains its severity in urgency every
 * minute, so a toxic item overtakes an unsure one three times as old, and nothing waits forever.
 */
export function urgency(): RawBuilder<number> {
  return sql<number>`coalesce((${JSON.stringify(SEVERITY)}::jsonb ->> e.issue_type)::float8, 1)
    * (1 + extract(epoch FROM now() - e.created_at) / 60)`;
}

/** Free for the taking: never claimed, reviewed by some, or claimed under a lapsed lease. */
const claimable = sql<SqlBool>`(e.status IN ('OPEN', 'IN_REVIEW') OR (e.status = 'CLAIMED' AND e.claim_expires_at < now()))`;

export interface Claimant extends ReviewerView {
  name: string;
}

/** The columns a claim sets: holder, a new fencing token, the lease on the database's clock. */
export function claimColumns(claimant: Claimant, leaseMs: number) {
  return {
    status: "CLAIMED" as const,
    claimed_by: claimant.name,
    claimed_by_key: claimant.keyId,
    claim_token: sql<string>`escalations.claim_token + 1`,
    claim_expires_at: sql<Date>`now() + ${`${leaseMs} milliseconds`}::interval`,
  };
}

/**
 * One reviewer's claims are serialised (a transaction-level advisory lock on the key id), so
 * two of their calls at once cannot both pass the capacity check; other reviewers never wait.
 */
export async function lockReviewer(trx: Transaction<Database>, keyId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`reviewer:${keyId}`}))`.execute(trx);
}

/**
 * Claims the most urgent escalation this reviewer is eligible for, in one statement, without
 * sorting the queue. Within one issue type urgency grows with age alone, so the most urgent
 * eligible escalation is the most urgent of the "heads": each issue type's oldest eligible
 * escalation (and, apart, the oldest of each type routed to a decider skill the reviewer has).
 * Each head is the first eligible row of an index walk (migration 0015) in (created_at, id)
 * order, locked FOR UPDATE SKIP LOCKED, so concurrent callers each take a different row and none
 * waits on another; the heads (a handful) are then ordered by urgency, created_at, id exactly as
 * the whole queue was. The heads a caller did not take stay locked until its transaction ends (a
 * moment), so a caller at the same time may skip them, as it skips any row being claimed.
 * Undefined when nothing is eligible.
 */
export async function claimMostUrgent(
  trx: Transaction<Database>,
  claimant: Claimant,
  review: ReviewPolicy,
  scope: TenantScope,
  leaseMs: number,
): Promise<EscalationRow | undefined> {
  await lockReviewer(trx, claimant.keyId);
  const heads = claimHeads(claimant, review);
  const eligible = sql<SqlBool>`${claimable} AND ${eligibleFor(claimant, review)} AND ${tenantCondition(scope, "t.tenant")}`;
  // Each walk orders by the whole index key (issue type and routed skill are fixed within it, so
  // the order is by age): with `IS NULL`, not an equality, the planner would otherwise not see
  // that the index already gives the order, and sort the whole issue type.
  // FOR UPDATE is not allowed under UNION: each kind of head is a LATERAL walk of its own, one
  // per VALUES row, and the union is of their (already locked) results. A VALUES row of nulls
  // stands for "no such head" (it matches nothing).
  const plainTypes = heads.plain.length ? heads.plain : [null];
  const routed = heads.routed.length ? heads.routed : [{ issueType: null, skill: null }];
  const walk = (routedSkill: RawBuilder<SqlBool>) => sql`
    CROSS JOIN LATERAL (
      SELECT e.id, e.issue_type, e.created_at
      FROM escalations e JOIN enriched_trends t ON t.id = e.trend_id
      WHERE e.status <> 'RESOLVED' AND e.issue_type = k.issue_type AND ${routedSkill} AND ${eligible}
      ORDER BY e.issue_type, ${ROUTED_SKILL}, e.created_at, e.id LIMIT 1
      FOR UPDATE OF e SKIP LOCKED) AS w`;
  return trx
    .with(
      "candidate",
      // Parenthesised here: kysely writes a raw CTE body as given.
      () => sql<{ id: string }>`(
      SELECT e.id FROM (
        SELECT w.* FROM (VALUES ${sql.join(plainTypes.map((type) => sql`(${type}::text)`))}) AS k(issue_type)
        ${walk(sql<SqlBool>`${ROUTED_SKILL} IS NULL`)}
        UNION ALL
        SELECT w.* FROM (VALUES ${sql.join(routed.map((head) => sql`(${head.issueType}::text, ${head.skill}::text)`))}) AS k(issue_type, skill)
        ${walk(sql<SqlBool>`${ROUTED_SKILL} = k.skill`)}
      ) AS e
      ORDER BY ${urgency()} DESC, e.created_at, e.id
      LIMIT 1)`,
    )
    .updateTable("escalations")
    .from("candidate")
    .set(claimColumns(claimant, leaseMs))
    .whereRef("escalations.id", "=", "candidate.id")
    .returningAll("escalations")
    .executeTakeFirst();
}

/**
 * The skill an escalation was routed to, overriding the policy's for its issue type: a
 * disagreement's decider skill, else a deadline's `reassign:<skill>`. The same expression as in
 * eligibility.ts's `neededSkill` and in migration 0015's index (keep the three alike).
 */
const ROUTED_SKILL = sql<string | null>`coalesce(e.decider_skill, e.required_skill)`;

/**
 * The index walks that can hold an eligible escalation for this reviewer. `plain`: the issue
 * types whose escalations not routed to a skill need no skill or one the reviewer has (a walk
 * over a type needing a skill the reviewer lacks would read every row of it to find none).
 * `routed`: each issue type × each of the reviewer's skills, for escalations routed to that
 * skill. The full eligibility predicate still filters every walk; the heads decide where to
 * look. Issue types: every stored one and every one with a severity.
 */
export function claimHeads(
  reviewer: ReviewerView,
  review: ReviewPolicy,
): { plain: string[]; routed: { issueType: string; skill: string }[] } {
  const types = [...new Set<string>([...ISSUE_TYPES, ...Object.keys(SEVERITY)])];
  const skills = reviewer.profile.skills;
  const required = review.requiredSkill as Readonly<Record<string, string | undefined>>;
  return {
    plain: types.filter((type) => {
      const skill = required[type];
      return skill === undefined || skills.includes(skill);
    }),
    routed: types.flatMap((issueType) => skills.map((skill) => ({ issueType, skill }))),
  };
}
