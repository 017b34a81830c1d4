/** Metrics for probabilities against outcomes: shared by the training scripts and `judge evaluate`. */

export interface ReliabilityBin {
  /** Bin bounds [lower, upper) on the predicted probability; the last bin includes 1. */
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  readonly meanPredicted: number;
  /** Share of positive outcomes in the bin (NaN when empty). */
  readonly observedRate: number;
}

/** Equal-width bins of predicted probability, with the observed outcome rate in each. */
export function reliabilityBins(
  predicted: readonly number[],
  outcomes: readonly number[],
  bins = 10,
): ReliabilityBin[] {
  const acc = Array.from({ length: bins }, () => ({ n: 0, p: 0, y: 0 }));
  predicted.forEach((p, i) => {
    const b = acc[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))] as {
      n: number;
      p: number;
      y: number;
    };
    b.n++;
    b.p += p;
    b.y += outcomes[i] ?? 0;
  });
  return acc.map((b, k) => ({
    lower: k / bins,
    upper: (k + 1) / bins,
    count: b.n,
    meanPredicted: b.n ? b.p / b.n : Number.NaN,
    observedRate: b.n ? b.y / b.n : Number.NaN,
  }));
}

/** Expected calibration error: the count-weighted mean |predicted − observed| over the bins. */
export function expectedCalibrationError(
  predicted: readonly number[],
  outcomes: readonly number[],
  bins = 10,
): number {
  const total = predicted.length;
  if (total === 0) return Number.NaN;
  return reliabilityBins(predicted, outcomes, bins).reduce(
    (sum, b) =>
      sum + (b.count ? (b.count / total) * Math.abs(b.meanPredicted - b.observedRate) : 0),
    0,
  );
}

/** Area under the ROC curve by the rank-sum (Mann–Whitney) formula, ties counted half. */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0));
  let rankSumPos = 0;
  let pos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1] ?? 0] === scores[idx[i] ?? 0]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (labels[idx[t] ?? 0] === 1) {
        rankSumPos += avgRank;
        pos++;
      }
    }
    i = j + 1;
  }
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}
