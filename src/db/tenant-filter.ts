import { type RawBuilder, sql, type SqlBool } from "kysely";

import type { TenantScope } from "../domain/tenant-scope.js";

/**
 * The one condition that keeps a caller to its tenants: every read and every write by id that
 * goes through the API passes the trend's tenant column through here (issue 12: enforced in the
 * query layer, not per resolver). `column` names a `tenant` column of enriched_trends.
 */
export function tenantCondition(scope: TenantScope, column: string): RawBuilder<SqlBool> {
  if (scope === null) return sql<SqlBool>`true`;
  return sql<SqlBool>`${sql.ref(column)} = ANY(${sql.val([...scope])}::text[])`;
}

/** Ids of trends (given) that lie outside the scope; for reads keyed by trend id. */
export function visibleTrendIds(
  scope: TenantScope,
  column = "enriched_trends.id",
): RawBuilder<SqlBool> {
  if (scope === null) return sql<SqlBool>`true`;
  return sql<SqlBool>`${sql.ref(column)} IN (SELECT id FROM enriched_trends WHERE tenant = ANY(${sql.val([...scope])}::text[]))`;
}
