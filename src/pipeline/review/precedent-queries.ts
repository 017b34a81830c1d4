import type { Db } from "../../db/database.js";
import type { IssueType } from "../../db/types.js";

/** How a past item was decided by a human: the last human resolution of one of its escalations. */
export interface HumanDecision {
  trendId: string;
  escalationId: string;
  issueType: IssueType;
  decision: "APPROVE" | "REJECT";
  reasonCode: string | null;
  resolvedAt: Date;
}

/**
 * The latest human decision on each of these trends, for those that have one. A decision counts
 * when a reviewer's key made it: not a `system:` actor (a deadline's default action is a rule,
 * not a precedent) and not a budget overrun (a decision about money, not about the content).
 * An appeal's outcome is later than the decision it reviewed, so it is the one returned.
 */
export async function humanDecisions(
  db: Db,
  trendIds: readonly string[],
): Promise<Map<string, HumanDecision>> {
  if (trendIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("escalations as e")
    .select(["e.id", "e.trend_id", "e.issue_type", "e.decision", "e.reason_code", "e.resolved_at"])
    .distinctOn("e.trend_id")
    .where("e.trend_id", "in", [...trendIds])
    .where("e.status", "=", "RESOLVED")
    .where("e.decision", "is not", null)
    .where("e.resolved_at", "is not", null)
    .where("e.resolved_by_key", "is not", null)
    .where("e.resolved_by", "not like", "system:%")
    .where("e.issue_type", "<>", "budget_overrun")
    .orderBy("e.trend_id")
    .orderBy("e.resolved_at", "desc")
    .execute();
  return new Map(
    rows.map((r) => [
      r.trend_id,
      {
        trendId: r.trend_id,
        escalationId: r.id,
        issueType: r.issue_type,
        decision: r.decision!,
        reasonCode: r.reason_code,
        resolvedAt: r.resolved_at!,
      },
    ]),
  );
}
