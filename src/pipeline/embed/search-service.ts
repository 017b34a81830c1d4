import type { Db } from "../../db/database.js";
import { trendById, visibleTrendsByIds } from "../../db/trend-queries.js";
import type { TrendRow, TrendStatus } from "../../db/types.js";
import { badInput, notFound } from "../../domain/domain-error.js";
import type { TenantScope } from "../../domain/tenant-scope.js";
import { assertUuid } from "../../domain/uuid.js";
import type { Embedder } from "../../nlp/embedder.js";
import type { VectorMatch, VectorStore } from "../../vector/vector-store.js";
import { embeddingText } from "./embedding-worker.js";

/** The most a status-filtered query asks the index for (the store's own ceiling). */
const MAX_FETCH = 10_000;

export interface SimilarQuery {
  trendId?: string | null;
  text?: string | null;
  first: number;
  /** The caller's tenants: the query trend and every match must be in it. */
  scope?: TenantScope;
  filter?: {
    source?: string | null;
    status?: TrendStatus[] | string[] | null;
    createdAfter?: Date | null;
    createdBefore?: Date | null;
  };
  /**
   * A further condition checked in Postgres, like status: the ids (of trends that passed the
   * other filters) it keeps. Precedents keep trends a human decided. The index is asked for more
   * until `first` pass, as for status.
   */
  accept?: (trends: TrendRow[]) => Promise<Set<string>>;
}

/**
 * Semantic recall: the nearest trends to a trend (its stored vector) or to free text (embedded
 * now with the same model). Status is filtered against Postgres, not the vector store's copy,
 * which only knows the status at embedding time; a match whose trend no longer exists is
 * skipped, and the next ones take its place.
 */
export class SearchService {
  constructor(
    private readonly deps: { db: Db; store: VectorStore; embedder: () => Promise<Embedder> },
  ) {}

  async similar(query: SimilarQuery): Promise<{ trend: TrendRow; score: number }[]> {
    if (!query.trendId === !query.text)
      throw badInput("text", "give exactly one of trendId or text");
    if (query.first < 1 || query.first > 100) throw badInput("first", "must be between 1 and 100");
    let vector: number[] | undefined;
    if (query.trendId) {
      assertUuid(query.trendId, "trendId");
      const trend = await trendById(this.deps.db, query.trendId, query.scope ?? null);
      if (!trend) throw notFound("trend", query.trendId);
      vector = (await this.deps.store.get(query.trendId))?.vector;
      if (!vector) [vector] = await (await this.deps.embedder()).embed([embeddingText(trend)]);
    } else {
      const text = query.text!.trim();
      if (!text) throw badInput("text", "must not be empty");
      if (text.length > 10_000) throw badInput("text", "must be at most 10000 characters");
      [vector] = await (await this.deps.embedder()).embed([text]);
    }
    // Text with no token the model knows (private-use code points, found by the fuzz campaign)
    // embeds to the zero vector, which has no direction to compare: nothing is similar to it.
    if (!vector || vector.every((x) => x === 0)) return [];
    const statuses = query.filter?.status?.length
      ? new Set<string>(query.filter.status)
      : undefined;
    const filter = {
      source: query.filter?.source ?? undefined,
      createdAfter: query.filter?.createdAfter?.toISOString(),
      createdBefore: query.filter?.createdBefore?.toISOString(),
      excludeIds: query.trendId ? [query.trendId] : undefined,
    };
    // Source and time are filtered inside the index walk. Status changes after embedding, and
    // other tenants' vectors share the index, so both are checked against Postgres: fetch more
    // until `first` pass or the index has no more.
    const scope = query.scope ?? null;
    let fetch = statuses || scope || query.accept ? query.first * 4 : query.first;
    for (;;) {
      const matches = await this.deps.store.nearest(vector, fetch, filter);
      let found = await this.withTrends(matches, statuses, scope);
      if (query.accept && found.length) {
        const kept = await query.accept(found.map((f) => f.trend));
        found = found.filter((f) => kept.has(f.trend.id));
      }
      if (found.length >= query.first || matches.length < fetch || fetch >= MAX_FETCH)
        return found.slice(0, query.first);
      fetch = Math.min(fetch * 4, MAX_FETCH);
    }
  }

  /** Matches whose trend exists (and has an allowed status), closest first. */
  private async withTrends(
    matches: VectorMatch[],
    statuses: Set<string> | undefined,
    scope: TenantScope,
  ): Promise<{ trend: TrendRow; score: number }[]> {
    if (matches.length === 0) return [];
    const rows = await visibleTrendsByIds(
      this.deps.db,
      matches.map((m) => m.id),
      scope,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return matches
      .map((m) => ({ trend: byId.get(m.id), score: m.score }))
      .filter(
        (m): m is { trend: TrendRow; score: number } =>
          !!m.trend && (!statuses || statuses.has(m.trend.status)),
      );
  }
}
