import { readFileSync } from "node:fs";

import {
  englishDataset,
  englishRecommendedBlacklistMatcherTransformers,
  englishRecommendedTransformers,
  RegExpMatcher,
} from "obscenity";

import {
  type FeatureOptions,
  featureTokens,
  hashedVector,
  NgramHashes,
  sigmoid,
  type SparseVector,
} from "./features.js";
import { HarmClassifier } from "./harm-classifier.js";
import { harmMatches } from "./harm-patterns.js";
import type { HashedMlpHeader } from "./hashed-mlp.js";
import { Int8HashedMlp } from "./hashed-mlp-int8.js";
import { BinaryModelStack, LinearModel, type LinearModelFile } from "./linear-model.js";
import { ProfanityPrefilter } from "./profanity-prefilter.js";
import { containsSlur } from "./slur-lexicon.js";

/** The shipped model: provenance names it (`toxicity-stack-v4`), and this file's JSON holds it. */
export const TOXICITY_MODEL_FILE = "toxicity-v4.json";

export const TOXICITY_FEATURES: Omit<FeatureOptions, "extra"> = {
  dimension: 1 << 18,
  wordNgrams: [1, 2],
  // Character n-grams let "b1tchez" share most features with the plain spelling.
  charNgrams: [3, 4, 5],
};

const SECOND_PERSON = /\b(?:you|u|ur|your|youre|yourself|ya)\b/;

/**
 * A matched harm pattern (harm-patterns.ts: threats, hate against a protected group, personal
 * attacks) or a hit of the written-harm model (harm-classifier.ts) lifts the score to at least
 * this. The value is set by hand: the Davidson tweets hold almost none of these, so no
 * calibration data says how often a hit is right. 0.85 is above the default maxToxicity (0.8)
 * and below the ceiling, so harm the model does not itself find toxic goes to a human rather
 * than being published or rejected unseen.
 */
export const HARM_FLOOR = 0.85;

/** The raw signals, before calibration: what the calibration and confidence models are fitted on. */
export interface ToxicitySignals {
  /** The linear classifier's logit (log-odds of toxic, trained with balanced classes). */
  readonly logit: number;
  /** The hashed-n-gram network's logit (same training data and targets); 0 without one. */
  readonly mlpLogit: number;
  readonly lexiconHits: number;
  readonly lexiconTerms: string;
  /** harm-patterns.ts: a threat, hate against a protected group, a personal attack. */
  readonly threat: boolean;
  readonly groupHate: boolean;
  readonly harassment: boolean;
  /** slur-lexicon.ts: a slur obscenity's list lacks (never published unseen). */
  readonly slur: boolean;
  /** harm-classifier.ts: P(harm written without a swear word or slur), and whether it hits. */
  readonly writtenHarm: number;
  readonly writtenHarmHit: boolean;
  readonly directed: boolean;
  /** Share of the text's hashed n-grams the (pruned) classifier has a weight for. */
  readonly coverage: number;
  /** Word tokens, as the classifier saw them. */
  readonly tokens: number;
}

export interface ToxicityResult extends ToxicitySignals {
  /** Calibrated P(toxic) (Platt scaling fitted on the calibration split), threat floor applied. */
  readonly score: number;
  /** The classifier's own probability, uncalibrated. */
  readonly classifier: number;
}

/** Platt scaling extended with the lexicon signals, fitted by train/train-toxicity.ts. */
export interface ToxicityCalibration {
  readonly features: readonly string[];
  readonly coefficients: readonly number[];
  readonly intercept: number;
}

export interface ToxicityModelFile extends LinearModelFile {
  readonly calibration: ToxicityCalibration;
  /** The second classifier, stacked with the linear one by the calibration (toxicity-v3 on). */
  readonly mlp?: HashedMlpHeader;
}

/** The calibration's inputs, by name; the model file lists which it uses, in order. */
export function calibrationInputs(s: ToxicitySignals): Readonly<Record<string, number>> {
  return {
    logit: s.logit,
    mlp: s.mlpLogit,
    lexicon: Math.log1p(s.lexiconHits),
    directedLexicon: s.directed && s.lexiconHits > 0 ? 1 : 0,
  };
}

/**
 * Toxicity as a calibrated probability: a logistic regression and a small network (HashedMlp),
 * both over hashed word and character n-grams and trained on Davidson et al.
 * (train/train-toxicity.ts), whose logits are stacked into P(toxic) together with obscenity's
 * lexicon hits (which catch disguised spellings the n-grams have not seen) by a small logistic
 * model fitted on out-of-fold logits. The old noisy-OR of the
 * signals had no measured meaning; this one is a probability (ECE in src/nlp/README.md).
 * Harm patterns and the written-harm model, for what Davidson's tweets do not hold, and the
 * slurs obscenity's list lacks, set a floor (HARM_FLOOR).
 */
