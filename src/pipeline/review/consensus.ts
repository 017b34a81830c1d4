import type { Decision } from "./actor.js";

/**
 * k-of-n consensus (issue 14, item 3), pure: given the reviews that count, what happens to the
 * escalation after the latest one.
 *
 * - A reviewer holding the escalation's decider skill (set after a disagreement) decides finally.
 * - Otherwise the first decision with `required` counted reviews is the outcome.
 * - Otherwise, when reviews disagree and the policy names `escalateDisagreementTo`, the
 *   escalation waits for a reviewer with that skill, whose decision will be final.
 * - Otherwise it stays IN_REVIEW for more reviews.
 */
export type ConsensusOutcome =
  | { kind: "final"; decision: Decision; by: "agreement" | "decider" }
  | { kind: "pending"; deciderSkill: string | null };

export interface ConsensusInput {
  /** Counted reviews, the latest included. */
  reviews: readonly { decision: Decision }[];
  latest: { decision: Decision; skills: readonly string[] };
  required: number;
  /** The escalation's decider skill (null until a disagreement routed it). */
  deciderSkill: string | null;
  escalateDisagreementTo: string | null;
}

export function consensus(input: ConsensusInput): ConsensusOutcome {
  if (input.deciderSkill !== null && input.latest.skills.includes(input.deciderSkill)) {
    return { kind: "final", decision: input.latest.decision, by: "decider" };
  }
  const agreeing = (decision: Decision) =>
    input.reviews.filter((r) => r.decision === decision).length;
  const other: Decision = input.latest.decision === "APPROVE" ? "REJECT" : "APPROVE";
  for (const decision of [input.latest.decision, other]) {
    if (agreeing(decision) >= input.required) return { kind: "final", decision, by: "agreement" };
  }
  const disagree = agreeing("APPROVE") > 0 && agreeing("REJECT") > 0;
  if (input.deciderSkill === null && disagree && input.escalateDisagreementTo !== null) {
    return { kind: "pending", deciderSkill: input.escalateDisagreementTo };
  }
  return { kind: "pending", deciderSkill: input.deciderSkill };
}

/** Agreeing reviews an issue type needs under the policy (default 1: one moderator decides). */
export function requiredReviews(
  review: { requiredReviews: Partial<Record<string, number>> },
  issueType: string,
): number {
  return review.requiredReviews[issueType] ?? 1;
}
