import type { TenantScope } from "../domain/tenant-scope.js";
import type { Db } from "./database.js";
import { tenantCondition } from "./tenant-filter.js";
import type { IncidentRow } from "./types.js";

/** Policy violations, newest first, keyset-paginated, limited to the caller's tenants. */
export async function listIncidents(
  db: Db,
  options: {
    trendId?: string | null;
    first: number;
    after?: { at: Date; id: string };
    scope: TenantScope;
  },
): Promise<{ rows: IncidentRow[]; hasNextPage: boolean }> {
  let query = db
    .selectFrom("incidents")
    .innerJoin("enriched_trends as t", "t.id", "incidents.trend_id")
    .selectAll("incidents")
    .where(tenantCondition(options.scope, "t.tenant"));
  if (options.trendId) query = query.where("incidents.trend_id", "=", options.trendId);
  const c = options.after;
  if (c) {
    query = query.where((eb) =>
      eb.or([
        eb("incidents.created_at", "<", c.at),
        eb.and([eb("incidents.created_at", "=", c.at), eb("incidents.id", "<", c.id)]),
      ]),
    );
  }
  const rows = await query
    .orderBy("incidents.created_at", "desc")
    .orderBy("incidents.id", "desc")
    .limit(options.first + 1)
    .execute();
  return { rows: rows.slice(0, options.first), hasNextPage: rows.length > options.first };
}
