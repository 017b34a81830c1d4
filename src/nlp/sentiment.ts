import { type FeatureOptions, featureWords, hashedVector, NgramHashes } from "./features.js";
import { LinearModel } from "./linear-model.js";
import { sentimentTokenList } from "./sentiment-tokens.js";

export const SENTIMENT_FEATURES: Omit<FeatureOptions, "extra"> = {
  dimension: 1 << 18,
  wordNgrams: [1, 2, 3],
  charNgrams: [],
};

/** Within ±0.1 of zero the label is "neutral" (the seed's contract for `sentiment.label`). */
const NEUTRAL_BAND = 0.1;

export interface SentimentResult {
  /** −1..1: 2·P(positive) − 1. */
  readonly score: number;
  readonly label: "positive" | "negative" | "neutral";
  readonly probability: number;
}

/**
 * Logistic regression on hashed word 1–3-grams with negation scope, trained on SST-2
 * (train/train-sentiment.ts). wink's lexicon sentiment was right on ~0.70 of held-out SST-2
 * sentences; this model on 0.8+ (src/nlp/README.md).
 */
export class SentimentModel {
  readonly name: string;
  private constructor(private readonly model: LinearModel) {
    this.name = model.name;
  }

  static load(): SentimentModel {
    return new SentimentModel(
      LinearModel.load(new URL("./models/sentiment-v1.json", import.meta.url)),
    );
  }

  score(text: string): SentimentResult {
    // hashFeatures(sentimentTokens(text)), as trained, without joining the tokens and
    // tokenising the string again (featureWords).
    const hashes = new NgramHashes(featureWords(sentimentTokenList(text)));
    const probability =
      this.model.probabilities(hashedVector(hashes, SENTIMENT_FEATURES))[0] ?? 0.5;
    const score = Math.round((2 * probability - 1) * 1e4) / 1e4;
    const label =
      score > NEUTRAL_BAND ? "positive" : score < -NEUTRAL_BAND ? "negative" : "neutral";
    return { score, label, probability };
  }
}
