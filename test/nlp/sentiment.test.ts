import { describe, expect, it } from "vitest";

import { featureTokens, featureWords } from "../../src/nlp/features.js";
import { SentimentModel } from "../../src/nlp/sentiment.js";
import { sentimentTokenList, sentimentTokens } from "../../src/nlp/sentiment-tokens.js";
import { enrichCorpus } from "./golden/enrich-corpus.js";

// Sentences written for these tests, not taken from SST-2.
describe("sentiment model", () => {
  const model = SentimentModel.load();

  it("should hash the same tokens as the joined string would give (featureWords)", () => {
    const texts = [
      ...enrichCorpus().map((input) => `${input.title ?? ""} ${input.body}`),
      "Not goooood at all!!! h4ppy l33t https://x.example/a @someone #tag &amp; 2nd_place ÉCOLE naïve 😀",
      "",
    ];
    const differing = texts.filter(
      (text) =>
        JSON.stringify(featureWords(sentimentTokenList(text))) !==
        JSON.stringify(featureTokens(sentimentTokens(text))),
    );
    expect(differing).toEqual([]);
    expect(featureWords(sentimentTokenList("It is not good"))).toContain("neg_good");
  });

  it("should read runtime text the way SST-2 is tokenised", () => {
    expect(sentimentTokens("It's not bad, I can't complain!")).toBe(
      sentimentTokens("it 's not bad , i ca n't complain !"),
    );
    expect(sentimentTokens("Don’t miss it")).toBe(sentimentTokens("do n't miss it"));
  });

  it("should mark words after a negator up to the end of the clause", () => {
    expect(sentimentTokens("not good at all. great ending")).toBe(
      "not neg_good neg_at neg_all great ending",
    );
    expect(sentimentTokens("never boring but long")).toBe("never neg_boring but long");
  });

  it("should tell clear positive from clear negative reviews, negation included", () => {
    for (const text of [
      "What a wonderful, moving film with a terrific cast.",
      "I loved every minute of it.",
    ]) {
      expect(model.score(text).label, text).toBe("positive");
    }
    for (const text of [
      "A dull, lifeless mess that wastes its actors.",
      "This movie is not good at all.",
    ]) {
      expect(model.score(text).label, text).toBe("negative");
    }
  });

  it("should keep the score in -1..1 and call the middle neutral", () => {
    for (const text of ["", "the", "A film about a family in a small town."]) {
      const s = model.score(text);
      expect(s.score).toBeGreaterThanOrEqual(-1);
      expect(s.score).toBeLessThanOrEqual(1);
      if (Math.abs(s.score) <= 0.1) expect(s.label).toBe("neutral");
    }
  });
});
