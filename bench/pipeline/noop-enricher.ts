import type { Enricher, EnrichmentInput } from "../../src/nlp/enricher.js";

/** Returns a fixed enrichment at once: the pipeline without the models' CPU. */
export const noopEnricher: Enricher = {
  model: "noop",
  enrich: async (input: EnrichmentInput) => ({
    normalizedBody: input.body,
    language: "en",
    languageConfidence: 1,
    sentiment: { score: 0, label: "neutral" },
    topics: [],
    toxicityScore: 0,
    confidence: 1,
    summary: input.body.slice(0, 280),
    keywords: [],
    signals: {},
    cost: { units: 1, unit: "compute_unit" },
    model: "noop",
    prompt: "noop",
  }),
};
