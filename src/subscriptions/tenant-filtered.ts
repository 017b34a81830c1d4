import { LRUCache } from "lru-cache";

import type { Db } from "../db/database.js";
import { inScope, type TenantScope } from "../domain/tenant-scope.js";
import { passThroughIterator } from "./pass-through-iterator.js";
import type { StreamEvent } from "./stream-event.js";

/**
 * A trend's tenant never changes, so it is cached per process once looked up (events of a
 * tenant-limited subscriber need it; most streams carry only the trend id).
 */
export class TrendTenants {
  private readonly cache = new LRUCache<string, string>({ max: 50_000 });

  constructor(private readonly db: Db) {}

  async of(trendId: string): Promise<string | undefined> {
    const hit = this.cache.get(trendId);
    if (hit !== undefined) return hit;
    const row = await this.db
      .selectFrom("enriched_trends")
      .select("tenant")
      .where("id", "=", trendId)
      .executeTakeFirst();
    if (row) this.cache.set(trendId, row.tenant);
    return row?.tenant;
  }
}

/**
 * Keeps a subscriber limited to some tenants to its tenants' events (events without a trend are
 * dropped: fail closed). Gap events pass through. return() goes straight to the source, so a
 * subscriber leaving while nothing comes is unsubscribed at once (see SharedSubscriptions).
 */
export function tenantFiltered(
  source: AsyncIterableIterator<StreamEvent>,
  scope: TenantScope,
  tenants: TrendTenants,
): AsyncIterableIterator<StreamEvent> {
  if (scope === null) return source;
  const visible = async (event: StreamEvent): Promise<boolean> => {
    if (event.kind === "gap") return true;
    const { trendId, payload } = event.envelope;
    const tenant =
      typeof payload.tenant === "string"
        ? payload.tenant
        : trendId
          ? await tenants.of(trendId)
          : undefined;
    return tenant !== undefined && inScope(scope, tenant);
  };
  return passThroughIterator(source, async () => {
    for (;;) {
      const next = await source.next();
      if (next.done || (await visible(next.value))) return next;
    }
  });
}
