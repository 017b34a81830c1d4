import { describe, expect, it } from "vitest";

import { warmupInputs } from "../../src/nlp/warmup-inputs.js";

describe("warm-up inputs", () => {
  it("should give none for 0 and exactly the count asked, the same on every call", () => {
    expect(warmupInputs(0)).toEqual([]);
    const inputs = warmupInputs(1000);
    expect(inputs).toHaveLength(1000);
    expect(warmupInputs(1000)).toEqual(inputs);
  });

  it("should mix one- to four-post bodies of the shipped written-harm set", () => {
    const inputs = warmupInputs(8);
    expect(inputs.every((i) => i.source === "warmup" && i.body.trim().length > 0)).toBe(true);
    // Input i joins rows i .. i + (i % 4): input 4 is row 4 alone, input 5 rows 5–6, and input 3
    // rows 3–6, so it holds both.
    expect(inputs[3]!.body.includes(` ${inputs[4]!.body} `)).toBe(true);
    expect(inputs[3]!.body.endsWith(` ${inputs[5]!.body}`)).toBe(true);
    expect(new Set(inputs.map((i) => i.body)).size).toBe(8);
  });
});
