import { describe, expect, it } from "vitest";

import { seededRandom } from "../../src/domain/seeded-random.js";
import {
  expectedCalibrationError,
  reliabilityBins,
  rocAuc,
} from "../../src/nlp/calibration-metrics.js";
import {
  fitDenseLogistic,
  logLoss,
  predictDenseLogistic,
} from "../../src/nlp/train/dense-logistic.js";

describe("calibration metrics", () => {
  it("should give zero ECE when every bin's outcome rate equals its prediction", () => {
    // 0.25 predicted four times with one positive; 0.75 four times with three
    const p = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
    const y = [1, 0, 0, 0, 1, 1, 1, 0];
    expect(expectedCalibrationError(p, y)).toBeCloseTo(0, 12);
    const bins = reliabilityBins(p, y);
    expect(bins).toHaveLength(10);
    expect(bins[2]).toMatchObject({ count: 4, meanPredicted: 0.25, observedRate: 0.25 });
    expect(bins[0]?.count).toBe(0);
  });

  it("should weigh each bin's gap by its share of items", () => {
    // bin 9: predicted 0.95, observed 0.5 (gap 0.45, half the items); bin 0: predicted 0.05, observed 0 (gap 0.05)
    const p = [0.95, 0.95, 0.05, 0.05];
    const y = [1, 0, 0, 0];
    expect(expectedCalibrationError(p, y)).toBeCloseTo(0.5 * 0.45 + 0.5 * 0.05, 12);
    // a probability of exactly 1 falls in the last bin
    expect(reliabilityBins([1], [1])[9]?.count).toBe(1);
  });

  it("should rank with ties counted half", () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.5, 0.5], [0, 1])).toBe(0.5);
    expect(rocAuc([0.3, 0.4], [1, 1])).toBeNaN();
  });
});

describe("dense logistic regression (Platt scaling, confidence)", () => {
  it("should recover the coefficients that generated the outcomes", () => {
    const random = seededRandom(5);
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const x = [random() * 6 - 3, random() < 0.5 ? 1 : 0];
      const p = 1 / (1 + Math.exp(-(1.5 * (x[0] ?? 0) - 0.8 * (x[1] ?? 0) + 0.3)));
      rows.push(x);
      labels.push(random() < p ? 1 : 0);
    }
    const model = fitDenseLogistic(rows, labels, { l2: 0 });
    expect(model.coefficients[0]).toBeCloseTo(1.5, 1);
    expect(model.coefficients[1]).toBeCloseTo(-0.8, 1);
    expect(model.intercept).toBeCloseTo(0.3, 1);
    const fitted = rows.map((r) => predictDenseLogistic(model, r));
    expect(logLoss(fitted, labels)).toBeLessThan(
      logLoss(
        rows.map(() => 0.5),
        labels,
      ),
    );
    expect(expectedCalibrationError(fitted, labels)).toBeLessThan(0.02);
  });

  it("should be deterministic, so retraining rewrites identical model files", () => {
    const rows = [[0], [1], [2], [3]];
    const labels = [0, 0, 1, 1];
    expect(fitDenseLogistic(rows, labels)).toEqual(fitDenseLogistic(rows, labels));
  });
});
