import { readFileSync } from "node:fs";

import type { TrendInputData } from "../../src/pipeline/ingest/ingest-service.js";

/**
 * News-like items for benchmarks, built from the project's hand-written news sentences
 * (src/nlp/data), so the enricher sees the kind of text it was made for. Bodies vary from one
 * sentence (a wire flash) to about twenty (a short article with paragraphs), because the ETL's
 * cost grows with length and a fixed length would flatter or punish it.
 */
const sentences = ["topics.jsonl", "similarity-pairs.jsonl"].flatMap((file) =>
  readFileSync(new URL(`../../src/nlp/data/${file}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => {
      const row = JSON.parse(l) as { text?: string; a?: string; b?: string };
      return [row.text, row.a, row.b].filter((t): t is string => typeof t === "string");
    }),
);

/** Sentence counts: mostly short items, a long tail of article-sized ones. */
const LENGTHS = [1, 2, 3, 3, 4, 5, 6, 8, 10, 14, 20];

export function newsItem(i: number, random: () => number, runId: string): TrendInputData {
  const pick = () => sentences[Math.floor(random() * sentences.length)]!;
  const n = LENGTHS[Math.floor(random() * LENGTHS.length)]!;
  const paragraphs: string[] = [];
  for (let s = 0; s < n;) {
    const take = Math.min(n - s, 1 + Math.floor(random() * 3));
    paragraphs.push(Array.from({ length: take }, pick).join(" "));
    s += take;
  }
  const title = pick()
    .replace(/[.!?]$/, "")
    .slice(0, 90);
  return {
    source: "newswire",
    externalId: `${runId}-${i}`,
    title,
    body: paragraphs.join("\n\n"),
    url: `https://news.example.com/${runId}/${i}`,
    author: "Bench Desk",
    publishedAt: new Date().toISOString(),
  };
}

export function corpusSize(): number {
  return sentences.length;
}
