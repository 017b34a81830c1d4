import { describe, expect, it } from "vitest";

import { cutAtWordBoundary, normalizeText } from "../../src/nlp/normalize.js";

describe("normalizeText", () => {
  it("should strip tags, drop script/style content and decode entities", () => {
    const html =
      '<div class="post"><h1>Rates&nbsp;rise</h1><script>alert("x")</script><style>p{}</style>' +
      "<p>Tom &amp; Jerry&#39;s caf&eacute; &#x1F600; &lt;b&gt;</p><!-- hidden --></div>";
    expect(normalizeText(html, 1000)).toBe("Rates rise Tom & Jerry's café 😀 <b>");
  });

  it("should keep words apart when block tags separate them", () => {
    expect(normalizeText("<p>one</p><p>two</p>three<br/>four", 100)).toBe("one two three four");
  });

  it("should keep a less-than sign that is not a tag", () => {
    expect(normalizeText("if a < b and c > d", 100)).toBe("if a < b and c > d");
  });

  it("should keep only the text of markdown links and images", () => {
    expect(
      normalizeText("See [the report](https://example.com/r?a=1) and ![chart](c.png) **now**", 100),
    ).toBe("See the report and chart now");
  });

  it("should apply Unicode NFC", () => {
    const decomposed = "Cafe\u0301 cre\u0300me";
    const result = normalizeText(decomposed, 100);
    expect(result).toBe("Caf\u00e9 cr\u00e8me");
    expect(result.normalize("NFC")).toBe(result);
  });

  it("should collapse whitespace, remove zero-width characters and trim", () => {
    expect(normalizeText(" \n\t a\u00a0\u00a0b \r\n\r\n c\u200bd \u2003 ", 100)).toBe("a b cd");
  });

  it("should cut at a word boundary without exceeding maxChars", () => {
    const text = "The council approved the budget on Tuesday evening";
    const cut = normalizeText(text, 20);
    expect(cut).toBe("The council approved");
    expect(cut.length).toBeLessThanOrEqual(20);
    expect(normalizeText(text, 23)).toBe("The council approved");
    expect(normalizeText(text, 1000)).toBe(text);
  });

  it("should hard-cut a single overlong word and never split a surrogate pair", () => {
    expect(cutAtWordBoundary("abcdefghij", 4)).toBe("abcd");
    const emoji = `ab${"😀".repeat(5)}`;
    const cut = cutAtWordBoundary(emoji, 5);
    expect(cut).toBe("ab😀");
    expect(cut.length).toBeLessThanOrEqual(5);
  });

  it("should return an empty string for markup-only input or maxChars 0", () => {
    expect(normalizeText("<p> </p><br>", 100)).toBe("");
    expect(normalizeText("text", 0)).toBe("");
  });
});
