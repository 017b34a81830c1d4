import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from "obscenity";

import { type FeatureOptions, featureTokens, hashFeatures } from "./features.js";
import { LinearModel } from "./linear-model.js";

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

/** Score given to a matched threat pattern before combining (noisy-OR) with the other signals. */
const THREAT_SCORE = 0.9;

export interface ToxicityResult {
  /** Combined 0..1 score: noisy-OR of classifier probability, lexicon and threat signals. */
  readonly score: number;
  readonly classifier: number;
  readonly lexicon: number;
  readonly lexiconHits: number;
  readonly lexiconTerms: string;
  readonly threat: boolean;
  readonly directed: boolean;
}

/**
 * Toxicity from three independent signals, combined as a noisy-OR
 * (score = 1 − (1−classifier)(1−lexicon)(1−threat)) so any one of them can raise it, but
 * none can lower another:
 * - a logistic regression over hashed word and character n-grams trained on Davidson et al.
 *   (see train/train-toxicity.ts), which knows slang and context the lexicon does not;
 * - obscenity's English matcher, which catches disguised spellings ("f4gg0t", "fuuuck"):
 *   1 − 0.5^hits, pushed further up when the text addresses someone ("you ...");
 * - threat patterns for plain violent threats, which neither of the others knows.
 */
export class ToxicityScorer {
  readonly name: string;
  private readonly matcher = new RegExpMatcher({
    ...englishDataset.build(),
    ...englishRecommendedTransformers,
  });

  private constructor(private readonly model: LinearModel) {
    this.name = model.name;
  }

  static load(): ToxicityScorer {
    return new ToxicityScorer(
      LinearModel.load(new URL("./models/toxicity-v1.json", import.meta.url)),
    );
  }

  score(text: string): ToxicityResult {
    const classifier = this.model.probabilities(hashFeatures(text, TOXICITY_FEATURES))[0] ?? 0;
    const tokens = featureTokens(text).join(" ");
    const threat = THREAT_PATTERNS.some((p) => p.test(tokens));
    const directed = SECOND_PERSON.test(tokens);
    const terms = new Set<string>();
    let hits = 0;
    for (const match of this.matcher.getAllMatches(text, true)) {
      hits++;
      const word = englishDataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord;
      if (word) terms.add(word);
    }
    let lexicon = hits === 0 ? 0 : 1 - 0.5 ** hits;
    if (hits > 0 && directed) lexicon = 1 - (1 - lexicon) * 0.5;
    const score = 1 - (1 - classifier) * (1 - lexicon) * (1 - (threat ? THREAT_SCORE : 0));
    return {
      score,
      classifier,
      lexicon,
      lexiconHits: hits,
      lexiconTerms: [...terms].sort().join(","),
      threat,
      directed,
    };
  }
}

/** Exposed for the training script, which evaluates the combined score on held-out data. */
export function matchesThreat(text: string): boolean {
  const tokens = featureTokens(text).join(" ");
  return THREAT_PATTERNS.some((p) => p.test(tokens));
}
