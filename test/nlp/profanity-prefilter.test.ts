import {
  englishDataset,
  englishRecommendedBlacklistMatcherTransformers,
  englishRecommendedTransformers,
  RegExpMatcher,
} from "obscenity";
import { describe, expect, it } from "vitest";

import { ProfanityPrefilter } from "../../src/nlp/profanity-prefilter.js";
import { enrichCorpus } from "./golden/enrich-corpus.js";

const matcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
const prefilter = new ProfanityPrefilter(
  englishDataset.build().blacklistedTerms,
  englishRecommendedBlacklistMatcherTransformers,
);

// Disguises the matcher's transformers undo (leetspeak, confusables, repeats, full-width and
// mathematical letters), whitelisted words that contain a term, and broken surrogates.
const TRICKY = [
  "sh1t $h!t b00bs a55 fuuuuuck f u c k",
  "ｆｕｃｋ 𝓯𝓾𝓬𝓴 ѕһіт",
  "the assassin passed the bass class in scunthorpe",
  "a lone \ud83d surrogate, \ude00 and 😀 a pair",
  "",
];

describe("profanity prefilter", () => {
  it("should never rule out a text in which the matcher finds a term", () => {
    const texts = [...TRICKY, ...enrichCorpus().map((i) => `${i.title ?? ""} ${i.body}`)];
    const missed = texts.filter(
      (t) => !prefilter.mayMatch(t) && matcher.getAllMatches(t, true).length > 0,
    );
    expect(missed).toEqual([]);
    expect(texts.filter((t) => matcher.getAllMatches(t).length > 0).length).toBeGreaterThan(3);
  });

  it("should transform text exactly as the matcher does before matching", () => {
    const internals = matcher as unknown as {
      applyTransformers(input: string, set: unknown): [number[], string];
      blacklistMatcherTransformers: unknown;
    };
    for (const text of TRICKY)
      expect(prefilter.transform(text)).toBe(
        internals.applyTransformers(text, internals.blacklistMatcherTransformers)[1],
      );
  });

  it("should rule out ordinary news text, which is what makes it worth running", () => {
    expect(prefilter.mayMatch("The central bank held interest rates steady on Tuesday.")).toBe(
      false,
    );
  });
});
