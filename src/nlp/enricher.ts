import { ConfidenceModel, SUPPORTED_LANGUAGES } from "./confidence.js";
import { featureTokens, NgramHashes } from "./features.js";
import { detectLanguage } from "./language.js";
import { cutAtWordBoundary, normalizeText } from "./normalize.js";
import { SentimentModel } from "./sentiment.js";
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
  /** Calibrated P(toxic) (see ToxicityScorer). */
  toxicityScore: number;
  /**
   * Calibrated probability that the automatic decision (publish below toxicity 0.5, reject at
   * or above) would be upheld by a moderator (see ConfidenceModel).
   */
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

/** Loaded once per process: every enricher shares the (read-only) weights. */
let shared:
  | {
      toxicity: ToxicityScorer;
      topics: TopicClassifier;
      sentiment: SentimentModel;
      confidence: ConfidenceModel;
    }
  | undefined;
function loadModels(): NonNullable<typeof shared> {
  shared ??= {
    toxicity: ToxicityScorer.load(),
    topics: TopicClassifier.load(),
    sentiment: SentimentModel.load(),
    confidence: ConfidenceModel.load(),
  };
  return shared;
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Builds the offline enricher: language (eld), keywords/summary (wink-nlp), sentiment (logistic
 * regression on SST-2), toxicity (calibrated logistic regression + obscenity + harm patterns),
 * topics (softmax regression + lexicons) and a confidence calibrated as the chance the Judge's
 * automatic decision is right. Models are loaded once per process; `enrich`
 * is synchronous work behind a Promise and deterministic for the same input.
 */
export async function createOfflineEnricher(
  options: { maxChars?: number } = {},
): Promise<Enricher> {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  const { toxicity, topics, sentiment, confidence } = loadModels();
  const model = `${ENRICHER_MODEL_NAME} (${PACKAGE_MODELS},${toxicity.name},${topics.name},${sentiment.name},${confidence.name})`;

  const enrich = (input: EnrichmentInput): Enrichment => {
    const title = normalizeText(input.title ?? "", TITLE_MAX_CHARS);
    const fullBody = normalizeText(input.body, Number.MAX_SAFE_INTEGER);
    const body = cutAtWordBoundary(fullBody, maxChars);
    const joiner = title === "" || body === "" ? "" : /[.!?:…]$/u.test(title) ? " " : ". ";
    const text = `${title}${joiner}${body}`;
    const titleChars = body === "" ? 0 : title.length;

    const lang = detectLanguage(text);
    const analysis = analyzeText(text, titleChars);
    // Toxicity and topics read the same tokens and share their word 1–2-gram and char 4-gram
    // hashes: tokenised and hashed once here instead of once per model.
    const hashes = new NgramHashes(featureTokens(text));
    const tox = toxicity.scoreOf(text, hashes);
    const topic = topics.classifyOf(hashes);
    const mood = sentiment.score(text);
    const toxicityScore = round(tox.score);
    const confInputs = {
      toxicityScore,
      language: lang.language,
      tokens: tox.tokens,
      lexiconHits: tox.lexiconHits,
      coverage: tox.coverage,
    };
    const upheld = confidence.upheldProbability(confInputs);
    const units = Math.max(1, Math.ceil(analysis.tokenCount / TOKENS_PER_COMPUTE_UNIT));
    // Cut at a word boundary, never inside a surrogate pair: a lone surrogate makes the
    // provenance JSON invalid for Postgres, and the item would be dead-lettered.
    const snippet = text.length > 80 ? `${cutAtWordBoundary(text, 77)}...` : text;
    return {
      normalizedBody: text,
      language: lang.language,
      languageConfidence: lang.confidence,
      sentiment: { score: mood.score, label: mood.label },
      topics: topic.topics,
      toxicityScore,
      confidence: confidence.confidence(confInputs),
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
        "toxicity.logit": round(tox.logit),
        "toxicity.coverage": round(tox.coverage),
        "toxicity.lexiconHits": tox.lexiconHits,
        "toxicity.lexiconTerms": tox.lexiconTerms,
        "toxicity.threat": tox.threat,
        "toxicity.group_hate": tox.groupHate,
        "toxicity.harassment": tox.harassment,
        "toxicity.slur": tox.slur,
        "toxicity.written_harm": round(tox.writtenHarm),
        "toxicity.directed": tox.directed,
        "topics.top": topic.top,
        "topics.topProbability": round(topic.topProbability),
        "topics.margin": round(topic.margin),
        "topics.lexiconHits": topic.lexiconHits,
        "confidence.upheld": round(upheld),
        "confidence.languageSupported": SUPPORTED_LANGUAGES.has(lang.language),
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
