import { Worker } from "node:worker_threads";

import type { Embedder } from "./embedder.js";
import { EmbedderError } from "./embedder-error.js";

type Reply =
  | { ready: true; model: string; dimension: number }
  | { id: number; vectors: number[][] }
  | { id: number; error: { message: string; code?: string; retryable: boolean } };

/**
 * The offline embedder in a worker thread. The model's WASM backend is single-threaded and
 * synchronous for the length of a batch; on the main thread it would stall the event loop that
 * also runs the gateway, the ETL stage and every stream consumer. In its own thread the model
 * uses the second core while the main thread goes on.
 */
export async function createThreadedEmbedder(): Promise<Embedder> {
  const worker = new Worker(new URL("./embedder-thread-entry.mjs", import.meta.url));
  const pending = new Map<
    number,
    { resolve: (v: number[][]) => void; reject: (e: unknown) => void }
  >();
  let nextId = 0;
  let closed = false;
  let failure: Error | undefined;

  const ready = await new Promise<{ model: string; dimension: number }>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (reply: Reply) => {
      worker.off("error", reject);
      if ("ready" in reply) resolve(reply);
      else reject(new Error("embedder thread answered before it was ready"));
    });
  });

  const failAll = (error: Error) => {
    failure = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.on("message", (reply: Reply) => {
    if ("ready" in reply) return;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if ("vectors" in reply) waiter.resolve(reply.vectors);
    else
      waiter.reject(
        new EmbedderError(
          (reply.error.code as never) ?? "EMBEDDER_BAD_RESPONSE",
          reply.error.message,
          { retryable: reply.error.retryable },
        ),
      );
  });
  worker.on("error", (error) =>
    failAll(
      new EmbedderError("EMBEDDER_BAD_RESPONSE", `embedder thread failed: ${error.message}`, {
        retryable: true,
      }),
    ),
  );
  worker.on("exit", (code) => {
    if (!closed)
      failAll(
        new EmbedderError("EMBEDDER_BAD_RESPONSE", `embedder thread exited with code ${code}`, {
          retryable: true,
        }),
      );
  });
  // The thread must not keep the process alive on its own.
  worker.unref();

  return {
    model: ready.model,
    dimension: ready.dimension,
    embed(texts) {
      if (closed)
        return Promise.reject(
          new EmbedderError("EMBEDDER_CLOSED", "embedder is closed", { retryable: false }),
        );
      if (failure) return Promise.reject(failure);
      if (texts.length === 0) return Promise.resolve([]);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, texts });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await worker.terminate();
      failAll(new EmbedderError("EMBEDDER_CLOSED", "embedder is closed", { retryable: false }));
    },
  };
}
