import type { Db } from "../../db/database.js";
import { countRecordsByModel } from "./reembed-queries.js";

/**
 * How far the move to the configured embedding model has come after EMBEDDER changed: one
 * reading serves /metrics (registerReembedMetrics) and the `embeddingProgress` query, so the
 * console and Prometheus never disagree on what "pending" means.
 */
export interface ReembedProgress {
  /** The model this deployment embeds with (the one records move to). */
  model: string;
  /** Records per model that made their vector, by model name. */
  records: { model: string; records: number }[];
  total: number;
  /** Records whose vector another model made, waiting for the re-embedding job. */
  pending: number;
  /** Share of the records already made by `model`, 0 to 1; 1 when there is no record. */
  done: number;
}

export function reembedProgress(
  counts: readonly { model: string; n: number }[],
  model: string,
): ReembedProgress {
  const records = counts
    .map((c) => ({ model: c.model, records: c.n }))
    .sort((a, b) => a.model.localeCompare(b.model));
  const total = records.reduce((sum, r) => sum + r.records, 0);
  const pending = records.filter((r) => r.model !== model).reduce((sum, r) => sum + r.records, 0);
  return { model, records, total, pending, done: total === 0 ? 1 : (total - pending) / total };
}

export async function readReembedProgress(db: Db, model: string): Promise<ReembedProgress> {
  return reembedProgress(await countRecordsByModel(db), model);
}
