import { describe, expect, it } from "vitest";

import { ConfigError, loadConfig } from "../../src/config.js";
import { FAST_EMBEDDER_MODEL } from "../../src/nlp/embedder-fast.js";
import {
  configuredEmbedderModel,
  createConfiguredEmbedder,
  vectorStoreLocation,
} from "../../src/nlp/embedder-selection.js";

const config = (env: Record<string, string>) => loadConfig(env);

describe("EMBEDDER selection", () => {
  it("should default to fast, and to openai when an endpoint is configured", () => {
    expect(config({}).EMBEDDER).toBe("fast");
    expect(config({ EMBEDDING_API_URL: "http://127.0.0.1:9/v1" }).EMBEDDER).toBe("openai");
    expect(config({ EMBEDDER: "fast", EMBEDDING_API_URL: "http://127.0.0.1:9/v1" }).EMBEDDER).toBe(
      "fast",
    );
  });

  it("should refuse an unknown embedder and openai without an endpoint, naming EMBEDDER", () => {
    for (const env of [{ EMBEDDER: "bert" }, { EMBEDDER: "openai" }]) {
      const error = (() => {
        try {
          return config(env);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.map((i) => i.variable)).toEqual(["EMBEDDER"]);
    }
  });

  it("should know each model's name without loading it", () => {
    expect(configuredEmbedderModel(config({ EMBEDDER: "fast" }))).toBe(FAST_EMBEDDER_MODEL);
    expect(configuredEmbedderModel(config({ EMBEDDER: "use-lite" }))).toBe(
      "universal-sentence-encoder-lite",
    );
    expect(
      configuredEmbedderModel(
        config({ EMBEDDING_API_URL: "http://127.0.0.1:9/v1", EMBEDDING_MODEL: "nomic-embed-text" }),
      ),
    ).toBe("nomic-embed-text");
  });

  it("should create the selected embedder", async () => {
    const embedder = await createConfiguredEmbedder(config({ EMBEDDER: "fast" }));
    expect(embedder.model).toBe(FAST_EMBEDDER_MODEL);
    expect((await embedder.embed(["Rates rose."]))[0]).toHaveLength(embedder.dimension);
    await embedder.close();
  });

  it("should keep one vector index per model, USE-lite's where it always was", () => {
    const base = { VECTOR_STORE_PATH: "data/vectors", WEAVIATE_CLASS: "TrendVector" };
    expect(vectorStoreLocation(config({ ...base, EMBEDDER: "use-lite" }))).toEqual({
      embeddedPath: "data/vectors",
      weaviateClass: "TrendVector",
    });
    expect(vectorStoreLocation(config({ ...base, EMBEDDER: "fast" }))).toEqual({
      embeddedPath: "data/vectors/trendgate_fast_v4",
      weaviateClass: "TrendVector_trendgate_fast_v4",
    });
  });
});
