/**
 * Harm the toxicity classifiers cannot learn from their data: plain threats, hate against a
 * protected group and personal attacks written without a swear word or a slur. Davidson's tweets
 * (the training set) were collected by searching slurs, so a post like "those migrants are
 * vermin and should be exterminated" shares almost no n-gram with its toxic class and scored as
 * clean (hand-written probes, src/nlp/README.md). A match does not reject anything: it lifts the
 * toxicity to a floor above maxToxicity, so a human decides.
 *
 * Every pattern runs over featureTokens() joined by spaces: case, leetspeak, apostrophes
 * ("i'll" → "ill", "don't" → "dont") and repeated letters are already normalised, and
 * punctuation is gone. Patterns are anchored on a target (you, a protected group, a place of
 * worship) and a harmful predicate, so news about violence ("the gunman shot three people"),
 * sport ("we will destroy them") and pests ("rats carry disease") do not match; the false
 * positive rates on news, reviews and clean tweets are in src/nlp/README.md.
 */

import {
  CONTEMPT_WORDS,
  DEHUMANIZING_WORDS,
  ELIMINATION_WORDS,
  GROUP_ADJECTIVES,
  GROUP_MEMBERS,
  GROUP_NOUNS,
} from "./harm-lexicon.js";

/** An alternation of `words` for a RegExp source. */
const alt = (words: readonly string[]): string => `(?:${words.join("|")})`;

// --- Threats against a person (first person, or wishing / urging it) ---------------------------

const SUBJECT = String.raw`(?:i|we|ill|im|ima|imma)`;
// Only modal and filler words may stand between subject and verb, so reported speech ("i think
// the soldiers will kill them") does not read as the writer's own threat.
const FILLER = String.raw`(?:(?:will|shall|am|are|gonna|going|to|gon|wanna|want|would|can|must|finna|bout|about|really|just|gotta|got|need|fucking|fuckin|literally|seriously|definitely|personally|come|go|find|and|you|u|then)\s)`;
const VIOLENT_VERB = String.raw`(?:kill|murder|shoot|stab|hurt|strangle|choke|rape|burn|slaughter|hang|behead|execute|butcher|slit|smash|bash|skin|torture|lynch)`;
const TARGET = String.raw`(?:you|u|ya|yall|your|ur|him|her|them|his|their|ya'll)`;
// Violence against a building: only in the base form ("burn down their mosque", "someone should
// bomb the school"), so a report in the past tense ("arsonists burned down the church") is news.
const PLACE = alt([
  "mosques?",
  "church(?:es)?",
  "synagogues?",
  "temples?",
  "schools?",
  "house",
  "home",
  "office",
  "clinic",
  "shelter",
  "centre",
  "center",
]);
const PLACE_ATTACK = String.raw`(?:burn (?:down )?|torch |firebomb |bomb |blow up |shoot up |attack )(?:the |their |that |this |your |ur |his |her |every )?(?:\w+ )?${PLACE}\b`;

/** A person as the object of violence: "you", "her", "that judge", "the senator". */
const PERSON = String.raw`(?:${TARGET}|(?:that|this|the|those|these|every|all|some) (?:\w+ )?(?:guy|guys|man|men|woman|women|girl|boy|kid|kids|bitch|senator|president|politician|politicians|judge|cop|cops|officer|teacher|journalist|journalists|reporter|traitor|traitors|family|bastard|idiot|moron|mayor|minister|doctor|nurse|neighbou?r|ex|boss))`;
/** Someone urged to act: "someone should", "we need to", "let's go". */
const URGING = String.raw`\b(?:(?:someone|somebody|some1|we|yall|you all|people|everyone|anyone) (?:really |just |seriously )?(?:should|needs? to|must|gotta|oughta|ought to|has to|have to|better)|lets|let us) (?:go )?(?:and )?`;

