import model from "wink-eng-lite-web-model";
import winkNLP from "wink-nlp";

import { cutAtWordBoundary } from "./normalize.js";

/**
 * One wink-nlp pass over the text: tokens, POS tags and sentences come from it. Only sentence
 * boundaries and POS tagging run: wink's default pipe also runs NER, negation, sentiment and
 * custom entities, none of which this module reads (POS tagging does not use them); they were
 * a third of the pass (~0.16 ms of ~0.47 ms on a news item).
 */
const nlp = winkNLP(model, ["sbd", "pos"]);
const its = nlp.its;

export const SUMMARY_MAX_CHARS = 280;
const MAX_KEYWORDS = 8;

export interface TextAnalysis {
  readonly keywords: string[];
  readonly summary: string;
  readonly wordCount: number;
  readonly tokenCount: number;
  readonly sentenceCount: number;
}

/**
 * Keywords and an extractive summary from one wink-nlp document. (Sentiment is the SST-2 model
 * in sentiment.ts: wink's lexicon score was right on 0.71 of SST-2 validation rows against 0.91.)
 *
 * Keywords are noun phrases (ADJ/NOUN/PROPN runs ending in a noun) ranked by frequency, with a
 * bonus for proper nouns and for appearing early. compromise's `nouns()` gives similar phrases
 * but measured 2.5–3.5 ms for a 45-word item against ~0.1 ms for this whole pass, which alone
 * would cap the ETL stage near 300 items/s.
 *
 * `titleChars` is the length of a title prefixed to `text`; the summary is taken from the body
 * after it so it does not just repeat the headline (unless there is no body).
 */
export function analyzeText(text: string, titleChars = 0): TextAnalysis {
  const doc = nlp.readDoc(text);
  const tokens = doc.tokens();
  const words: WinkTokens = {
    values: tokens.out(its.value) as string[],
    normals: tokens.out(its.normal) as string[],
    types: tokens.out(its.type) as string[],
    pos: tokens.out(its.pos) as string[],
    stop: tokens.out(its.stopWordFlag) as boolean[],
  };
  const { values, types, pos } = words;
  let wordCount = 0;
  for (const type of types) if (type === "word") wordCount++;

  // Noun-phrase chunks: runs of ADJ/NOUN/PROPN words.
  const phrases = new Map<string, Phrase>();
  let start = -1;
  for (let i = 0; i < pos.length; i++) {
    const inPhrase =
      types[i] === "word" && (pos[i] === "NOUN" || pos[i] === "PROPN" || pos[i] === "ADJ");
    if (inPhrase && start < 0) start = i;
    else if (!inPhrase && start >= 0) {
      countPhrase(words, start, i, phrases);
      start = -1;
    }
  }
  if (start >= 0) countPhrase(words, start, pos.length, phrases);
  const n = Math.max(1, pos.length);
  const ranked = [...phrases.entries()]
    .map(([key, p]) => ({
      key,
      text: p.text,
      score: p.count * (p.proper ? 1.5 : 1) * (1 + 0.5 * (1 - p.first / n)),
    }))
    .sort((a, b) => b.score - a.score || a.key.localeCompare(b.key));
  const keywords: string[] = [];
  const seenKeys: string[] = [];
  for (const r of ranked) {
    // Skip a phrase already covered by a better-ranked one ("budget" under "new budget").
    if (seenKeys.some((k) => k.includes(r.key) || r.key.includes(k))) continue;
    seenKeys.push(r.key);
    keywords.push(r.text);
    if (keywords.length >= MAX_KEYWORDS) break;
  }

  const sentences = doc.sentences().out() as string[];
  const keywordSet = new Set(seenKeys.flatMap((k) => k.split(" ")));
  return {
    keywords,
    summary: summarize(sentences, titleChars, keywordSet),
    wordCount,
    tokenCount: values.length,
    sentenceCount: sentences.length,
  };
}

/** wink-nlp's per-token outputs, read once per document. */
interface WinkTokens {
  readonly values: readonly string[];
  readonly normals: readonly string[];
  readonly types: readonly string[];
  readonly pos: readonly string[];
  readonly stop: readonly boolean[];
}

