import { truncateGraphemes } from "../domain/valid-text.js";
import { computeConfidence } from "./confidence.js";
import { detectLanguage } from "./language.js";
import { cutAtWordBoundary, normalizeText } from "./normalize.js";
import { analyzeText } from "./text-analysis.js";
import { TopicClassifier } from "./topics.js";
import { ToxicityScorer } from "./toxicity.js";

export interface EnrichmentInput {
  source: string;
  title?: string | null;
  body: string;
  url?: string | null;
}

export interface Enrichment {
  /** Normalized "title. body" (title omitted when absent): the text every step analysed. */
  normalizedBody: string;
  /** ISO 639-1, or "und" when the language could not be determined reliably. */
  language: string;
  languageConfidence: number;
  /** score in -1..1; label "neutral" within ±0.1. */
  sentiment: { score: number; label: "positive" | "negative" | "neutral" };
  /** Zero to three labels from TOPIC_LABELS, most probable first. */
  topics: string[];
  /** 0..1, probability-like (see ToxicityScorer). */
  toxicityScore: number;
  /** 0..1, how sure the enrichment is (see computeConfidence); the Judge escalates below 0.6. */
  confidence: number;
  /** Extractive, at most 280 characters. */
  summary: string;
  keywords: string[];
  /** What produced the scores, for the audit trail and for debugging a surprising verdict. */
  signals: Record<string, number | string | boolean>;
  /** Deterministic: 1 compute unit per 10 tokens analysed, at least 1. */
  cost: { units: number; unit: "compute_unit" };
  model: string;
  /** What the `worker_output_prompt` log field shows for this step. */
  prompt: string;
}

export interface Enricher {
  readonly model: string;
  enrich(input: EnrichmentInput): Promise<Enrichment>;
  close?(): Promise<void>;
}

export const ENRICHER_MODEL_NAME = "trendgate-offline-v1";
export const DEFAULT_MAX_CHARS = 5000;
const TITLE_MAX_CHARS = 300;
const TOKENS_PER_COMPUTE_UNIT = 10;
// Versions of the packaged models, pinned in package.json; recorded so provenance can tell
// which model produced an old enrichment.
const PACKAGE_MODELS = "eld-medium@2.1,wink-eng-lite-web-model@1.8,obscenity@0.4";

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Builds the offline enricher: language (eld), sentiment/keywords/summary (wink-nlp), toxicity
 * (logistic regression + obscenity + threat patterns), topics (softmax regression + lexicons)
 * and a confidence that says how far to trust them. Everything is loaded once, here; `enrich`
 * is synchronous work behind a Promise and deterministic for the same input.
 */
export async function createOfflineEnricher(
  options: { maxChars?: number } = {},
): Promise<Enricher> {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  const toxicity = ToxicityScorer.load();
  const topics = TopicClassifier.load();
  const model = `${ENRICHER_MODEL_NAME} (${PACKAGE_MODELS},${toxicity.name},${topics.name})`;

  const enrich = (input: EnrichmentInput): Enrichment => {
    const title = normalizeText(input.title ?? "", TITLE_MAX_CHARS);
    const fullBody = normalizeText(input.body, Number.MAX_SAFE_INTEGER);
    const body = cutAtWordBoundary(fullBody, maxChars);
    const joiner = title === "" || body === "" ? "" : /[.!?:…]$/u.test(title) ? " " : ". ";
    const text = `${title}${joiner}${body}`;
    const titleChars = body === "" ? 0 : title.length;

    const lang = detectLanguage(text);
    const analysis = analyzeText(text, titleChars);
    const tox = toxicity.score(text);
    const topic = topics.classify(text);
    const conf = computeConfidence({
      language: lang.language,
      languageConfidence: lang.confidence,
      wordCount: analysis.wordCount,
      toxicityScore: tox.score,
      topicMargin: topic.margin,
    });
    const units = Math.max(1, Math.ceil(analysis.tokenCount / TOKENS_PER_COMPUTE_UNIT));
    // Cut on a grapheme boundary: `slice(0, 77)` split emoji, and the lone surrogate in this prompt
    // made the provenance row's jsonb refuse the whole ETL transaction (22P02, issue 12).
    const snippet = text.length > 80 ? `${truncateGraphemes(text, 77)}...` : text;
    return {
      normalizedBody: text,
      language: lang.language,
      languageConfidence: lang.confidence,
      sentiment: analysis.sentiment,
      topics: topic.topics,
      toxicityScore: round(tox.score),
      confidence: conf.confidence,
      summary: analysis.summary,
      keywords: analysis.keywords,
      signals: {
        "language.reliable": lang.reliable,
        "language.topScore": lang.topScore,
        "language.runnerUp": lang.runnerUp,
        "text.words": analysis.wordCount,
        "text.tokens": analysis.tokenCount,
        "text.sentences": analysis.sentenceCount,
        "text.truncated": body.length < fullBody.length,
        "toxicity.classifier": round(tox.classifier),
        "toxicity.lexicon": round(tox.lexicon),
        "toxicity.lexiconHits": tox.lexiconHits,
        "toxicity.lexiconTerms": tox.lexiconTerms,
        "toxicity.threat": tox.threat,
        "toxicity.directed": tox.directed,
        "topics.top": topic.top,
        "topics.topProbability": round(topic.topProbability),
        "topics.margin": round(topic.margin),
        "topics.lexiconHits": topic.lexiconHits,
        "confidence.language": conf.languageFactor,
        "confidence.length": conf.lengthFactor,
        "confidence.toxicity": conf.toxicityFactor,
        "confidence.topic": conf.topicFactor,
      },
      cost: { units, unit: "compute_unit" },
      model,
      prompt: `${ENRICHER_MODEL_NAME} enrich (language, sentiment, toxicity, topics, summary, keywords) of ${input.source} item: ${analysis.tokenCount} tokens, "${snippet}"`,
    };
  };

  return {
    model,
    enrich: async (input) => enrich(input),
  };
}
