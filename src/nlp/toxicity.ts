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
import type { HashedMlpHeader } from "./hashed-mlp.js";
import { Int8HashedMlp } from "./hashed-mlp-int8.js";
import { LinearModel, type LinearModelFile } from "./linear-model.js";
import { ProfanityPrefilter } from "./profanity-prefilter.js";

/** The shipped model: provenance names it (`toxicity-stack-v3`), and this file's JSON holds it. */
export const TOXICITY_MODEL_FILE = "toxicity-v3.json";

export const TOXICITY_FEATURES: Omit<FeatureOptions, "extra"> = {
  dimension: 1 << 18,
  wordNgrams: [1, 2],
  // Character n-grams let "b1tchez" share most features with the plain spelling.
  charNgrams: [3, 4, 5],
};

// obscenity misses plain threats (MODELS.md); these cover the common first- and second-person
// forms. Patterns run over featureTokens() joined by spaces, so case, leetspeak, apostrophes
// ("i'll" → "ill") and repeated letters are already normalised.
const SUBJECT = String.raw`(?:i|we|ill|im|ima|imma)`;
// Only modal and filler words may stand between subject and verb, so reported speech ("i think
// the soldiers will kill them") does not read as the writer's own threat.
const FILLER = String.raw`(?:(?:will|shall|am|are|gonna|going|to|gon|wanna|want|would|can|must|finna|bout|about|really|just|gotta|got|need|fucking|fuckin|literally|seriously|definitely|personally|come|go|find|and|you|u|then)\s)`;
const VIOLENT_VERB = String.raw`(?:kill|murder|shoot|stab|hurt|strangle|choke|rape|burn|slaughter|hang|behead|execute|butcher|slit|smash|bash|skin|torture|lynch)`;
const TARGET = String.raw`(?:you|u|ya|yall|your|ur|him|her|them|his|their|ya'll)`;
const THREAT_PATTERNS: readonly RegExp[] = [
  // "i will kill you", "i'm going to find and hurt your family", "we gonna shoot them"
  new RegExp(
    String.raw`\b${SUBJECT} ${FILLER}{0,5}${VIOLENT_VERB}(?:s|ed|ing)? (?:\w+ ){0,2}?${TARGET}\b`,
  ),
  // Sport talk ("we will beat them") is not a threat; "beat you up" / "beat the shit out of you" is.
  new RegExp(
    String.raw`\b${SUBJECT} ${FILLER}{0,5}(?:beat|punch|knock) (?:${TARGET} up|the \w+ out of ${TARGET}|${TARGET} (?:senseless|to death|unconscious))\b`,
  ),
  new RegExp(
    String.raw`\bbreak (?:your|ur|his|her|their) (?:neck|legs?|arms?|face|jaw|skull|bones)\b`,
  ),
  /\b(?:you|u|ur|youre|you are|your) (?:\w+ ){0,2}?(?:dead|gonna die|going to die|will die|dead meat|next)\b/,
  /\b(?:kill|hang|shoot|end) (?:yourself|urself|yourselves|yoself)\b|\bkys\b/,
  /\b(?:i|we) know where (?:you|u) (?:live|work|sleep)\b|\bwatch (?:your|ur) back\b|\byou(?:ll| will) (?:pay|regret)\b/,
  /\b(?:hope|wish) (?:you|u|ya|he|she|they) (?:\w+ )?(?:die|dies|get killed|gets killed|get raped|burn|rot)\b/,
  /\b(?:you|u|they|he|she) (?:should|deserve to|ought to) (?:be )?(?:die|killed|shot|hanged|hung|executed|raped|burned)\b/,
];

const SECOND_PERSON = /\b(?:you|u|ur|your|youre|yourself|ya)\b/;

/**
 * A matched threat pattern lifts the score to at least this. Not learned: the Davidson tweets
 * hold almost no plain threats, so no calibration data says how often the patterns are right.
 * 0.85 is above the default maxToxicity (0.8) and below the ceiling, so a threat the model does
 * not itself find toxic goes to a human rather than being published or rejected unseen.
 */
export const THREAT_FLOOR = 0.85;

/** The raw signals, before calibration: what the calibration and confidence models are fitted on. */
export interface ToxicitySignals {
  /** The linear classifier's logit (log-odds of toxic, trained with balanced classes). */
  readonly logit: number;
  /** The hashed-n-gram network's logit (same training data and targets); 0 without one. */
  readonly mlpLogit: number;
  readonly lexiconHits: number;
  readonly lexiconTerms: string;
  readonly threat: boolean;
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
 * Threat patterns, which neither signal knows, set a floor (THREAT_FLOOR).
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

  constructor(
    private readonly file: ToxicityModelFile,
    private readonly mlp?: { logit(vector: SparseVector): number },
  ) {
    this.model = new LinearModel(file);
    this.name = this.model.name;
  }

  static load(): ToxicityScorer {
    const url = new URL(`./models/${TOXICITY_MODEL_FILE}`, import.meta.url);
    const file = JSON.parse(readFileSync(url, "utf8")) as ToxicityModelFile;
    const mlp = file.mlp
      ? Int8HashedMlp.load(new URL(`./models/${file.mlp.file}`, import.meta.url), file.mlp)
      : undefined;
    return new ToxicityScorer(file, mlp);
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
    const logit = this.model.logits(vector)[0] ?? 0;
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
      threat: THREAT_PATTERNS.some((p) => p.test(joined)),
      directed: SECOND_PERSON.test(joined),
      coverage: this.model.coverage(vector),
      tokens: words.length,
    };
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
      score: s.threat ? Math.max(calibrated, THREAT_FLOOR) : calibrated,
      classifier: sigmoid(s.logit),
    };
  }
}
