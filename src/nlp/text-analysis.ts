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
  const values = doc.tokens().out(its.value) as string[];
  const normals = doc.tokens().out(its.normal) as string[];
  const types = doc.tokens().out(its.type) as string[];
  const pos = doc.tokens().out(its.pos) as string[];
  const stop = doc.tokens().out(its.stopWordFlag) as boolean[];
  const wordCount = types.filter((t) => t === "word").length;

  // Noun-phrase chunks.
  const phrases = new Map<
    string,
    { text: string; count: number; first: number; proper: boolean }
  >();
  let start = -1;
  const flush = (end: number): void => {
    // Trim leading adjectives/stop words until the phrase starts at a content word.
    while (start >= 0 && start < end && (stop[start] || (pos[start] === "ADJ" && end - start > 2)))
      start++;
    // A phrase must end in a noun.
    let last = end - 1;
    while (last >= start && pos[last] !== "NOUN" && pos[last] !== "PROPN") last--;
    if (start >= 0 && last >= start && last - start < 4) {
      const words = values.slice(start, last + 1);
      const key = normals.slice(start, last + 1).join(" ");
      if (key.length > 2 && !stop.slice(start, last + 1).every(Boolean)) {
        const entry = phrases.get(key) ?? {
          text: words.join(" "),
          count: 0,
          first: start,
          proper: false,
        };
        entry.count++;
        entry.proper ||= pos.slice(start, last + 1).includes("PROPN");
        phrases.set(key, entry);
      }
    }
    start = -1;
  };
  for (let i = 0; i < pos.length; i++) {
    const inPhrase =
      types[i] === "word" && (pos[i] === "NOUN" || pos[i] === "PROPN" || pos[i] === "ADJ");
    if (inPhrase && start < 0) start = i;
    else if (!inPhrase && start >= 0) flush(i);
  }
  if (start >= 0) flush(pos.length);
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
    const words = s.toLowerCase().split(/\W+/).filter(Boolean);
    const hits = words.filter((w) => keywords.has(w)).length;
    return { s, i, score: 1 / (1 + i) + hits / Math.max(4, words.length) };
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

function cutWithEllipsis(text: string): string {
  return `${cutAtWordBoundary(text, SUMMARY_MAX_CHARS - 1).replace(/[\s,;:.–—-]+$/u, "")}…`;
}
