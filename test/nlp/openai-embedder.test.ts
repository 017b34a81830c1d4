import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createOpenAiEmbedder, EmbedderError, embeddingsUrl } from "../../src/nlp/embedder.js";

/**
 * A local stand-in for an external OpenAI-compatible embeddings API, speaking the real
 * /v1/embeddings format over real HTTP. Each test sets how it answers.
 */
type Handler = (
  body: { model: string; input: string[] },
  req: IncomingMessage,
  res: ServerResponse,
) => void;
let handler: Handler;
const requests: {
  url: string;
  auth: string | undefined;
  body: { model: string; input: string[] };
}[] = [];
let server: Server;
let baseUrl: string;
const openSockets = new Set<import("node:net").Socket>();

const vectorFor = (text: string): number[] => [text.length, 1, 0];
const ok: Handler = (body, _req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  // Out of order on purpose: clients must sort by index.
  const data = body.input
    .map((text, index) => ({ object: "embedding", index, embedding: vectorFor(text) }))
    .reverse();
  res.end(
    JSON.stringify({
      object: "list",
      data,
      model: body.model,
      usage: { prompt_tokens: 1, total_tokens: 1 },
    }),
  );
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")));
    req.on("end", () => {
      const body = JSON.parse(raw) as { model: string; input: string[] };
      requests.push({ url: req.url ?? "", auth: req.headers.authorization, body });
      handler(body, req, res);
    });
  });
  server.on("connection", (socket) => {
    openSockets.add(socket);
    socket.on("close", () => openSockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of openSockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  handler = ok;
  requests.length = 0;
});

async function expectEmbedderError(
  promise: Promise<unknown>,
  code: string,
  retryable: boolean,
): Promise<EmbedderError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EmbedderError);
  expect((error as EmbedderError).code).toBe(code);
  expect((error as EmbedderError).retryable).toBe(retryable);
  return error as EmbedderError;
}

describe("OpenAI-compatible embedder", () => {
  it("should post to /v1/embeddings and return normalised vectors in input order", async () => {
    const embedder = createOpenAiEmbedder({
      baseUrl,
      apiKey: "sk-test",
      model: "nomic-embed-text",
    });
    expect(embedder.model).toBe("nomic-embed-text");
    const vectors = await embedder.embed(["a", "abc"]);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url).toBe("/v1/embeddings");
    expect(requests[0]?.auth).toBe("Bearer sk-test");
    expect(requests[0]?.body).toEqual({ model: "nomic-embed-text", input: ["a", "abc"] });
    expect(vectors[0]?.[0]).toBeCloseTo(1 / Math.sqrt(2), 6);
    expect(vectors[1]?.[0]).toBeCloseTo(3 / Math.sqrt(10), 6);
    expect(embedder.dimension).toBe(3);
    await embedder.close();
  });

  it("should accept a base URL that already ends in /v1 and split large inputs into batches", async () => {
    expect(embeddingsUrl("http://h:1/v1/")).toBe("http://h:1/v1/embeddings");
    expect(embeddingsUrl("http://h:1")).toBe("http://h:1/v1/embeddings");
    const embedder = createOpenAiEmbedder({ baseUrl: `${baseUrl}/v1`, model: "m", batchSize: 2 });
    const vectors = await embedder.embed(["a", "bb", "ccc", "dddd", "eeeee"]);
    expect(requests.map((r) => r.url)).toEqual([
      "/v1/embeddings",
      "/v1/embeddings",
      "/v1/embeddings",
    ]);
    expect(requests.map((r) => r.body.input.length)).toEqual([2, 2, 1]);
    expect(requests[0]?.auth).toBeUndefined();
    expect(vectors.map((v) => Math.round((v[0] ?? 0) / (v[1] ?? 1)))).toEqual([1, 2, 3, 4, 5]);
  });

  it("should fail with a retryable EMBEDDER_HTTP_ERROR on a 503", async () => {
    handler = (_body, _req, res) => {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "model is loading" } }));
    };
    const embedder = createOpenAiEmbedder({ baseUrl, model: "m" });
    const error = await expectEmbedderError(embedder.embed(["x"]), "EMBEDDER_HTTP_ERROR", true);
    expect(error.status).toBe(503);
    expect(error.message).toContain("model is loading");
  });

  it("should fail with a non-retryable EMBEDDER_HTTP_ERROR on a 401", async () => {
    handler = (_body, _req, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "invalid api key" } }));
    };
    const error = await expectEmbedderError(
      createOpenAiEmbedder({ baseUrl, model: "m" }).embed(["x"]),
      "EMBEDDER_HTTP_ERROR",
      false,
    );
    expect(error.status).toBe(401);
  });

  it("should fail with a retryable EMBEDDER_HTTP_ERROR when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expectEmbedderError(
      createOpenAiEmbedder({ baseUrl: `http://127.0.0.1:${port}`, model: "m" }).embed(["x"]),
      "EMBEDDER_HTTP_ERROR",
      true,
    );
  });

  it("should fail with EMBEDDER_BAD_RESPONSE on malformed answers", async () => {
    const answers: unknown[] = [
      "not json",
      { object: "list" },
      { data: [{ index: 0, embedding: [1, 2] }] },
      {
        data: [
          { index: 0, embedding: [1, "x"] },
          { index: 1, embedding: [1, 2] },
        ],
      },
      {
        data: [
          { index: 0, embedding: [1, 2] },
          { index: 1, embedding: [1, 2, 3] },
        ],
      },
      {
        data: [
          { index: 0, embedding: [1, 2] },
          { index: 0, embedding: [1, 2] },
        ],
      },
    ];
    for (const answer of answers) {
      handler = (_body, _req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(typeof answer === "string" ? answer : JSON.stringify(answer));
      };
      await expectEmbedderError(
        createOpenAiEmbedder({ baseUrl, model: "m" }).embed(["a", "b"]),
        "EMBEDDER_BAD_RESPONSE",
        false,
      );
    }
  });

  it("should reject vectors whose length differs from the configured dimension", async () => {
    const embedder = createOpenAiEmbedder({ baseUrl, model: "m", dimension: 768 });
    expect(embedder.dimension).toBe(768);
    await expectEmbedderError(embedder.embed(["a"]), "EMBEDDER_BAD_RESPONSE", false);
  });

  it("should fail with a retryable EMBEDDER_TIMEOUT when the server does not answer in time", async () => {
    handler = (body, req, res) => {
      // Answers long after the client's deadline; the client must not wait for it.
      const timer = setTimeout(() => ok(body, req, res), 5_000);
      res.on("close", () => clearTimeout(timer));
    };
    const embedder = createOpenAiEmbedder({ baseUrl, model: "m", timeoutMs: 100 });
    await expectEmbedderError(embedder.embed(["x"]), "EMBEDDER_TIMEOUT", true);
  });

  it("should refuse calls after close", async () => {
    const embedder = createOpenAiEmbedder({ baseUrl, model: "m" });
    await embedder.close();
    await expectEmbedderError(embedder.embed(["x"]), "EMBEDDER_CLOSED", false);
  });
});
