import { readFileSync } from "node:fs";

import { sigmoid } from "./features.js";

/** What the confidence model reads; all produced by the enricher. */
export interface ConfidenceInputs {
  /** Calibrated P(toxic). */
  readonly toxicityScore: number;
  readonly language: string;
  /** Word tokens as the toxicity classifier saw them. */
  readonly tokens: number;
  readonly lexiconHits: number;
  /** Share of the text's n-grams the toxicity classifier knows (ToxicitySignals.coverage). */
  readonly coverage: number;
}

export interface ConfidenceModelFile {
  readonly name: string;
  readonly version: number;
  /** Names from confidenceFeatures(), in coefficient order. */
  readonly features: readonly string[];
  readonly coefficients: readonly number[];
  readonly intercept: number;
  readonly trainedOn: string;
  readonly metrics: Readonly<Record<string, number | string>>;
}

/** The shipped model (provenance: `confidence-lr-v5`). */
export const CONFIDENCE_MODEL_FILE = "confidence-v5.json";

/**
 * Languages the models were trained on. "und" (eld could not tell: mostly short texts) is
 * treated as possibly English: most short English posts land there, and the model's own
 * features (length, coverage) already say how much a short text can be trusted.
 */
export const SUPPORTED_LANGUAGES: ReadonlySet<string> = new Set(["en", "und"]);
/**
 * Ceiling for text in any other language. There is no labelled data in those languages, so
 * nothing measures how often the English models are right on them: the only honest confidence
 * is "unknown", kept under the Judge's default 0.6 so a human decides.
 */
export const UNSUPPORTED_LANGUAGE_CAP = 0.5;

/** Every candidate feature, by name; the model file says which ones the fitted model uses. */
export function confidenceFeatures(inputs: ConfidenceInputs): Readonly<Record<string, number>> {
  const p = Math.min(
    1 - 1e-6,
    Math.max(1e-6, Number.isFinite(inputs.toxicityScore) ? inputs.toxicityScore : 0.5),
  );
  const margin = Math.abs(Math.log(p / (1 - p)));
  const leansToxic = p >= 0.5 ? 1 : 0;
  return {
    margin,
    leansToxic,
    marginIfToxic: margin * leansToxic,
    logTokens: Math.log1p(Math.max(0, inputs.tokens)),
    lexicon: inputs.lexiconHits > 0 ? 1 : 0,
    coverage: Math.min(1, Math.max(0, inputs.coverage)),
    undetermined: inputs.language === "und" ? 1 : 0,
  };
}

/**
 * `confidence` = the calibrated probability that the Judge's automatic decision (publish when
 * toxicityScore < 0.5, reject otherwise) would be upheld by a moderator: a logistic model over
 * the decision's margin and the signals that measurably predict its errors, fitted on labelled
 * tweets the classifier never trained on (train/train-toxicity.ts chooses the features by
 * cross-validated log loss). So "confidence 0.9" means: of such items, 9 in 10 were decided right.
 */
export class ConfidenceModel {
  readonly name: string;
  constructor(private readonly file: ConfidenceModelFile) {
    this.name = `${file.name}-v${file.version}`;
  }

  static load(): ConfidenceModel {
    const url = new URL(`./models/${CONFIDENCE_MODEL_FILE}`, import.meta.url);
    return new ConfidenceModel(JSON.parse(readFileSync(url, "utf8")) as ConfidenceModelFile);
  }

  /** The calibrated probability, before the language ceiling. */
  upheldProbability(inputs: ConfidenceInputs): number {
    const features = confidenceFeatures(inputs);
    let z = this.file.intercept;
    this.file.features.forEach(
      (name, i) => (z += (this.file.coefficients[i] ?? 0) * (features[name] ?? 0)),
    );
    return sigmoid(z);
  }

  confidence(inputs: ConfidenceInputs): number {
    const p = this.upheldProbability(inputs);
    // A text without a word token gave the models nothing to read: their score there is the
    // models' bias, which no labelled row measures, so it gets the same "unknown" ceiling.
    const unknown = !SUPPORTED_LANGUAGES.has(inputs.language) || inputs.tokens <= 0;
    const capped = unknown ? Math.min(p, UNSUPPORTED_LANGUAGE_CAP) : p;
    return Math.round(capped * 1e4) / 1e4;
  }
}