const THREAT_PATTERNS: readonly RegExp[] = [
  // "i will kill you", "i'm going to find and hurt your family", "we gonna shoot them"
  new RegExp(
    String.raw`\b${SUBJECT} ${FILLER}{0,5}${VIOLENT_VERB}(?:s|ed|ing)? (?:\w+ ){0,2}?${TARGET}\b`,
  ),
  // Sport talk ("we will beat them") is not a threat; "beat you up" / "beat the shit out of you" is.
  new RegExp(
    String.raw`\b${SUBJECT} ${FILLER}{0,5}(?:beat|punch|knock) (?:${TARGET} up|the \w+ out of ${TARGET}|${TARGET} (?:senseless|to death|unconscious|until|till|so hard|half to death|black and blue))\b`,
  ),
  new RegExp(
    String.raw`\bbreak (?:your|ur|his|her|their) (?:neck|legs?|arms?|face|jaw|skull|bones)\b`,
  ),
  // "you're next" alone: with words between, "next" is mostly time ("your next chicken wing").
  /\b(?:you|u|ur|youre|you are|your) (?:\w+ ){0,2}?(?:dead|gonna die|going to die|will die|dead meat)\b|\b(?:youre|you are|ur|u r|you r) next\b/,
  /\b(?:kill|hang|shoot|end) (?:yourself|urself|yourselves|yoself)\b|\bkys\b/,
  /\b(?:i|we) know where (?:you|u) (?:live|work|sleep)\b|\bwatch (?:your|ur) back\b|\byou(?:ll| will) (?:pay|regret)\b/,
  /\b(?:find|found|know|knows|figure out|found out) where (?:you|u|your family|ur family|your kids|he|she|they) (?:live|lives|work|works|sleep|sleeps|go to school)\b/,
  /\bdox+(?:ing|ed)? (?:him|her|them|you|u|this|that)\b|\bsend (?:people|someone|some guys) (?:to|round to|over to) (?:his|her|your|ur|their) (?:house|home|place|work)\b/,
  /\b(?:hope|wish) (?:you|u|ya|he|she|they) (?:\w+ )?(?:die|dies|get killed|gets killed|get raped|burn|rot)\b/,
  /\b(?:you|u|they|he|she) (?:should|deserve to|ought to) (?:be )?(?:die|killed|shot|hanged|hung|executed|raped|burned)\b/,
  // Urging others: "someone should put a bullet in his head", "let's burn down their mosque".
  new RegExp(String.raw`${URGING}(?:${VIOLENT_VERB} (?:\w+ ){0,2}?${PERSON}\b|${PLACE_ATTACK})`),
  new RegExp(String.raw`\b(?:i|we|ill|im|ima|imma) ${FILLER}{0,5}${PLACE_ATTACK}`),
  /\b(?:put|puts|putting) (?:a )?(?:bullet|bullets|knife|blade) (?:in|into|through) (?:\w+ ){0,2}?(?:head|skull|brain|face|chest|heart|back)\b/,
  // Veiled: "it would be a shame if something happened to your kids".
  /\b(?:shame|pity) if (?:something|anything) (?:\w+ )?(?:happened|happens|were to happen|was to happen) to (?:you|u|your|ur)\b/,
  /\bsomething (?:bad )?(?:will|is going to|gonna|might) happen to (?:you|u|your|ur)\b/,
  /\bsleep with one eye open\b|\b(?:i am|im|we are|were|i m) coming for (?:you|u|ur|your)\b/,
  /\b(?:put|putting|send|sending) (?:you|u|him|her|them) in (?:the |a )?(?:hospital|grave|ground|coffin|wheelchair|morgue)\b/,
  /\b(?:your|ur) last (?:day|days|week|breath|words|time|chance to live)\b|\bwill be (?:your|ur) last\b/,
  // A weapon brought to where people gather: "im bringing my rifle to the office monday".
  new RegExp(
    String.raw`\b${SUBJECT} ${FILLER}{0,4}(?:bring|bringing|take|taking|carry|carrying) (?:a |my |the |our )?(?:gun|guns|rifle|rifles|pistol|shotgun|machete|axe|knife|knives) (?:to|into) (?:the |that |this |your |ur |their |our )?(?:\w+ )?(?:office|school|meeting|council|courthouse|church|mosque|synagogue|temple|rally|protest|work|class|campus|parade|clinic|house|home|party|game)\b`,
  ),
  /\b(?:expect|expecting) a visit from (?:us|me|my boys|some friends)\b/,
  new RegExp(
    String.raw`\b${PLACE}\b (?:\w+ ){0,4}?(?:will|is going to|gonna|shall) (?:burn|blow up|explode|go up in flames)\b`,
  ),
];

// --- Hate against a protected group --------------------------------------------------------------

const GROUP_NOUN = alt(GROUP_NOUNS);
const GROUP_ADJECTIVE = alt(GROUP_ADJECTIVES);
const GROUP_MEMBER = alt(GROUP_MEMBERS);
const DEHUMANIZING = alt(DEHUMANIZING_WORDS);
const ELIMINATED = alt(ELIMINATION_WORDS);
const CONTEMPT = alt(CONTEMPT_WORDS);
const GROUP = String.raw`(?:(?:every|each) (?:last |single )?${GROUP_MEMBER}|(?:(?:all|these|those|the|most|every|any|such|our|your|their|of) ){0,2}(?:${GROUP_NOUN}|${GROUP_ADJECTIVE} (?:people|ppl|persons|folks|men|women|kids|children|families|immigrants|migrants|community)))`;
/** Words that turn the sentence around ("migrants are not animals") stop a group match. */
const NO_NEGATION = String.raw`(?!(?:\w+ )?(?:not|never|arent|isnt|no|hardly)\b)`;
/** The one group-hate pattern that names no group. */
const FINAL_SOLUTION = /\bfinal solution (?:to|for) (?:the )?\w+/;

