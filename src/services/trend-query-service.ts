import type { Db } from "../db/database.js";
import type { TrendRow, TrendStatus } from "../db/types.js";
import { tenantCondition } from "../db/tenant-filter.js";
import { badInput, notFound } from "../domain/domain-error.js";
import type { TenantScope } from "../domain/tenant-scope.js";
import { decodeCursor } from "../db/keyset-cursor.js";
import { assertUuid } from "../domain/uuid.js";

export interface TrendFilter {
  status?: TrendStatus[] | null;
  source?: string | null;
  topic?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/**
 * Read side of trends: one by id, or a keyset-paginated list (stable under concurrent inserts).
 * Callers from the API pass the caller's tenant scope: another tenant's trend is NOT_FOUND.
 */
export class TrendQueryService {
  constructor(private readonly db: Db) {}

  async get(id: string, scope: TenantScope = null, field = "id"): Promise<TrendRow> {
    assertUuid(id, field);
    const row = await this.db
      .selectFrom("enriched_trends")
      .selectAll()
      .where("id", "=", id)
      .where(tenantCondition(scope, "enriched_trends.tenant"))
      .executeTakeFirst();
    if (!row) throw notFound("trend", id);
    return row;
  }

  async getMany(ids: readonly string[]): Promise<TrendRow[]> {
    if (ids.length === 0) return [];
    return this.db.selectFrom("enriched_trends").selectAll().where("id", "in", ids).execute();
  }

  async list(
    filter: TrendFilter,
    first: number,
    after?: string | null,
    scope: TenantScope = null,
  ): Promise<{ rows: TrendRow[]; hasNextPage: boolean }> {
    if (first < 1 || first > 500) throw badInput("first", "must be between 1 and 500");
    let query = this.db.selectFrom("enriched_trends").selectAll().where(tenantCondition(scope, "enriched_trends.tenant"));
    if (filter.status?.length) query = query.where("status", "in", filter.status);
    if (filter.source) query = query.where("source", "=", filter.source);
    if (filter.topic) query = query.where("topics", "@>", [filter.topic]);
    if (filter.createdAfter) query = query.where("created_at", ">=", filter.createdAfter);
    if (filter.createdBefore) query = query.where("created_at", "<", filter.createdBefore);
    // Newest first: the cursor names the last item seen.
    if (after) {
      const cursor = decodeCursor(after);
      query = query.where((eb) =>
        eb.or([eb("created_at", "<", cursor.at), eb.and([eb("created_at", "=", cursor.at), eb("id", "<", cursor.id)])]),
      );
    }
    const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(first + 1).execute();
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
  }
}
