/**
 * Ethnic, racial and religious slurs that obscenity's English list (the toxicity model's lexicon)
 * does not hold, and that have next to no innocent use in English text. A text holding one is
 * never published unseen: like a harm pattern, it lifts the toxicity to HARM_FLOOR, so a human
 * decides (toxicity.ts). It rejects nothing.
 *
 * Why a list on top of the models: Davidson's tweets were collected by searching such words,
 * and its annotators split on many of them ("dumb beaner" and "no aloha for muzzie pigs" are
 * labelled clean), so the classifiers learnt them only weakly; a tweet like "waiting on this
 * wetback …" scored 0.23 and was published. A slur that reaches the public unseen is the
 * worst leak there is, and a moderator looking at the few clean uses costs little.
 *
 * A word joins only when its other senses are rare: "cracker", "coon", "redskins" (a team
 * until 2020), "chinaman" (a cricket delivery), "wop" (a rapper), "jap", "nip", "spook",
 * "squaw" (place names), "yid" (football chants) and "zipper head" (part of a zip) stay out.
 * The exceptions below keep the idioms that contain one ("spick and span", "gobbledy gook").
 * Measured by bench/judge/slur-matches.ts: 0 of 82,512 clean texts (SST-2, STS-B, AG News,
 * news) match.
 */

/** Entries as featureTokens() writes them (lower case, no apostrophes), with a little RegExp. */
export const SLURS: readonly string[] = [
  "beaners?",
  "camel jockeys?",
  "curry munchers?",
  "dagos?",
  "dark(?:ie|y)s?",
  "dune coons?",
  "golliwogs?",
  "gooks?",
  "hymies?",
  "injuns?",
  "jigg?a ?boos?",
  "jungle bunn(?:y|ies)",
  "moon crickets?",
  "mudslimes?",
  "muzzies?",
  "nig ?nogs?",
  "oven dodgers?",
  "pickaninn(?:y|ies)",
  "polacks?",
  "porch monkeys?",
  "rag ?heads?",
  "sand niggers?",
  "shitskins?",
  "slant ?eyes?",
  "spear ?chuckers?",
  "spicks?",
  "spics?",
  "towel ?heads?",
  "wetbacks?",
  "wiggers?",
  "zipperheads?",
];

// "spick and span" (clean and tidy) and "gobbledy gook" (nonsense) are idioms, not slurs.
const SLUR = new RegExp(String.raw`(?<!\bgobbledy )\b(?:${SLURS.join("|")})\b(?! and span\b)`);

/** Whether `joinedTokens` (featureTokens(text).join(" ")) holds a slur of {@link SLURS}. */
export function containsSlur(joinedTokens: string): boolean {
  return SLUR.test(joinedTokens);
}
