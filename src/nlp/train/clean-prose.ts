import { fnv1a } from "../features.js";
import { corpusRows, corpusTexts, isValidation, type TopicRow } from "./corpora.js";
import { splitOf, trainingText } from "./splits.js";

/**
 * Clean prose from the shared corpora: SST-2's movie-review sentences (rows of at least
 * MIN_WORDS words, not its short phrases), STS-B's sentences (image captions, news, forum
 * posts) and AG News' headlines with first sentences. None of it is toxic by Davidson's
 * definition, and none of it is a tweet: it is the ordinary text a gateway also receives, on
 * which a model trained on tweets found by searching for slurs has no footing.
 *
 * - `train`: rows outside both validation rules (splits.ts, which the Judge and sentiment
 *   benches use, and corpora.ts `isValidation`, which the embedder benches use), so nothing the
 *   toxicity model trains on is in any validation figure. SST-2 and STS-B only: AG News stays
 *   unseen, a check of news from another hand than the hand-written news sentences.
 * - `validation`: splits.ts' validation rows, as bench/judge/clean-prose.ts measures them.
 * Order is by a hash of the text, so a prefix of either list is a fixed, unbiased sample.
 */
export const MIN_WORDS = 6;

export type ProseCorpus = "sst2" | "stsb" | "agnews";

export function cleanProse(corpus: ProseCorpus, split: "train" | "validation"): string[] {
  if (split === "train" && corpus === "agnews") throw new Error("AG News is kept out of training");
  const texts =
    corpus === "sst2"
      ? corpusRows<{ text: string }>("sst2")
          .map((r) => r.text)
          .filter((t) => t.split(/\s+/).length >= MIN_WORDS)
      : corpus === "stsb"
        ? corpusTexts("stsb")
        : corpusRows<TopicRow>("agnews").map((r) => r.text);
  const inValidation = (t: string) => splitOf(trainingText(t)) === "validation";
  const kept = [...new Set(texts)].filter((t) =>
    split === "validation" ? inValidation(t) : !inValidation(t) && !isValidation(t),
  );
  return kept.sort((a, b) => fnv1a(`prose:${a}`) - fnv1a(`prose:${b}`) || a.localeCompare(b));
}
