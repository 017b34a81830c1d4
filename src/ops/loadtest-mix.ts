import { seededRandom } from "../domain/seeded-random.js";
import { readJsonl } from "../nlp/jsonl.js";
import type { TrendInputData } from "../pipeline/ingest/ingest-service.js";
import { LoadtestError } from "./loadtest-error.js";

export const MIX_KINDS = ["clean", "toxic", "unsure", "duplicate", "malformed"] as const;
export type MixKind = (typeof MIX_KINDS)[number];
export type MixWeights = Record<MixKind, number>;

/** Mostly news, as an integrator's feed is; enough of the rest that every branch is exercised. */
export const DEFAULT_MIX: MixWeights = {
  clean: 0.7,
  toxic: 0.08,
  unsure: 0.08,
  duplicate: 0.08,
  malformed: 0.06,
};

/** Parses `--mix clean=1` or `clean=0.9,toxic=0.1`: the kinds it does not name weigh 0. */
export function parseMix(text: string): MixWeights {
  const weights: MixWeights = { clean: 0, toxic: 0, unsure: 0, duplicate: 0, malformed: 0 };
  for (const part of text.split(",")) {
    const [kind, weight] = part.split("=");
    const value = Number(weight);
    if (!MIX_KINDS.includes(kind as MixKind) || weight === undefined || !(value >= 0))
      throw new LoadtestError(
        "LOADTEST_BAD_OPTIONS",
        `--mix: "${part}" must be kind=weight with kind one of ${MIX_KINDS.join(", ")} and weight ≥ 0`,
      );
    weights[kind as MixKind] = value;
  }
  if (MIX_KINDS.every((k) => weights[k] === 0))
    throw new LoadtestError("LOADTEST_BAD_OPTIONS", "--mix: at least one weight must be above 0");
  return weights;
}

export interface MixItem {
  kind: MixKind;
  /** What is posted; malformed items are meant to fail validation (BAD_USER_INPUT). */
  input: Record<string, unknown>;
}

const TOXIC = [
  "I will kill you if you show up here again.",
  "You are a worthless idiot and everyone hates you, go die.",
  "Shut up you stupid moron, nobody wants your garbage opinions.",
  "We know where you live and we will hurt your family.",
  "These people are vermin and should be wiped out.",
];

const UNSURE = [
  "hmm",
  "idk lol",
  "ok then.",
  "this.",
  "wow",
  "not sure about that one",
  "well well",
  "?!",
  "lol same",
  "meh",
];

const MALFORMED: ((i: number, runId: string) => Record<string, unknown>)[] = [
  (i, runId) => ({ source: "loadtest", externalId: `${runId}-m${i}`, title: "empty", body: "" }),
  (i, runId) => ({ source: "loadtest", externalId: `${runId}-m${i}`, body: "   \n\t " }),
  (i, runId) => ({ source: "", externalId: `${runId}-m${i}`, body: "no source given" }),
  (i, runId) => ({
    source: "loadtest",
    externalId: `${runId}-m${i}`,
    body: "bad link",
    url: "ftp://nowhere",
  }),
  (i, runId) => ({
    source: "load test!",
    externalId: `${runId}-m${i}`,
    body: "source with forbidden characters",
  }),
  (i, runId) => ({
    source: "loadtest",
    externalId: `${runId}-m${i}`,
    body: "bad date",
    publishedAt: "yesterday-ish",
  }),
];

let sentences: string[] | undefined;
/** The project's hand-written news sentences (src/nlp/data), which the enricher was built for. */
function newsSentences(): string[] {
  sentences ??= ["topics.jsonl", "similarity-pairs.jsonl"].flatMap((file) =>
    readJsonl<{ text?: string; a?: string; b?: string }>(
      new URL(`../nlp/data/${file}`, import.meta.url),
    ).flatMap((row) => [row.text, row.a, row.b].filter((t): t is string => typeof t === "string")),
  );
  return sentences;
}

/**
 * The load test's stream of items: clean news (1 to 10 sentences), threats and insults, very
 * short ambiguous posts (low confidence → a human), re-posts of an earlier source + externalId
 * (must come back `duplicate: true`), and inputs that must be refused with BAD_USER_INPUT.
 */
export function createLoadtestMix(
  runId: string,
  seed = 1,
  weights: MixWeights = DEFAULT_MIX,
): () => MixItem {
  const random = seededRandom(seed);
  const pool = newsSentences();
  const total = MIX_KINDS.reduce((sum, k) => sum + Math.max(0, weights[k]), 0);
  const sent: TrendInputData[] = [];
  let i = 0;
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const pickKind = (): MixKind => {
    let r = random() * total;
    for (const k of MIX_KINDS) {
      r -= Math.max(0, weights[k]);
      if (r < 0) return k;
    }
    return "clean";
  };
  return () => {
    i++;
    let kind = pickKind();
    if (kind === "duplicate" && sent.length === 0) kind = "clean";
    let input: TrendInputData | Record<string, unknown>;
    switch (kind) {
      case "duplicate":
        input = { ...pick(sent) };
        break;
      case "malformed":
        input = pick(MALFORMED)(i, runId);
        break;
      case "toxic":
        input = {
          source: "forum",
          externalId: `${runId}-${i}`,
          body: pick(TOXIC),
          author: `user${Math.floor(random() * 1000)}`,
        };
        break;
      case "unsure":
        input = { source: "social", externalId: `${runId}-${i}`, body: pick(UNSURE) };
        break;
      default: {
        const n = 1 + Math.floor(random() * 10);
        const body = Array.from({ length: n }, () => pick(pool)).join(" ");
        input = {
          source: "newswire",
          externalId: `${runId}-${i}`,
          title: pick(pool)
            .replace(/[.!?]$/, "")
            .slice(0, 90),
          body,
          url: `https://news.example.com/${runId}/${i}`,
          publishedAt: new Date().toISOString(),
        };
      }
    }
    if (kind !== "malformed" && kind !== "duplicate") sent.push(input as TrendInputData);
    return { kind, input: input as Record<string, unknown> };
  };
}
