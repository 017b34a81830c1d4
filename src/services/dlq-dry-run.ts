import type { Db } from "../db/database.js";
import type { TrendRow } from "../db/types.js";
import { judge } from "../pipeline/judge/judge-policy.js";
import { PUBLISHABLE_STATUSES } from "../domain/trend-status.js";
import type { Embedder } from "../nlp/embedder.js";
import type { Enricher } from "../nlp/enricher.js";
import { STREAMS } from "../streams/stream-names.js";
import type { VectorStore } from "../vector/vector-store.js";
import { embeddingText } from "../pipeline/embed/embedding-worker.js";
import type { DeadLetterEntry } from "./dead-letter-service.js";
import type { PolicyProvider } from "../pipeline/judge/policy-provider.js";

export interface DryRunChange {
  field: string;
  recorded: unknown;
  wouldBe: unknown;
}

export interface DryRunResult {
  id: string;
  trendId: string | null;
  outcome: "would_succeed" | "would_fail" | "no_op";
  message: string;
  changes: DryRunChange[];
}

/**
 * Runs a dead letter's stage code as deployed now, without writing anything, and reports what
 * a replay would change against what the database recorded. Each stage's pure part (enrich,
 * embed, judge, approval) is the same code the workers run.
 */
export class DryRunner {
  constructor(
    private readonly deps: {
      db: Db;
      enricher: () => Promise<Enricher>;
      embedder: () => Promise<Embedder>;
      store: VectorStore;
      policy: PolicyProvider;
    },
  ) {}

  async run(entry: DeadLetterEntry): Promise<DryRunResult> {
    const base = { id: entry.id, trendId: entry.trendId };
    if (!entry.envelope) return { ...base, outcome: "would_fail", message: "envelope does not parse; replay would fail again", changes: [] };
    if (!entry.trendId) return { ...base, outcome: "would_fail", message: "job names no trend", changes: [] };
    const trend = await this.deps.db.selectFrom("enriched_trends").selectAll().where("id", "=", entry.trendId).executeTakeFirst();
    if (!trend) return { ...base, outcome: "would_fail", message: `unknown trend id ${entry.trendId}`, changes: [] };
    try {
      switch (entry.sourceStream) {
        case STREAMS.ingest:
          return { ...base, ...(await this.etl(trend)) };
        case STREAMS.embeddingJobs:
          return { ...base, ...(await this.embed(trend)) };
        case STREAMS.judgeJobs:
          return { ...base, ...this.judge(trend) };
        case STREAMS.publishJobs:
          return { ...base, ...this.publish(trend) };
        default:
          return { ...base, outcome: "would_fail", message: `no stage consumes ${entry.sourceStream}`, changes: [] };
      }
    } catch (error) {
      return { ...base, outcome: "would_fail", message: `stage code fails now: ${(error as Error).message}`, changes: [] };
    }
  }

  private async etl(trend: TrendRow): Promise<Omit<DryRunResult, "id" | "trendId">> {
    if (!["RECEIVED", "PLANNED"].includes(trend.status)) return noOp(trend);
    const e = await (await this.deps.enricher()).enrich({ source: trend.source, title: trend.title, body: trend.body, url: trend.url });
    return {
      outcome: "would_succeed",
      message: "would plan (if needed) and enrich",
      changes: diff([
        ["status", trend.status, "ENRICHED"],
        ["language", trend.language, e.language],
        ["sentiment", trend.sentiment_score, e.sentiment.score],
        ["topics", trend.topics, e.topics],
        ["toxicityScore", trend.toxicity_score, e.toxicityScore],
        ["confidence", trend.confidence, e.confidence],
        ["summary", trend.summary, e.summary],
      ]),
    };
  }

  private async embed(trend: TrendRow): Promise<Omit<DryRunResult, "id" | "trendId">> {
    if (trend.status !== "ENRICHED") return noOp(trend);
    const embedder = await this.deps.embedder();
    const [vector] = await embedder.embed([embeddingText(trend)]);
    // A read proves the store answers without writing to it.
    await this.deps.store.count();
    return {
      outcome: "would_succeed",
      message: `would upsert a ${vector?.length ?? 0}-d vector (${embedder.model}) into ${this.deps.store.name}`,
      changes: diff([
        ["status", trend.status, "EMBEDDED"],
        ["embeddingStatus", trend.embedding_status, "SUCCEEDED"],
      ]),
    };
  }

  private judge(trend: TrendRow): Omit<DryRunResult, "id" | "trendId"> {
    if (trend.status !== "EMBEDDED") return noOp(trend);
    const d = judge(
      { source: trend.source, title: trend.title, body: trend.normalized_body ?? trend.body, toxicityScore: trend.toxicity_score ?? 0, confidence: trend.confidence ?? 0 },
      this.deps.policy.current(),
    );
    return { outcome: "would_succeed", message: `rule ${d.rule}: ${d.reason}`, changes: diff([["status", trend.status, d.outcome]]) };
  }

  private publish(trend: TrendRow): Omit<DryRunResult, "id" | "trendId"> {
    if (trend.status === "PUBLISHED") return noOp(trend);
    if (!PUBLISHABLE_STATUSES.includes(trend.status)) {
      return { outcome: "would_fail", message: `status ${trend.status} is not publishable without an override`, changes: [] };
    }
    return { outcome: "would_succeed", message: "would call the publish tool", changes: diff([["status", trend.status, "PUBLISHED"]]) };
  }
}

function noOp(trend: TrendRow): Omit<DryRunResult, "id" | "trendId"> {
  return { outcome: "no_op", message: `trend is ${trend.status}; the stage would do nothing`, changes: [] };
}

function diff(rows: [string, unknown, unknown][]): DryRunChange[] {
  return rows
    .filter(([, a, b]) => JSON.stringify(a) !== JSON.stringify(b))
    .map(([field, recorded, wouldBe]) => ({ field, recorded, wouldBe }));
}
