import { type Kysely, type RawBuilder, sql, type SqlBool } from "kysely";

import type { Database } from "../../db/types.js";
import { DomainError } from "../../domain/domain-error.js";
import type { ReviewerProfile } from "../../domain/reviewer-profile.js";
import type { ReviewPolicy } from "../judge/judge-policy.js";

/** The reviewer routing asks about: the key's id (identity) and its profile. */
export interface ReviewerView {
  keyId: string;
  profile: ReviewerProfile;
}

/**
 * Who may review an escalation (issue 14, item 2), in ONE place: each rule is one SQL condition
 * over the escalation `e` joined to its trend `t`. `claimNextEscalation` filters by all of them
 * ({@link eligibleFor}); `claimEscalation` and `resolveEscalation` ask which one fails
 * ({@link ineligibility}) to say why in their FORBIDDEN.
 *
 * - language: the item's language is one of the reviewer's; a reviewer who lists none reviews
 *   any language, and an item whose language was not determined (`und`, null) goes to anyone.
 * - skill: the skill the escalation needs (after a disagreement its `decider_skill`, otherwise
 *   the policy's `review.requiredSkill` for its issue type) is among the reviewer's.
 * - notReviewed: the reviewer has not already reviewed this escalation (k-of-n wants distinct
 *   reviewers).
 * - notExcluded: the reviewer is not in `excluded_reviewers` (an appeal excludes the deciders).
 * - underCapacity: the reviewer holds fewer live claims than their capacity.
 */
export const ELIGIBILITY_RULES = [
  "language",
  "skill",
  "notReviewed",
  "notExcluded",
  "underCapacity",
] as const;
export type EligibilityRule = (typeof ELIGIBILITY_RULES)[number];

/**
 * The skill an escalation needs: the disagreement's decider skill, else the skill a deadline's
 * `reassign:<skill>` rung set (`required_skill`), else the policy's for its issue type.
 * claimNextEscalation's index walks mirror this (routing.ts ROUTED_SKILL, migration 0015).
 */
function neededSkill(review: ReviewPolicy): RawBuilder<string | null> {
  return sql<
    string | null
  >`coalesce(e.decider_skill, e.required_skill, ${JSON.stringify(review.requiredSkill)}::jsonb ->> e.issue_type)`;
}

function conditions(
  reviewer: ReviewerView,
  review: ReviewPolicy,
  options: { exceptClaimOf?: string },
): Record<EligibilityRule, RawBuilder<SqlBool>> {
  const languages = sql.val([...reviewer.profile.languages]);
  const skills = sql.val([...reviewer.profile.skills]);
  const skill = neededSkill(review);
  // Uncorrelated (no reference to `e`), so the database counts the reviewer's claims once per
  // statement, not once per candidate row.
  const held = sql<number>`(
    SELECT count(*) FROM escalations c
    WHERE c.status = 'CLAIMED' AND c.claimed_by_key = ${reviewer.keyId} AND c.claim_expires_at > now()
      AND c.id IS DISTINCT FROM ${options.exceptClaimOf ?? null}::uuid)`;
  return {
    language: sql<SqlBool>`(cardinality(${languages}::text[]) = 0 OR t.language IS NULL OR t.language = 'und'
      OR t.language = ANY(${languages}::text[]))`,
    skill: sql<SqlBool>`(${skill} IS NULL OR ${skill} = ANY(${skills}::text[]))`,
    notReviewed: sql<SqlBool>`NOT EXISTS (
      SELECT 1 FROM escalation_reviews r WHERE r.escalation_id = e.id AND r.reviewer_key_id = ${reviewer.keyId})`,
    notExcluded: sql<SqlBool>`NOT (${reviewer.keyId}::text = ANY(e.excluded_reviewers))`,
    underCapacity: sql<SqlBool>`${held} < ${reviewer.profile.capacity}`,
  };
}

/**
 * The whole eligibility predicate, for a query over `escalations as e` joined to
 * `enriched_trends as t`. `skip` leaves rules out (resolving without a claim does not need
 * capacity).
 */
export function eligibleFor(
  reviewer: ReviewerView,
  review: ReviewPolicy,
  options: { skip?: readonly EligibilityRule[]; exceptClaimOf?: string } = {},
): RawBuilder<SqlBool> {
  const all = conditions(reviewer, review, options);
  const used = ELIGIBILITY_RULES.filter((rule) => !options.skip?.includes(rule)).map(
    (rule) => all[rule],
  );
  return sql<SqlBool>`(${sql.join(used, sql` AND `)})`;
}

export interface Ineligibility {
  rule: EligibilityRule;
  message: string;
}

/**
 * Why this reviewer may not review escalation `id`, or undefined when they may. Evaluates the
 * same conditions as {@link eligibleFor}, each as a column, and names the first that fails.
 */
export async function ineligibility(
  db: Kysely<Database>,
  id: string,
  reviewer: ReviewerView,
  review: ReviewPolicy,
  options: { skip?: readonly EligibilityRule[]; exceptClaimOf?: string } = {},
): Promise<Ineligibility | undefined> {
  const all = conditions(reviewer, review, options);
  // Each rule's verdict is a column `ok_<rule>`, beside the facts the message names.
  const row = (await db
    .selectFrom("escalations as e")
    .innerJoin("enriched_trends as t", "t.id", "e.trend_id")
    .select([
      sql<string | null>`t.language`.as("item_language"),
      sql<string | null>`${neededSkill(review)}`.as("item_skill"),
      ...ELIGIBILITY_RULES.map((rule) => all[rule].as(`ok_${rule}`)),
    ])
    .where("e.id", "=", id)
    .executeTakeFirst()) as Record<string, unknown> | undefined;
  if (!row) return undefined;
  const failed = ELIGIBILITY_RULES.find(
    (rule) => !options.skip?.includes(rule) && row[`ok_${rule}`] !== true,
  );
  if (!failed) return undefined;
  const item = {
    language: row.item_language as string | null,
    skill: row.item_skill as string | null,
  };
  return { rule: failed, message: explain(failed, item, reviewer) };
}

function explain(
  rule: EligibilityRule,
  item: { language: string | null; skill: string | null },
  reviewer: ReviewerView,
): string {
  const { languages, skills, capacity } = reviewer.profile;
  switch (rule) {
    case "language":
      return `the item is in "${item.language}" and this reviewer reviews ${languages.join(", ")} only`;
    case "skill":
      return `the escalation needs skill "${item.skill}" and this reviewer has ${skills.length ? skills.join(", ") : "no skills"}`;
    case "notReviewed":
      return "this reviewer has already reviewed this escalation";
    case "notExcluded":
      return "this reviewer is excluded from this escalation (they decided the item before)";
    case "underCapacity":
      return `this reviewer is at capacity (${capacity} claims held)`;
  }
}

/** FORBIDDEN saying why, when the reviewer may not review (or claim) this escalation. */
export async function assertEligible(
  db: Kysely<Database>,
  id: string,
  reviewer: ReviewerView,
  review: ReviewPolicy,
  options: { skip?: readonly EligibilityRule[]; exceptClaimOf?: string },
): Promise<void> {
  const refused = await ineligibility(db, id, reviewer, review, options);
  if (refused) {
    throw new DomainError("FORBIDDEN", `escalation ${id}: ${refused.message}`, {
      reason: "NOT_ELIGIBLE",
      rule: refused.rule,
    });
  }
}