/**
 * Every word of the group lists: each group pattern needs one, and most texts hold none, so a
 * set lookup per token skips the patterns' scan (76 µs on a 530-character news item, most of it
 * the group patterns; measured in src/nlp/README.md). A superset: an adjective ("black") alone
 * only lets the patterns run.
 */
const GROUP_WORDS: ReadonlySet<string> = new Set(
  [...GROUP_NOUNS, ...GROUP_ADJECTIVES, ...GROUP_MEMBERS]
    .flatMap((entry) => entry.split(" "))
    .filter((word) => word !== "the"),
);

const GROUP_HATE_PATTERNS: readonly RegExp[] = [
  // Dehumanisation: "migrants are vermin", "muslims are nothing but a plague".
  new RegExp(
    String.raw`\b${GROUP} (?:\w+ ){0,4}?(?:are|r|is|be|were|was)\b ${NO_NEGATION}(?:(?:all|just|nothing|but|a|bunch|of|like|literally|simply|filthy|dirty|disgusting|dangerous|worse|than|no|better|basically|such|closer|to|more|an|the|same|as|pack|herd|horde) ){0,5}${DEHUMANIZING}\b`,
  ),
  // "jews control the media, they are vermin"
  new RegExp(
    String.raw`\b${GROUP}\b(?: \w+){0,10}? (?:they are|they r|theyre) ${NO_NEGATION}(?:(?:all|just|nothing|but|a|bunch|of|like|literally|simply|filthy|dirty|disgusting|dangerous|basically|such) ){0,5}${DEHUMANIZING}\b`,
  ),
  new RegExp(
    String.raw`\b${GROUP} (?:\w+ ){0,3}?(?:infest|infests|infesting|infested|swarm|swarming|(?:breed|breeding|multiply|multiplying|spread|spreading) like (?:\w+ )?${DEHUMANIZING})\b`,
  ),
  // Elimination: "gays should be locked up", "jews must be wiped out", "refugees should not exist".
  new RegExp(
    String.raw`\b${GROUP} (?:\w+ ){0,4}?(?:should|must|need to|needs to|ought to|deserve to|have to|has to|gotta|oughta|need) (?:all )?(?:be |get |go )?(?:${ELIMINATED}|die|burn|rot|not (?:exist|live|breed|be allowed|have rights|vote))\b`,
  ),
  new RegExp(
    String.raw`\b(?:kill|exterminate|eradicate|gas|lynch|wipe out|slaughter|massacre|eliminate|purge|hang|shoot|burn) (?:all|every|each|them all|off all)? ?(?:of )?${GROUP}\b`,
  ),
  new RegExp(
    String.raw`\b(?:sterili[sz]e|exterminate|eradicate|gas|wipe) (?:all |every |the )?${GROUP} (?:off (?:the face of )?(?:the )?(?:earth|map|planet)|out)?`,
  ),
  new RegExp(
    String.raw`\b(?:deport|round up|get rid of|kick out|throw out|send back|expel|ban|lock up|sterili[sz]e) (?:all|every|each) (?:of )?${GROUP}\b`,
  ),
  new RegExp(
    String.raw`\b${GROUP} (?:dont|do not|doesnt|does not) deserve (?:to (?:live|exist|breathe|have rights)|rights)\b`,
  ),
  new RegExp(String.raw`\bbetter (?:off )?without (?:any )?${GROUP}\b`),
  new RegExp(
    String.raw`\b${GROUP} (?:\w+ ){0,3}?(?:have|has) no (?:place|right to (?:live|exist)) (?:on|in) (?:this |the )?(?:earth|world|planet|country)\b`,
  ),
  new RegExp(
    String.raw`\b${GROUP} (?:\w+ ){0,2}?(?:just )?(?:stopped|stop|cease|ceased) (?:existing|to exist)\b`,
  ),
  // Sweeping contempt: "women are too stupid to vote", "immigrants are all criminals".
  new RegExp(
    String.raw`\b${GROUP} (?:are|r|were)\b ${NO_NEGATION}(?:(?:all|just|too|so|naturally|inherently|genetically|basically|literally|simply|born|a|bunch|of|always|by|nature) ){0,4}${CONTEMPT}\b`,
  ),
  new RegExp(
    String.raw`\b${GROUP} (?:should|must) not be allowed to (?:vote|work|live|drive|marry|have|adopt|teach|exist|breed|be)\b`,
  ),
];

