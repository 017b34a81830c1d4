import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  isValidText,
  toValidJson,
  toValidText,
  truncateGraphemes,
} from "../../src/domain/valid-text.js";
import { cutAtWordBoundary } from "../../src/nlp/normalize.js";

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const graphemeCount = (s: string) =>
  [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(s)].length;

describe("valid text", () => {
  it("should replace lone surrogates with U+FFFD and keep pairs", () => {
    expect(toValidText("a\uD83Db")).toBe("a\uFFFDb");
    expect(toValidText("a\uDE00b")).toBe("a\uFFFDb");
    expect(toValidText("😀\uD83D")).toBe("😀\uFFFD");
    expect(toValidText("👨‍👩‍👧")).toBe("👨‍👩‍👧");
  });

  it("should remove U+0000", () => {
    expect(toValidText("a\u0000b\u0000")).toBe("ab");
    expect(isValidText("a\u0000")).toBe(false);
    expect(isValidText("ok 😀")).toBe(true);
  });

  it("should write JSON without a lone surrogate or NUL escape, keys included", () => {
    const json = toValidJson({ ["k\uD800"]: ["x\u0000", { y: "z\uDC00" }], n: 1, d: new Date(0) });
    expect(json).not.toMatch(/\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|\\ud[c-f][0-9a-f]{2}/i);
    expect(JSON.parse(json)).toEqual({
      "k\uFFFD": ["x", { y: "z\uFFFD" }],
      n: 1,
      d: "1970-01-01T00:00:00.000Z",
    });
  });

  it("should truncate without splitting a surrogate pair or a grapheme", () => {
    expect(truncateGraphemes("😀".repeat(300), 77)).toBe("😀".repeat(38));
    // A family emoji is 8 code units: cut inside it, the whole family goes.
    expect(truncateGraphemes("ab👨‍👩‍👧", 6)).toBe("ab");
    expect(truncateGraphemes("e\u0301e\u0301", 3)).toBe("e\u0301");
    expect(cutAtWordBoundary("😀".repeat(300), 77)).toBe("😀".repeat(38));
  });

  it("should always give valid text no longer than asked and a prefix of the input (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), fc.nat(220), (raw, max) => {
        const cut = truncateGraphemes(toValidText(raw), max);
        expect(cut.length).toBeLessThanOrEqual(max);
        expect(LONE.test(cut)).toBe(false);
        expect(cut.includes("\u0000")).toBe(false);
        expect(toValidText(raw).startsWith(cut)).toBe(true);
        // Whole graphemes only: the cut's graphemes are the input's first ones.
        const n = graphemeCount(cut);
        expect(
          [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(toValidText(raw))]
            .slice(0, n)
            .map((s) => s.segment)
            .join(""),
        ).toBe(cut);
      }),
      { numRuns: 500 },
    );
  });
});
