import { readFileSync } from "node:fs";

/**
 * Reads a trusted JSON-lines file: the data shipped in src/nlp/data and the training corpora, so
 * no per-line validation (files from users go through judge/labelled-rows.ts, which names a bad
 * line).
 */
export function readJsonl<T>(path: string | URL): T[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}
