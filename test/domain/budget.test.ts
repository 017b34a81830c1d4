import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { countTokens } from "../../src/domain/budget.js";

/** The definition: whitespace-separated words. */
const bySplit = (text: string) => {
  const trimmed = text.trim();
  return trimmed ? trimmed.split(/\s+/u).length : 0;
};

describe("countTokens", () => {
  it("should count whitespace-separated words exactly as splitting on \\s would", () => {
    const piece = fc.constantFrom(
      "word",
      "é",
      "😀",
      " ",
      "\t",
      "\n",
      "\u00a0",
      "\u2003",
      "\u3000",
      "\ufeff",
      "\u200b",
      "\u0085",
      "\u2028",
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }).map((p) => p.join("")),
        (text) => {
          expect(countTokens(text)).toBe(bySplit(text));
        },
      ),
    );
  });

  it("should count nothing in blank text", () => {
    expect(countTokens("")).toBe(0);
    expect(countTokens(" \t\n\u00a0")).toBe(0);
  });
});
