import type { TrendRow } from "../../db/types.js";
import { estimateStepCost } from "../../domain/budget.js";
import { toValidJson } from "../../domain/valid-text.js";
import type { Enricher, Enrichment } from "../../nlp/enricher.js";
import { isBatchEnricher } from "./enricher-pool.js";

/** One item's enrichment, computed outside any transaction (pure CPU, deterministic). */
export interface ComputedEnrichment {
  enrichment: Enrichment;
  elapsedMs: number;
  /** What the etl step costs (compute units), from its input size. */
  cost: number;
}

/** The ETL compute: the same code for the worker, its batch path and the dead-letter dry run. */
export async function computeEnrichment(
  enricher: Enricher,
  trend: TrendRow,
): Promise<ComputedEnrichment> {
  const started = performance.now();
  const enrichment = await enricher.enrich({
    source: trend.source,
    title: trend.title,
    body: trend.body,
    url: trend.url,
  });
  return {
    enrichment,
    elapsedMs: performance.now() - started,
    cost: estimateStepCost("etl", `${trend.title ?? ""} ${trend.body}`),
  };
}

/**
 * The ETL compute of a batch: one outcome per trend, in order, an Error where the models threw
 * (that item then runs alone and retries). A pooled enricher takes the batch in one call and
 * spreads it over its threads; an in-process one runs the items one after the other.
 */
export async function computeEnrichments(
  enricher: Enricher,
  trends: readonly TrendRow[],
): Promise<(ComputedEnrichment | Error)[]> {
  const cost = (t: TrendRow) => estimateStepCost("etl", `${t.title ?? ""} ${t.body}`);
  if (isBatchEnricher(enricher)) {
    const outcomes = await enricher.enrichMany(
      trends.map((t) => ({ source: t.source, title: t.title, body: t.body, url: t.url })),
    );
    return outcomes.map((o, i) =>
      "error" in o
        ? new Error(o.error)
        : { enrichment: o.enrichment, elapsedMs: o.elapsedMs, cost: cost(trends[i]!) },
    );
  }
  const out: (ComputedEnrichment | Error)[] = [];
  for (const trend of trends) {
    try {
      out.push(await computeEnrichment(enricher, trend));
    } catch (error) {
      out.push(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return out;
}

/** What the `enrichment` jsonb column holds: the details that have no column of their own. */
export function enrichmentDetails(e: Enrichment) {
  return {
    keywords: e.keywords,
    languageConfidence: e.languageConfidence,
    signals: e.signals,
    model: e.model,
  };
}

/**
 * The EnrichedTrend columns the etl step sets, `enrichment` as an object (the batch write sends
 * them inside one jsonb parameter; enrichedColumns serializes it for a column write).
 */
export function enrichedValues(e: Enrichment) {
  return {
    normalized_body: e.normalizedBody,
    language: e.language,
    sentiment_score: e.sentiment.score,
    sentiment_label: e.sentiment.label,
    topics: e.topics,
    toxicity_score: e.toxicityScore,
    confidence: e.confidence,
    summary: e.summary,
    enrichment: enrichmentDetails(e),
  };
}

/** The EnrichedTrend columns the etl step sets. */
export function enrichedColumns(e: Enrichment) {
  const values = enrichedValues(e);
  return { ...values, enrichment: toValidJson(values.enrichment) };
}

/** The provenance entry of the etl step. */
export function etlProvenance(trend: TrendRow, c: ComputedEnrichment) {
  const e = c.enrichment;
  return {
    traceId: trend.trace_id,
    trendId: trend.id,
    step: "etl",
    actor: `worker:etl:${e.model}`,
    input: { bodyChars: trend.body.length, prompt: e.prompt },
    output: {
      language: e.language,
      sentiment: e.sentiment,
      topics: e.topics,
      toxicityScore: e.toxicityScore,
      confidence: e.confidence,
      summary: e.summary,
      signals: e.signals,
      cost: c.cost,
      elapsedMs: Math.round(c.elapsedMs * 10) / 10,
    },
  };
}
