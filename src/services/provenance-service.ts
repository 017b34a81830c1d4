import type { Db } from "../db/database.js";
import type { ProvenanceRow } from "../db/types.js";
import { provenanceEntries, provenanceOfTrends } from "../db/provenance.js";
import { badInput, notFound } from "../domain/domain-error.js";
import type { TenantScope } from "../domain/tenant-scope.js";
import { assertUuid } from "../domain/uuid.js";

export interface ProvenanceEdgeData {
  from: string;
  to: string;
  kind: string;
}

export interface ProvenanceGraphData {
  entries: ProvenanceRow[];
  edges: ProvenanceEdgeData[];
}

/**
 * The audit trail of one item as a graph: entries in the order they were written, and an edge
 * from each entry to the one it follows (`kind` says why: the next pipeline step, a retry after
 * failure, a human decision, a replay, an override).
 */
export class ProvenanceService {
  constructor(private readonly db: Db) {}

  /** Another tenant's trend or trace is NOT_FOUND, as an unknown one. */
  async graph(args: { traceId?: string | null; trendId?: string | null }, scope: TenantScope = null): Promise<ProvenanceGraphData> {
    if (!args.traceId && !args.trendId) throw badInput("traceId", "give traceId or trendId");
    if (args.trendId) assertUuid(args.trendId, "trendId");
    const entries = await provenanceEntries(this.db, args, scope);
    if (entries.length === 0) throw notFound(args.trendId ? "trend" : "trace", (args.trendId ?? args.traceId)!);
    const ids = new Set(entries.map((e) => e.id));
    const edges = entries
      .filter((e) => e.parent_id !== null && ids.has(e.parent_id))
      .map((e) => ({ from: e.parent_id!, to: e.id, kind: edgeKind(e.step) }));
    return { entries, edges };
  }

  async forTrends(trendIds: readonly string[]): Promise<Map<string, ProvenanceRow[]>> {
    const rows = await provenanceOfTrends(this.db, trendIds);
    const byTrend = new Map<string, ProvenanceRow[]>();
    for (const row of rows) {
      const list = byTrend.get(row.trend_id!) ?? [];
      list.push(row);
      byTrend.set(row.trend_id!, list);
    }
    return byTrend;
  }
}

function edgeKind(step: string): string {
  if (step === "resolution") return "human_decision";
  if (step === "override") return "override";
  if (step === "replay") return "replay";
  if (step.endsWith("_failed")) return "failure";
  if (step === "budget_overrun") return "pause";
  return "next";
}
