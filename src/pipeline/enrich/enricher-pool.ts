import { Piscina } from "piscina";

import type { Enricher, Enrichment, EnrichmentInput } from "../../nlp/enricher.js";
import { warmupInputs } from "../../nlp/warmup-inputs.js";
import type { EnrichOutcome, EnrichTask } from "./enricher-thread.js";

export type { EnrichOutcome } from "./enricher-thread.js";

/** An enricher that takes a whole batch at once (the ETL stage's batch path uses it). */
export interface BatchEnricher extends Enricher {
  /** One outcome per input, in order; a failing item does not fail the others. */
  enrichMany(inputs: readonly EnrichmentInput[]): Promise<EnrichOutcome[]>;
}

export function isBatchEnricher(enricher: Enricher): enricher is BatchEnricher {
  return typeof (enricher as Partial<BatchEnricher>).enrichMany === "function";
}

/** The pool's threads failed or were closed: the item is retried, not dead-lettered. */
export class EnricherPoolError extends Error {
  readonly code = "ENRICHER_POOL_FAILED";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EnricherPoolError";
  }
}

// Fewer items than this per task and the message passing costs more than the split saves.
const MIN_ITEMS_PER_TASK = 8;

/**
 * The offline enricher in a pool of worker threads (piscina), so the models use every core
 * while the main thread does the I/O of every stage. Each thread loads the models once, on its
 * first task. A batch is split into one task per thread; the results are the same as the
 * in-process enricher's (the models are deterministic).
 */
export async function createPooledEnricher(options: {
  threads: number;
  maxChars: number;
  /** Inputs each thread enriches before the pool is returned (nlp/warmup-inputs.ts); default 0. */
  warmupTexts?: number;
}): Promise<BatchEnricher> {
  const threads = Math.max(1, Math.floor(options.threads));
  const pool = new Piscina<EnrichTask, { model: string; outcomes: EnrichOutcome[] }>({
    filename: new URL("./enricher-thread-entry.mjs", import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    // Threads stay up: a model load per thread costs far more than an idle thread.
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  let closed = false;
  const run = async (inputs: EnrichmentInput[]) => {
    if (closed) throw new EnricherPoolError("enricher pool is closed");
    try {
      return await pool.run({ maxChars: options.maxChars, inputs });
    } catch (error) {
      throw new EnricherPoolError(
        `enricher thread failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  };
  // Load the models in every thread now, not on the first batch, learn the model name, and run
  // the warm-up inputs so the first real batches meet optimised code (warmup-inputs.ts).
  const warmup = warmupInputs(options.warmupTexts ?? 0);
  const warm = await Promise.all(Array.from({ length: threads }, () => run(warmup)));
  const model = warm[0]!.model;

  const enrichMany = async (inputs: readonly EnrichmentInput[]): Promise<EnrichOutcome[]> => {
    if (inputs.length === 0) return [];
    const tasks = Math.max(1, Math.min(threads, Math.floor(inputs.length / MIN_ITEMS_PER_TASK)));
    const size = Math.ceil(inputs.length / tasks);
    const parts = await Promise.all(
      Array.from({ length: tasks }, (_, i) => run(inputs.slice(i * size, (i + 1) * size))),
    );
    return parts.flatMap((p) => p.outcomes);
  };

  return {
    model,
    enrichMany,
    async enrich(input: EnrichmentInput): Promise<Enrichment> {
      const [outcome] = await enrichMany([input]);
      if (!outcome || "error" in outcome)
        throw new Error(outcome?.error ?? "no enrichment returned");
      return outcome.enrichment;
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.destroy();
    },
  };
}
