/**
 * The shared corpora the fast embedder is distilled and tuned on, and the one validation split
 * every embedder figure is measured on.
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";

import { readJsonl } from "../jsonl.js";

export const DATASETS_DIR =
  process.env.TRENDGATE_DATASETS ??
  fileURLToPath(new URL("../../../../shared/datasets/", import.meta.url));
/** The distilled table train-fast-embedder.ts writes and tune-fast-embedder.ts reads (not shipped). */
export const FAST_BASE_MODEL_PATH = fileURLToPath(
  new URL("../../../data/fast-embedder-base.bin", import.meta.url),
);
export const TEACHER_CACHE_DIR = fileURLToPath(
  new URL("../../../data/embedder-teacher/", import.meta.url),
);

export const CORPORA = {
  stsb: "stsb-train.jsonl",
  agnews: "agnews-train.jsonl",
  davidson: "davidson-train.jsonl",
  sst2: "sst2-train.jsonl",
} as const;
export type CorpusName = keyof typeof CORPORA;
/** What the teacher cache can hold: the corpora, and the vocabulary words one at a time. */
export type CacheName = CorpusName | "words";
export const VOCABULARY_SIZE = 40_000;

export function corpusRows<T>(name: CorpusName): T[] {
  return readJsonl<T>(`${DATASETS_DIR.replace(/\/?$/, "/")}${CORPORA[name]}`);
}

/**
 * Validation split: one in five rows, chosen by a hash of the row's text (of both sentences for
 * a pair), so it does not depend on file order and a text never moves between splits.
 */
export function isValidation(key: string): boolean {
  const digest = createHash("sha256").update(key).digest();
  return digest.readUInt32BE(0) % 5 === 0;
}

export interface StsPair {
  a: string;
  b: string;
  score: number;
}
export interface TopicRow {
  text: string;
  topic: string;
}

export const stsKey = (p: StsPair): string => `${p.a}\u0000${p.b}`;

/** The STS-B pairs and AG News rows the fast embedder trains on, and the ones it is measured on. */
export function embedderSplits(): {
  stsTrain: StsPair[];
  stsVal: StsPair[];
  agTrain: TopicRow[];
  agVal: TopicRow[];
} {
  const sts = corpusRows<StsPair>("stsb");
  const ag = corpusRows<TopicRow>("agnews");
  return {
    stsTrain: sts.filter((p) => !isValidation(stsKey(p))),
    stsVal: sts.filter((p) => isValidation(stsKey(p))),
    agTrain: ag.filter((r) => !isValidation(r.text)),
    agVal: ag.filter((r) => isValidation(r.text)),
  };
}

/** Distinct texts of a corpus, in file order (a pair contributes both sentences). */
export function corpusTexts(name: CorpusName): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (t: string) => {
    if (!seen.has(t)) {
      seen.add(t);
      out.push(t);
    }
  };
  if (name === "stsb") {
    for (const p of corpusRows<StsPair>(name)) {
      add(p.a);
      add(p.b);
    }
  } else for (const r of corpusRows<{ text: string }>(name)) add(r.text);
  return out;
}

/**
 * The words the fast embedder gives their own row: the VOCABULARY_SIZE most frequent tokens
 * (seen at least twice) of the training rows of all four corpora, by count then alphabetically.
 */
export function vocabularyWords(tokenize: (text: string) => string[]): string[] {
  return vocabularyCounts(tokenize).words;
}

/** The vocabulary with each word's share of all training tokens. */
export function vocabularyCounts(tokenize: (text: string) => string[]): {
  words: string[];
  share: number[];
} {
  const counts = new Map<string, number>();
  let total = 0;
  for (const text of trainingTexts()) {
    for (const t of tokenize(text)) {
      counts.set(t, (counts.get(t) ?? 0) + 1);
      total++;
    }
  }
  const kept = [...counts]
    .filter(([, c]) => c >= 2)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, VOCABULARY_SIZE);
  return { words: kept.map(([w]) => w), share: kept.map(([, c]) => c / total) };
}

/** Every distinct text outside the validation split (STS-B pairs and AG rows held out whole). */
export function trainingTexts(): string[] {
  const held = new Set<string>();
  for (const p of corpusRows<StsPair>("stsb")) {
    if (!isValidation(stsKey(p))) continue;
    held.add(p.a);
    held.add(p.b);
  }
  for (const r of corpusRows<TopicRow>("agnews")) if (isValidation(r.text)) held.add(r.text);
  return (Object.keys(CORPORA) as CorpusName[])
    .flatMap((n) => corpusTexts(n))
    .filter((t) => !held.has(t));
}

export function teacherCachePaths(name: CacheName): {
  dir: string;
  texts: string;
  vectors: string;
} {
  return {
    dir: TEACHER_CACHE_DIR,
    texts: `${TEACHER_CACHE_DIR}${name}.jsonl`,
    vectors: `${TEACHER_CACHE_DIR}${name}.f32`,
  };
}
