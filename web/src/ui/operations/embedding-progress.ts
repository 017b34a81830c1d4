/** What the console says about re-embedding after an EMBEDDER change (issue 15, item 1). */
export interface EmbeddingFigures {
  model: string;
  total: number;
  pending: number;
  records: readonly { model: string; records: number }[];
}

/** One line; plain when nothing waits, so a settled deployment's health view stays quiet. */
export function embeddingProgressText(p: EmbeddingFigures): string {
  if (p.total === 0) return `Embeddings: no vectors yet, model ${p.model}`;
  if (p.pending === 0) return `Embeddings: all ${p.total} vectors by model ${p.model}`;
  return `Embeddings: model ${p.model} — ${p.total - p.pending} of ${p.total} re-embedded (${p.pending} pending)`;
}

/** The models whose vectors still wait, with their counts: "use-lite (3), openai (1)". */
export function waitingModels(p: EmbeddingFigures): string {
  return p.records
    .filter((r) => r.model !== p.model && r.records > 0)
    .map((r) => `${r.model} (${r.records})`)
    .join(", ");
}
