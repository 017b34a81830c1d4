/**
 * A deterministic corpus of varied inputs for the enricher golden test: the project's own
 * hand-written news sentences (src/nlp/data) dressed up as tweets and articles with the things
 * the tokenisers treat specially (leetspeak, repeated letters, URLs, @mentions, #hashtags,
 * entities, apostrophes, negation, threats, non-Latin scripts, emoji, markup).
 */
import { readFileSync } from "node:fs";

import type { EnrichmentInput } from "../../../src/nlp/enricher.js";

const SENTENCES = ["topics.jsonl", "similarity-pairs.jsonl"].flatMap((file) =>
  readFileSync(new URL(`../../../src/nlp/data/${file}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => {
      const row = JSON.parse(l) as { text?: string; a?: string; b?: string };
      return [row.text, row.a, row.b].filter((t): t is string => typeof t === "string");
    }),
);

// Written for this corpus: each exercises one special case of featureTokens/sentimentTokens.
const DECORATIONS = [
  "lol this is sooooo good!!!",
  "sooo baaad, yesss, Mmm, cooool 2good4u",
  "@someone_42 you are a b1tch and a$$hole, fuuuuck off",
  "check https://example.com/a?b=c and www.example.org/x now",
  "#Breaking #covid19 news &amp; more &lt;b&gt;",
  "I don't think it's great, can't say it isn't bad",
  "it was not good at all, but the ending was fine",
  "i'll kill you, watch your back",
  "kys nobody likes u",
  "you're gonna die lmao 💀🔥",
  "we will beat them on sunday 3-1",
  "Привет, как дела? Всё хорошо!",
  "Ελληνικά κείμενα ΟΔΟΣ με σίγμα",
  "İstanbul'da büyük bir ŞEHİR, straße STRASSE",
  "日本語のテキストと123数字",
  "It’s ‘quoted’ and `ticked` — won’t stop",
  "n1gg@ h0e *stupid* !idiot! 'trash'",
  "a**hole sh!t f*ck d4mn 5h1t",
  "co-operate e-mail state-of-the-art x2 3d 4k 1080p",
  "never ever, hardly anyone, nothing happened; no way -- but ok",
  "NO!!! WHY??? aaaaargh zzzz 1111 !!!!",
  "<p>Markup <b>bold</b> and [a link](http://x.y/z) **strong**</p>",
  "ｆｕｌｌｗｉｄｔｈ ＴＥＸＴ and ﬁ ligature",
  "don't won't shan't ain't y'all ya'll",
  "email me at foo@bar.com or @ me",
  "",
];

function mix(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function enrichCorpus(): EnrichmentInput[] {
  const rand = mix(11);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const out: EnrichmentInput[] = [];
  for (const decoration of DECORATIONS) out.push({ source: "golden", body: decoration });
  for (let i = 0; i < 180; i++) {
    const sentence = pick(SENTENCES);
    const deco = pick(DECORATIONS);
    const shape = i % 4;
    if (shape === 0) out.push({ source: "golden", body: sentence });
    else if (shape === 1)
      out.push({ source: "golden", body: `${deco} ${sentence} ${pick(DECORATIONS)}` });
    else if (shape === 2) out.push({ source: "golden", body: sentence.toUpperCase() + ` #${i}` });
    else
      out.push({
        source: "golden",
        title: pick(SENTENCES).slice(0, 60),
        body: `${sentence} ${deco}`,
      });
  }
  for (let i = 0; i < 70; i++) {
    const paragraphs = Array.from({ length: 3 + (i % 8) }, () =>
      rand() < 0.3 ? `<p>${pick(SENTENCES)} ${pick(DECORATIONS)}</p>` : `<p>${pick(SENTENCES)}</p>`,
    );
    out.push({
      source: "golden",
      title: i % 3 === 0 ? null : pick(SENTENCES).slice(0, 80),
      body: paragraphs.join("\n"),
    });
  }
  return out;
}
