import { readFileSync } from "node:fs";

/** Reads a JSON-lines file (training data only: trusted, so no per-line validation). */
export function readJsonl<T>(path: string | URL): T[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}
