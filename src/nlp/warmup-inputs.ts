/**
 * Texts to run through the models once at start-up, so the first real traffic meets optimised
 * code. V8 compiles a function to fast machine code only after it has run many times; until
 * then the enrichment models run several times slower, and on 2 cores the ETL stage's threads
 * then starve the main thread, so the first seconds of load after a restart saw end-to-end
 * latencies of several seconds (bench/pipeline/cold-start.ts; ENRICH_WARMUP_TEXTS).
 *
 * The texts are the project's written-harm set (src/nlp/data, shipped): short posts, clean and
 * toxic, so both the publish and the harm paths of the models run. Consecutive rows are joined
 * into one to four sentence inputs, so the multi-sentence paths (summary, keywords) run too.
 * No result is kept: the enricher has no cache, so this changes speed, never an outcome.
 */
import type { EnrichmentInput } from "./enricher.js";
import { readJsonl } from "./jsonl.js";

let rows: string[] | undefined;

function writtenHarmTexts(): string[] {
  rows ??= readJsonl<{ text: string }>(new URL("./data/written-harm.jsonl", import.meta.url)).map(
    (row) => row.text,
  );
  return rows;
}

/** `count` deterministic inputs (0 gives none). */
export function warmupInputs(count: number): EnrichmentInput[] {
  if (count <= 0) return [];
  const texts = writtenHarmTexts();
  return Array.from({ length: count }, (_, i) => {
    const sentences = 1 + (i % 4);
    const body = Array.from({ length: sentences }, (_, k) => texts[(i + k) % texts.length]!).join(
      " ",
    );
    return { source: "warmup", title: null, body, url: null };
  });
}
