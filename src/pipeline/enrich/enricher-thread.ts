import {
  createOfflineEnricher,
  type Enricher,
  type Enrichment,
  type EnrichmentInput,
} from "../../nlp/enricher.js";

/** One batch of inputs for a pool thread; maxChars picks the enricher (one per value, kept). */
export interface EnrichTask {
  maxChars: number;
  inputs: EnrichmentInput[];
}

/** One item's result: the enrichment and how long the models took, or why they failed. */
export type EnrichOutcome = { enrichment: Enrichment; elapsedMs: number } | { error: string };

// Per thread: the models load on the first task and are reused by every later one.
const enrichers = new Map<number, Promise<Enricher>>();

function enricherFor(maxChars: number): Promise<Enricher> {
  let enricher = enrichers.get(maxChars);
  if (!enricher) {
    enricher = createOfflineEnricher({ maxChars });
    enrichers.set(maxChars, enricher);
  }
  return enricher;
}

/** The pool's task: enrich each input; a failing item reports its error and the others go on. */
export async function enrichTask(
  task: EnrichTask,
): Promise<{ model: string; outcomes: EnrichOutcome[] }> {
  const enricher = await enricherFor(task.maxChars);
  const outcomes: EnrichOutcome[] = [];
  for (const input of task.inputs) {
    const started = performance.now();
    try {
      const enrichment = await enricher.enrich(input);
      outcomes.push({ enrichment, elapsedMs: performance.now() - started });
    } catch (error) {
      outcomes.push({ error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { model: enricher.model, outcomes };
}