// --- Personal attacks without a swear word, and urging self-harm --------------------------------

const YOU_ARE = String.raw`(?:\b(?:you|u) (?:are|r)|\b(?:youre|ur))`;
const HARASSMENT_PATTERNS: readonly RegExp[] = [
  // "you are a worthless piece of garbage", "ur such a pathetic waste of space"
  new RegExp(
    String.raw`${YOU_ARE} (?:(?:such|a|an|just|nothing|but|so|the|most|completely|totally|absolutely|utterly|truly|piece|of|waste|worthless|pathetic|ugly|fat|stupid|useless|disgusting) ){0,5}(?:worthless|pathetic|disgusting|useless|subhuman|garbage|filth|scum|vermin|a waste of (?:space|oxygen|air|skin)|waste of (?:space|oxygen|air|skin)|a nobody|a failure|a disgrace|a mistake|unlovable|repulsive)\b`,
  ),
  /\b(?:no one|noone|nobody)(?: will| would| could| ever| will ever| would ever| could ever)? (?:\w+ )?(?:love|loves|miss|misses|care about|cares about|want|wants|like|likes) (?:you|u)\b/,
  /\b(?:world|everyone|everybody|we) (?:would be|is|are|will be|be) better (?:off )?without (?:you|u)\b/,
  /\b(?:you|u) (?:should|deserve to|ought to|need to|better) (?:just )?(?:die|disappear|not exist|stop breathing|end it|end it all|end your life|cut yourself|starve yourself|jump off)\b/,
  /\b(?:do|please do) (?:us|everyone|the world)? ?(?:all )?a favou?r and (?:die|disappear|end it|leave this world|jump)\b/,
  /\b(?:end|take) (?:your|ur) (?:own )?(?:life|miserable life)\b/,
  /\b(?:go|just|you should|u should|why dont you|why dont u|please|pls|better) (?:and )?(?:swallow|take|down) (?:a |the |that |this |your )?(?:whole )?(?:bottle|pack|box|handful) of (?:pills|sleeping pills|tablets)\b/,
  /\bcut (?:deeper|harder|yourself deeper)\b|\b(?:jump|throw yourself) off (?:a |the |that )?(?:bridge|roof|building|cliff|ledge)\b/,
  /\bthe (?:bridge|rope|roof|ledge) is right there\b/,
  new RegExp(
    String.raw`${YOU_ARE} (?:\w+ ){0,2}?too (?:stupid|dumb|ugly|worthless) to (?:live|be alive|exist|be allowed)\b`,
  ),
];

export interface HarmMatches {
  /** A threat of violence against a person or a place, or urging one. */
  readonly threat: boolean;
  /** Dehumanising, eliminationist or sweeping contempt for a protected group. */
  readonly groupHate: boolean;
  /** A personal attack without a swear word, or urging self-harm. */
  readonly harassment: boolean;
}

/**
 * One alternation of `patterns`: it matches a text exactly when one of them does (none has
 * flags or a backreference), and one scan of the text by V8's regex engine costs about half of
 * one scan per pattern (harm checks on a 530-character news item: ~120 µs → ~70 µs).
 */
function anyOf(patterns: readonly RegExp[]): RegExp {
  const flagged = patterns.find((p) => p.flags !== "");
  if (flagged) throw new Error(`harm pattern with flags cannot be joined: ${flagged.source}`);
  return new RegExp(patterns.map((p) => `(?:${p.source})`).join("|"));
}
const ANY_THREAT = anyOf(THREAT_PATTERNS);
const ANY_GROUP_HATE = anyOf(GROUP_HATE_PATTERNS);
const ANY_HARASSMENT = anyOf(HARASSMENT_PATTERNS);

/**
 * Which kinds of harm `joinedTokens` (featureTokens(text).join(" ")) shows. `tokens` are those
 * tokens unjoined, when the caller has them (the tokens hold no space, so it is the same list).
 */
export function harmMatches(
  joinedTokens: string,
  tokens: readonly string[] = joinedTokens.split(" "),
): HarmMatches {
  const namesGroup = tokens.some((token) => GROUP_WORDS.has(token));
  return {
    threat: ANY_THREAT.test(joinedTokens),
    groupHate:
      (namesGroup && ANY_GROUP_HATE.test(joinedTokens)) || FINAL_SOLUTION.test(joinedTokens),
    harassment: ANY_HARASSMENT.test(joinedTokens),
  };
}
