/**
 * Text → the token string the sentiment model is trained and run on. SST-2 (the training set)
 * is lowercased and tokenised as in the Penn Treebank ("it 's", "do n't", "ca n't"); runtime
 * text is not. Both are mapped to one form: "n't" becomes a separate "not" ("can't" and
 * "ca n't" → "ca not"), and apostrophes split words ("it's" and "it 's" → "it s").
 *
 * Negation scope: after a negator, words are prefixed "neg_" up to the next clause punctuation
 * (Das & Chen 2001; Pang et al. 2002), so "not good" and "good" are different features.
 */
const NEGATORS = new Set([
  "not",
  "no",
  "never",
  "nothing",
  "nobody",
  "none",
  "neither",
  "nor",
  "hardly",
  "without",
  "cannot",
]);
const CLAUSE_END = /^[.,;:!?()]+$|^--$|^but$/;
/** A negation scope longer than this is cut: it rarely reaches further in practice. */
const MAX_SCOPE = 4;

export function sentimentTokens(text: string): string {
  return sentimentTokenList(text).join(" ");
}

/**
 * sentimentTokens(text) before the join: words of letters and digits, some prefixed "neg_"
 * (so featureWords turns them into the featureTokens of the joined string).
 */
export function sentimentTokenList(text: string): string[] {
  const spaced = text
    .toLowerCase()
    .replace(/https?:\/\/\S+|www\.\S+/g, " ")
    .replace(/[’‘`]/g, "'")
    .replace(/n't\b/g, " not")
    .replace(/'/g, " ");
  const raw = spaced.match(/[\p{L}\p{N}]+|[.,;:!?()]+|--/gu) ?? [];
  const out: string[] = [];
  let scope = 0;
  for (const token of raw) {
    if (CLAUSE_END.test(token)) {
      scope = 0;
      if (token === "but") out.push(token);
      continue;
    }
    if (scope > 0) {
      out.push(`neg_${token}`);
      scope--;
    } else out.push(token);
    if (NEGATORS.has(token)) scope = MAX_SCOPE;
  }
  return out;
}
