import type { Transaction } from "kysely";
import type { Database, EscalationRow } from "../../db/types.js";

/**
 * The key ids of the reviewers who decided an escalation: the one that recorded the resolution
 * (and, once reviews are recorded per reviewer, every reviewer of it), so an appeal goes to
 * someone else.
 */
export async function decidedReviewers(
  _trx: Transaction<Database>,
  decided: Pick<EscalationRow, "resolved_by_key">,
): Promise<string[]> {
  return decided.resolved_by_key ? [decided.resolved_by_key] : [];
}
