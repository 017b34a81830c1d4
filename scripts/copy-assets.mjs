// tsc emits only JavaScript; the shipped model weights and data sets travel beside it.
import { cpSync, existsSync } from "node:fs";

for (const path of [
  "src/nlp/models",
  "src/nlp/data",
  "src/nlp/embedder-thread-entry.mjs",
  "src/pipeline/enrich/enricher-thread-entry.mjs",
  "src/pipeline/review/data",
]) {
  if (existsSync(path)) cpSync(path, `dist/${path}`, { recursive: true });
}
