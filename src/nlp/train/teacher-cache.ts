/**
 * Embeds every text of the shared corpora with the teacher (USE-lite) once and keeps the vectors
 * in data/embedder-teacher/ (gitignored): `<corpus>.jsonl` (one text a line) and `<corpus>.f32`
 * (512 float32 per text, same order). The teacher runs at ~20–60 texts/s, so the cache is
 * appended in chunks and a rerun resumes where the last one stopped.
 *
 *   nice -n 19 npx tsx src/nlp/train/teacher-cache.ts stsb agnews davidson sst2 words
 *
 * `words` is the fast embedder's vocabulary, one word per text: the teacher's reading of a word
 * alone starts its row (as Model2Vec does) before sentence-level distillation.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from "node:fs";

import { createOfflineEmbedder } from "../embedder.js";
import { fastTokens } from "../embedder-fast-features.js";
import {
  type CacheName,
  CORPORA,
  corpusTexts,
  teacherCachePaths,
  vocabularyWords,
} from "./corpora.js";

const CHUNK = 256;

const names = process.argv.slice(2) as CacheName[];
for (const name of names)
  if (name !== "words" && !(name in CORPORA)) throw new Error(`unknown corpus ${name}`);
const embedder = await createOfflineEmbedder();
for (const name of names) {
  const texts = name === "words" ? vocabularyWords(fastTokens) : corpusTexts(name);
  const paths = teacherCachePaths(name);
  mkdirSync(paths.dir, { recursive: true });
  const done = existsSync(paths.texts)
    ? readFileSync(paths.texts, "utf8")
        .split("\n")
        .filter((l) => l !== "").length
    : 0;
  // A run stopped between its two appends leaves a vector without its text: drop it.
  if (existsSync(paths.vectors)) truncateSync(paths.vectors, done * embedder.dimension * 4);
  const started = Date.now();
  for (let start = done; start < texts.length; start += CHUNK) {
    const chunk = texts.slice(start, start + CHUNK);
    const vectors = await embedder.embed(chunk);
    const flat = new Float32Array(chunk.length * embedder.dimension);
    vectors.forEach((v, i) => flat.set(v, i * embedder.dimension));
    // Vectors first: the texts file is the count of complete rows (readers and resumes trust it).
    appendFileSync(paths.vectors, Buffer.from(flat.buffer));
    appendFileSync(paths.texts, chunk.map((t) => JSON.stringify(t)).join("\n") + "\n");
    const rate = ((start + chunk.length - done) / (Date.now() - started)) * 1000;
    console.log(`${name}: ${start + chunk.length}/${texts.length} (${rate.toFixed(1)} texts/s)`);
  }
}
await embedder.close();
