import type { Db } from "../db/database.js";
import { listTrends, type TrendFilter, trendById, trendsByIds } from "../db/trend-queries.js";
import type { TrendRow } from "../db/types.js";
import { badInput, notFound } from "../domain/domain-error.js";
import type { TenantScope } from "../domain/tenant-scope.js";
import { decodeCursor } from "../db/keyset-cursor.js";
import { assertUuid } from "../domain/uuid.js";

export type { TrendFilter };

/**
 * Read side of trends: one by id, or a keyset-paginated list (stable under concurrent inserts).
 * Callers from the API pass the caller's tenant scope: another tenant's trend is NOT_FOUND.
 */
export class TrendQueryService {
  constructor(private readonly db: Db) {}

  async get(id: string, scope: TenantScope = null, field = "id"): Promise<TrendRow> {
    assertUuid(id, field);
    const row = await trendById(this.db, id, scope);
    if (!row) throw notFound("trend", id);
    return row;
  }

  getMany(ids: readonly string[]): Promise<TrendRow[]> {
    return trendsByIds(this.db, ids);
  }

  async list(
    filter: TrendFilter,
    first: number,
    after?: string | null,
    scope: TenantScope = null,
  ): Promise<{ rows: TrendRow[]; hasNextPage: boolean }> {
    if (first < 1 || first > 500) throw badInput("first", "must be between 1 and 500");
    // Newest first: the cursor names the last item seen.
    return listTrends(this.db, filter, first, after ? decodeCursor(after) : undefined, scope);
  }
}
