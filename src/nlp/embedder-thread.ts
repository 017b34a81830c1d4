import { parentPort } from "node:worker_threads";

import { createOfflineEmbedder } from "./embedder.js";

/**
 * The offline model in its own thread (see threaded-embedder.ts): loads once, then answers
 * `{ id, texts }` with `{ id, vectors }` or `{ id, error }`.
 */
type Request = { id: number; texts: string[] } | { close: true };

const port = parentPort;
if (!port) throw new Error("embedder-thread runs as a worker thread");
const embedder = await createOfflineEmbedder();
port.on("message", (message: Request) => {
  if ("close" in message) {
    void embedder.close().then(() => port.close());
    return;
  }
  embedder.embed(message.texts).then(
    (vectors) => port.postMessage({ id: message.id, vectors }),
    (error: unknown) => {
      const e = error as { message?: string; code?: string; retryable?: boolean };
      port.postMessage({
        id: message.id,
        error: {
          message: e.message ?? String(error),
          code: e.code,
          retryable: e.retryable ?? true,
        },
      });
    },
  );
});
port.postMessage({ ready: true, model: embedder.model, dimension: embedder.dimension });
