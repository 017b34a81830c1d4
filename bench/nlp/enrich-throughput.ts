/**
 * Items per second through the offline enricher (one core, one process).
 *
 *   npx tsx bench/nlp/enrich-throughput.ts [--items 2000]
 *
 * Inputs are the project's hand-written news sentences, as short posts (~15 words) and as
 * article-sized items (~150 words, several sentences joined, with a title and HTML markup).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { createOfflineEnricher } from "../../src/nlp/enricher.js";

const { values: args } = parseArgs({ options: { items: { type: "string" } } });
const count = Number(args.items ?? 2000);

const sentences = ["topics.jsonl", "similarity-pairs.jsonl"].flatMap((file) =>
  readFileSync(new URL(`../../src/nlp/data/${file}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => (JSON.parse(l) as { text: string }).text),
);
const pick = (i: number): string => sentences[i % sentences.length] ?? "";
const short = Array.from({ length: count }, (_, i) => ({
  source: "bench",
  body: `${pick(i)} #${i}`,
}));
const articles = Array.from({ length: count }, (_, i) => ({
  source: "bench",
  title: pick(i * 7 + 3).slice(0, 60),
  body:
    Array.from({ length: 10 }, (_, k) => `<p>${pick(i * 11 + k * 37)}</p>`).join("\n") + ` #${i}`,
}));

const loadStarted = performance.now();
const enricher = await createOfflineEnricher();
console.log(`enricher ${enricher.model}`);
console.log(`loaded in ${(performance.now() - loadStarted).toFixed(0)} ms`);

for (const [name, inputs] of [
  ["short posts", short],
  ["articles", articles],
] as const) {
  for (const input of inputs.slice(0, 50)) await enricher.enrich(input);
  let units = 0;
  let words = 0;
  const started = performance.now();
  // CPU time of this process as well as wall time: on a shared, busy machine wall-clock
  // items/s mostly measures the neighbours, CPU µs per item much less so.
  const cpuStarted = process.cpuUsage();
  for (const input of inputs) {
    const e = await enricher.enrich(input);
    units += e.cost.units;
    words += Number(e.signals["text.words"]);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const cpuMicrosPerItem = (cpu.user + cpu.system) / inputs.length;
  console.log(
    `${name}: ${(inputs.length / seconds).toFixed(0)} items/s (${(words / inputs.length).toFixed(0)} words/item, ` +
      `${((seconds * 1e6) / units).toFixed(0)} µs per compute unit, ${cpuMicrosPerItem.toFixed(0)} CPU µs per item, ${inputs.length} items)`,
  );
}
await enricher.close?.();
