import { sql } from "kysely";

import type { Db } from "../../db/database.js";
import { decodeCursor } from "../../db/keyset-cursor.js";
import { tenantCondition } from "../../db/tenant-filter.js";
import type { EscalationRow, EscalationStatus, IssueType } from "../../db/types.js";
import { notFound } from "../../domain/domain-error.js";
import type { TenantScope } from "../../domain/tenant-scope.js";
import { assertUuid } from "../../domain/uuid.js";

/** The moderation queue's reads: one escalation, and a page of them with its total. */

/** One escalation; NOT_FOUND when unknown or its trend is outside `scope`. */
export async function getEscalation(
  db: Db,
  id: string,
  scope: TenantScope = null,
): Promise<EscalationRow> {
  assertUuid(id, "id");
  const row = await db
    .selectFrom("escalations")
    .selectAll("escalations")
    .where("escalations.id", "=", id)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom("enriched_trends as t")
          .select("t.id")
          .whereRef("t.id", "=", "escalations.trend_id")
          .where(tenantCondition(scope, "t.tenant")),
      ),
    )
    .executeTakeFirst();
  if (!row) throw notFound("escalation", id);
  return row;
}

export interface EscalationListOptions {
  status?: EscalationStatus[];
  issueType?: IssueType[];
  source?: string;
  first: number;
  after?: string;
  scope?: TenantScope;
}

/** A page of escalations in creation order (keyset cursor), filtered, with the total. */
export async function listEscalations(
  db: Db,
  options: EscalationListOptions,
): Promise<{ rows: EscalationRow[]; hasNextPage: boolean; totalCount: number }> {
  let query = db
    .selectFrom("escalations")
    .innerJoin("enriched_trends as t", "t.id", "escalations.trend_id")
    .where(tenantCondition(options.scope ?? null, "t.tenant"));
  if (options.status?.length) query = query.where("escalations.status", "in", options.status);
  if (options.issueType?.length)
    query = query.where("escalations.issue_type", "in", options.issueType);
  if (options.source) query = query.where("t.source", "=", options.source);
  const total = await query.select(sql<number>`count(*)::int`.as("n")).executeTakeFirst();
  let page = query.selectAll("escalations");
  if (options.after) {
    const cursor = decodeCursor(options.after);
    page = page.where((eb) =>
      eb.or([
        eb("escalations.created_at", ">", cursor.at),
        eb.and([
          eb("escalations.created_at", "=", cursor.at),
          eb("escalations.id", ">", cursor.id),
        ]),
      ]),
    );
  }
  const rows = await page
    .orderBy("escalations.created_at")
    .orderBy("escalations.id")
    .limit(options.first + 1)
    .execute();
  return {
    rows: rows.slice(0, options.first),
    hasNextPage: rows.length > options.first,
    totalCount: total?.n ?? 0,
  };
}