interface Phrase {
  text: string;
  count: number;
  first: number;
  proper: boolean;
}

/**
 * Counts the noun phrase in the chunk tokens[start, end), if it holds one, into `phrases`
 * (keyed by the words' normal forms). Indexed loops and string concatenation where slices and
 * joins allocated per chunk: this function and summarize were a quarter of analyzeText's own time.
 */
function countPhrase(
  tokens: WinkTokens,
  chunkStart: number,
  end: number,
  phrases: Map<string, Phrase>,
): void {
  const { values, normals, pos, stop } = tokens;
  let start = chunkStart;
  // Trim leading adjectives/stop words until the phrase starts at a content word.
  while (start < end && (stop[start] || (pos[start] === "ADJ" && end - start > 2))) start++;
  // A phrase must end in a noun.
  let last = end - 1;
  while (last >= start && pos[last] !== "NOUN" && pos[last] !== "PROPN") last--;
  if (last < start || last - start >= 4) return;
  // `?? ""` as join() reads a missing element.
  let key = normals[start] ?? "";
  let allStop = stop[start] === true;
  let proper = pos[start] === "PROPN";
  for (let k = start + 1; k <= last; k++) {
    key += ` ${normals[k] ?? ""}`;
    allStop &&= stop[k] === true;
    proper ||= pos[k] === "PROPN";
  }
  if (key.length <= 2 || allStop) return;
  let entry = phrases.get(key);
  if (entry === undefined) {
    let phraseText = values[start] ?? "";
    for (let k = start + 1; k <= last; k++) phraseText += ` ${values[k] ?? ""}`;
    entry = { text: phraseText, count: 0, first: start, proper: false };
    phrases.set(key, entry);
  }
  entry.count++;
  entry.proper ||= proper;
}

/**
 * Extractive summary: body sentences scored by position (news leads first) and by how many
 * top keywords they contain, then the best ones that fit in 280 characters, in text order.
 */
function summarize(
  sentences: readonly string[],
  titleChars: number,
  keywords: ReadonlySet<string>,
): string {
  let consumed = 0;
  let skip = 0;
  while (titleChars > 0 && skip < sentences.length && consumed < titleChars) {
    consumed += (sentences[skip]?.length ?? 0) + 1;
    skip++;
  }
  const body = sentences
    .slice(skip < sentences.length ? skip : 0)
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (body.length === 0) return "";
  const first = body[0] ?? "";
  if (first.length >= SUMMARY_MAX_CHARS) return cutWithEllipsis(first);
  const scored = body.map((s, i) => {
    const { words, hits } = keywordHits(s.toLowerCase(), keywords);
    return { s, i, score: 1 / (1 + i) + hits / Math.max(4, words) };
  });
  const chosen: typeof scored = [];
  let length = 0;
  for (const c of [...scored].sort((a, b) => b.score - a.score || a.i - b.i)) {
    const extra = c.s.length + (chosen.length > 0 ? 1 : 0);
    if (length + extra > SUMMARY_MAX_CHARS) continue;
    chosen.push(c);
    length += extra;
    if (chosen.length >= 3) break;
  }
  return chosen
    .sort((a, b) => a.i - b.i)
    .map((c) => c.s)
    .join(" ");
}

/**
 * The words of `lower` (its maximal runs of \w characters, what split(/\W+/) without the empty
 * strings gives) and how many of them are keywords, without building the word array.
 */
function keywordHits(
  lower: string,
  keywords: ReadonlySet<string>,
): { words: number; hits: number } {
  let words = 0;
  let hits = 0;
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const word = i < lower.length && isWordChar(lower.charCodeAt(i));
    if (word && start < 0) start = i;
    else if (!word && start >= 0) {
      words++;
      if (keywords.has(lower.slice(start, i))) hits++;
      start = -1;
    }
  }
  return { words, hits };
}

/** RegExp's \w: ASCII letters, digits and "_". */
function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

function cutWithEllipsis(text: string): string {
  return `${cutAtWordBoundary(text, SUMMARY_MAX_CHARS - 1).replace(/[\s,;:.–—-]+$/u, "")}…`;
}
