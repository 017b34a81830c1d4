import {
  type EmbeddingFigures,
  embeddingProgressText,
  waitingModels,
} from "./embedding-progress.js";

/** Re-embedding progress on the pipeline health view: a line, and a bar while records wait. */
export function EmbeddingProgressLine({ progress }: { progress: EmbeddingFigures }) {
  const { model, total, pending } = progress;
  const text = embeddingProgressText(progress);
  if (pending === 0) {
    return (
      <p class="muted" data-testid="embedding-progress">
        {text}
      </p>
    );
  }
  return (
    <p data-testid="embedding-progress">
      {text}{" "}
      <progress
        class="embedding-bar"
        max={total}
        value={total - pending}
        aria-label={`Re-embedding with ${model}`}
      />{" "}
      <span class="muted">still by {waitingModels(progress)}</span>
    </p>
  );
}
