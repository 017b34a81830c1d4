import { describe, expect, it } from "vitest";

import { computeBackoff } from "../../src/workers/runtime/backoff.js";

describe("computeBackoff", () => {
  const opts = { baseMs: 100, maxMs: 1_000 };

  it("should double the ceiling with each attempt up to maxMs", () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6].map((a) => computeBackoff(a, opts, top))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
  });

  it("should spread delays over the whole range (full jitter)", () => {
    expect(computeBackoff(3, opts, () => 0)).toBe(0);
    expect(computeBackoff(3, opts, () => 0.5)).toBe(200);
  });

  it("should stay finite for huge attempt numbers", () => {
    expect(computeBackoff(10_000, opts, () => 0.5)).toBe(500);
  });
});