export class ToxicityScorer {
  readonly name: string;
  private readonly matcher = new RegExpMatcher({
    ...englishDataset.build(),
    ...englishRecommendedTransformers,
  });
  // Most texts hold no term: this skips the matcher's full pass for them, with the same result.
  private readonly prefilter = new ProfanityPrefilter(
    englishDataset.build().blacklistedTerms,
    englishRecommendedBlacklistMatcherTransformers,
  );
  private readonly model: LinearModel;
  /** The classifier and the written-harm model (when there is one), scored in one pass. */
  private readonly linear: BinaryModelStack;

  constructor(
    private readonly file: ToxicityModelFile,
    private readonly mlp?: { logit(vector: SparseVector): number },
    private readonly harm?: HarmClassifier,
  ) {
    this.model = new LinearModel(file);
    this.linear = new BinaryModelStack(harm ? [this.model, harm.model] : [this.model]);
    this.name = harm ? `${this.model.name}+${harm.name}` : this.model.name;
  }

  static load(): ToxicityScorer {
    const url = new URL(`./models/${TOXICITY_MODEL_FILE}`, import.meta.url);
    const file = JSON.parse(readFileSync(url, "utf8")) as ToxicityModelFile;
    const mlp = file.mlp
      ? Int8HashedMlp.load(new URL(`./models/${file.mlp.file}`, import.meta.url), file.mlp)
      : undefined;
    return new ToxicityScorer(file, mlp, HarmClassifier.load());
  }

  signals(text: string): ToxicitySignals {
    return this.signalsOf(text, new NgramHashes(featureTokens(text)));
  }

  /**
   * The signals of `text` whose featureTokens' n-gram hashes are `hashes` (shared with the
   * topic classifier by the enricher, so the text is tokenised and hashed once).
   */
  signalsOf(text: string, hashes: NgramHashes): ToxicitySignals {
    const vector = hashedVector(hashes, TOXICITY_FEATURES);
    const linear = this.linear.score(vector);
    const logit = linear.logits[0] ?? 0;
    const words = hashes.tokens;
    const joined = words.join(" ");
    const terms = new Set<string>();
    let hits = 0;
    const matches = this.prefilter.mayMatch(text) ? this.matcher.getAllMatches(text, true) : [];
    for (const match of matches) {
      hits++;
      const word = englishDataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord;
      if (word) terms.add(word);
    }
    return {
      logit,
      mlpLogit: this.mlp ? this.mlp.logit(vector) : 0,
      lexiconHits: hits,
      lexiconTerms: [...terms].sort().join(","),
      ...harmMatches(joined, words),
      slur: containsSlur(joined),
      ...this.writtenHarmOf(linear.logits[1] ?? 0),
      directed: SECOND_PERSON.test(joined),
      coverage: linear.coverage,
      tokens: words.length,
    };
  }

  /** The written-harm signals from the harm model's logit (BinaryModelStack's second). */
  private writtenHarmOf(logit: number): { writtenHarm: number; writtenHarmHit: boolean } {
    if (!this.harm) return { writtenHarm: 0, writtenHarmHit: false };
    const { probability, hit } = this.harm.scoreOfLogit(logit);
    return { writtenHarm: probability, writtenHarmHit: hit };
  }

  score(text: string): ToxicityResult {
    return this.calibrate(this.signals(text));
  }

  /** score() over precomputed n-gram hashes of featureTokens(text) (see signalsOf). */
  scoreOf(text: string, hashes: NgramHashes): ToxicityResult {
    return this.calibrate(this.signalsOf(text, hashes));
  }

  /** The calibrated score of given signals (the trainer feeds it out-of-fold logits). */
  calibrate(s: ToxicitySignals): ToxicityResult {
    const { features, coefficients, intercept } = this.file.calibration;
    const inputs = calibrationInputs(s);
    let z = intercept;
    features.forEach((name, i) => (z += (coefficients[i] ?? 0) * (inputs[name] ?? 0)));
    const calibrated = sigmoid(z);
    return {
      ...s,
      score:
        s.threat || s.groupHate || s.harassment || s.slur || s.writtenHarmHit
          ? Math.max(calibrated, HARM_FLOOR)
          : calibrated,
      classifier: sigmoid(s.logit),
    };
  }
}
