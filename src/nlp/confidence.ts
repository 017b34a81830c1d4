/** The inputs the enrichment confidence is built from; each is already on a 0..1 scale. */
export interface ConfidenceInputs {
  readonly language: string;
  readonly languageConfidence: number;
  readonly wordCount: number;
  readonly toxicityScore: number;
  /** Top-1 minus top-2 topic probability. */
  readonly topicMargin: number;
}

export interface ConfidenceBreakdown {
  readonly confidence: number;
  readonly languageFactor: number;
  readonly lengthFactor: number;
  readonly toxicityFactor: number;
  readonly topicFactor: number;
}

/** The models (sentiment lexicon, toxicity classifier, topic model) are English-only. */
export const SUPPORTED_LANGUAGES: ReadonlySet<string> = new Set(["en"]);
/** Below this many words a text is too short to judge reliably; the factor grows as √(words/15). */
export const FULL_LENGTH_WORDS = 15;
/** Share of the language factor kept when the language is not one the models were built for. */
export const UNSUPPORTED_LANGUAGE_FACTOR = 0.35;

/**
 * How sure the enrichment is, as a product of independent certainty factors, so that any one
 * weak link pulls the whole below the Judge's 0.6 escalation threshold:
 *
 *   confidence = language × length × toxicity × topic
 *   language = (0.5 + 0.5·languageConfidence) × (1 if the language is supported, else 0.35)
 *   length   = √min(1, words / 15)                 3 words → 0.45, 8 → 0.73, 15+ → 1
 *   toxicity = 0.5 + 0.5·|2·toxicityScore − 1|      0.5 (coin flip) → 0.5, 0.05 or 0.95 → 0.95
 *   topic    = 0.8 + 0.2·min(1, topicMargin / 0.4) a fuzzy topic costs at most 20%
 *
 * The toxicity factor weighs most because toxicity is what the Judge decides on: a score near
 * 0.5 alone halves the confidence and sends the item to a human. A topic that is unclear matters
 * less (topics are descriptive, and the label set is closed). Non-English text stays below
 * 0.6 whatever else holds, because no model here was trained on it.
 */
export function computeConfidence(inputs: ConfidenceInputs): ConfidenceBreakdown {
  const clamp = (x: number): number => Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0));
  const languageFactor =
    (0.5 + 0.5 * clamp(inputs.languageConfidence)) *
    (SUPPORTED_LANGUAGES.has(inputs.language) ? 1 : UNSUPPORTED_LANGUAGE_FACTOR);
  const lengthFactor = Math.sqrt(Math.min(1, Math.max(0, inputs.wordCount) / FULL_LENGTH_WORDS));
  const toxicityFactor = 0.5 + 0.5 * Math.abs(2 * clamp(inputs.toxicityScore) - 1);
  const topicFactor = 0.8 + 0.2 * Math.min(1, clamp(inputs.topicMargin) / 0.4);
  const round = (x: number): number => Math.round(x * 1e4) / 1e4;
  return {
    confidence: round(languageFactor * lengthFactor * toxicityFactor * topicFactor),
    languageFactor: round(languageFactor),
    lengthFactor: round(lengthFactor),
    toxicityFactor: round(toxicityFactor),
    topicFactor: round(topicFactor),
  };
}
