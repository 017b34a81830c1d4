import { type RawBuilder, type SqlBool, sql, type Transaction } from "kysely";
import type { Database, EscalationRow } from "../../db/types.js";
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
 * Claims the most urgent escalation this reviewer is eligible for, in one statement: candidates
 * are locked with FOR UPDATE SKIP LOCKED in urgency order, so concurrent callers each take a
 * different row and none waits on another; undefined when nothing is eligible.
 */
export async function claimMostUrgent(
  trx: Transaction<Database>,
  claimant: Claimant,
  review: ReviewPolicy,
  scope: TenantScope,
  leaseMs: number,
): Promise<EscalationRow | undefined> {
  await lockReviewer(trx, claimant.keyId);
  return trx
    .with("candidate", (db) =>
      db
        .selectFrom("escalations as e")
        .innerJoin("enriched_trends as t", "t.id", "e.trend_id")
        .select("e.id")
        .where(claimable)
        .where(eligibleFor(claimant, review))
        .where(tenantCondition(scope, "t.tenant"))
        .orderBy(urgency(), "desc")
        .orderBy("e.created_at")
        .orderBy("e.id")
        .limit(1)
        .forUpdate("e")
        .skipLocked(),
    )
    .updateTable("escalations")
    .from("candidate")
    .set(claimColumns(claimant, leaseMs))
    .whereRef("escalations.id", "=", "candidate.id")
    .returningAll("escalations")
    .executeTakeFirst();
}
