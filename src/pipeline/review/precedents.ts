import type { Db } from "../../db/database.js";
import type { TrendRow } from "../../db/types.js";
import { badInput } from "../../domain/domain-error.js";
import type { SearchService } from "../embed/search-service.js";
import { type HumanDecision, humanDecisions } from "./precedent-queries.js";

export interface Precedent {
  trend: TrendRow;
  /** Cosine similarity of the two items' vectors. */
  score: number;
  decision: HumanDecision;
}

/** The most precedents one escalation may ask for. */
export const MAX_PRECEDENTS = 20;

/**
 * Precedents (issue 14, item 9): the past items most like this one that a human decided, so
 * reviewers decide alike cases alike. A vector search from the item's own vector over the same
 * tenant (another tenant's decisions are neither visible nor its policy), keeping trends other
 * than this one whose latest human decision exists; the index is asked for more until `first`
 * of them pass (SearchService's `accept`).
 */
export class PrecedentService {
  constructor(private readonly deps: { db: Db; search: SearchService }) {}

  async forTrend(trend: TrendRow, first: number): Promise<Precedent[]> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_PRECEDENTS) {
      throw badInput("first", `must be between 1 and ${MAX_PRECEDENTS}`);
    }
    // The search asks again with a larger k until `first` pass: each trend is checked once.
    const decisions = new Map<string, HumanDecision>();
    const checked = new Set<string>();
    const found = await this.deps.search.similar({
      trendId: trend.id,
      first,
      scope: [trend.tenant],
      accept: async (trends) => {
        const unchecked = trends.map((t) => t.id).filter((id) => !checked.has(id));
        for (const [id, decision] of await humanDecisions(this.deps.db, unchecked))
          decisions.set(id, decision);
        for (const id of unchecked) checked.add(id);
        return new Set(trends.map((t) => t.id).filter((id) => decisions.has(id)));
      },
    });
    return found.map(({ trend: match, score }) => ({
      trend: match,
      score,
      decision: decisions.get(match.id)!,
    }));
  }
}
