import { createHash } from "node:crypto";

import {
  type Enricher,
  type EnrichmentInput,
  createOfflineEnricher,
} from "../../../src/nlp/enricher.js";
import { normalizeText } from "../../../src/nlp/normalize.js";
import { SentimentModel } from "../../../src/nlp/sentiment.js";
import { TopicClassifier } from "../../../src/nlp/topics.js";
import { ToxicityScorer } from "../../../src/nlp/toxicity.js";

/** One corpus item as recorded: a hash of the whole enrichment plus the models' raw scores. */
export interface GoldenRecord {
  /** sha256 of the enrichment's JSON (every field, rounded as the enricher rounds). */
  readonly enrichment: string;
  /** Unrounded: toxicity logit, MLP logit, coverage, P(positive), top topic probability, margin. */
  readonly raw: readonly number[];
}

let models:
  | {
      enricher: Enricher;
      toxicity: ToxicityScorer;
      topics: TopicClassifier;
      sentiment: SentimentModel;
    }
  | undefined;

export async function goldenRecord(input: EnrichmentInput): Promise<GoldenRecord> {
  models ??= {
    enricher: await createOfflineEnricher(),
    toxicity: ToxicityScorer.load(),
    topics: TopicClassifier.load(),
    sentiment: SentimentModel.load(),
  };
  const e = await models.enricher.enrich(input);
  const text = normalizeText(input.body, 5000);
  const tox = models.toxicity.signals(text);
  const topic = models.topics.classify(text);
  return {
    enrichment: createHash("sha256").update(JSON.stringify(e)).digest("hex").slice(0, 24),
    raw: [
      tox.logit,
      tox.mlpLogit,
      tox.coverage,
      models.sentiment.score(text).probability,
      topic.topProbability,
      topic.margin,
    ],
  };
}
