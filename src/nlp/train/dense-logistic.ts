/**
 * Logistic regression on a handful of dense features, fitted exactly by Newton's method
 * (IRLS) with a small L2 penalty: used for Platt scaling and the confidence model, where
 * there are a few thousand rows and under ten features. Deterministic, no learning rate.
 */
export interface DenseLogistic {
  /** One coefficient per feature, in the order given. */
  readonly coefficients: number[];
  readonly intercept: number;
}

export function fitDenseLogistic(
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  options: { l2?: number; iterations?: number; weights?: readonly number[] } = {},
): DenseLogistic {
  const l2 = options.l2 ?? 1e-3;
  const d = (rows[0]?.length ?? 0) + 1;
  const beta = new Array<number>(d).fill(0);
  for (let iter = 0; iter < (options.iterations ?? 50); iter++) {
    const grad = new Array<number>(d).fill(0);
    const hess = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    rows.forEach((row, i) => {
      const x = [...row, 1];
      const p = sigmoidOf(dot(beta, x));
      const w = options.weights?.[i] ?? 1;
      const r = (p - (labels[i] ?? 0)) * w;
      const s = Math.max(1e-9, p * (1 - p)) * w;
      for (let a = 0; a < d; a++) {
        grad[a] = (grad[a] ?? 0) + r * (x[a] ?? 0);
        const ha = hess[a] as number[];
        for (let b = 0; b < d; b++) ha[b] = (ha[b] ?? 0) + s * (x[a] ?? 0) * (x[b] ?? 0);
      }
    });
    // The intercept is not penalised.
    for (let a = 0; a < d - 1; a++) {
      grad[a] = (grad[a] ?? 0) + l2 * (beta[a] ?? 0) * rows.length;
      (hess[a] as number[])[a] = ((hess[a] as number[])[a] ?? 0) + l2 * rows.length;
    }
    const step = solve(hess, grad);
    let moved = 0;
    for (let a = 0; a < d; a++) {
      beta[a] = (beta[a] ?? 0) - (step[a] ?? 0);
      moved = Math.max(moved, Math.abs(step[a] ?? 0));
    }
    if (moved < 1e-10) break;
  }
  return { coefficients: beta.slice(0, d - 1), intercept: beta[d - 1] ?? 0 };
}

export function predictDenseLogistic(model: DenseLogistic, row: readonly number[]): number {
  return sigmoidOf(dot(model.coefficients, row) + model.intercept);
}

/** Mean negative log-likelihood: how well probabilities fit outcomes (lower is better). */
export function logLoss(probabilities: readonly number[], labels: readonly number[]): number {
  let sum = 0;
  probabilities.forEach((p, i) => {
    const q = Math.min(1 - 1e-12, Math.max(1e-12, p));
    sum -= labels[i] === 1 ? Math.log(q) : Math.log(1 - q);
  });
  return sum / Math.max(1, probabilities.length);
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

function sigmoidOf(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Gaussian elimination with partial pivoting; the systems here are at most ~10×10. */
function solve(matrix: number[][], vector: number[]): number[] {
  const n = vector.length;
  const m = matrix.map((row, i) => [...row, vector[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(m[r]?.[col] ?? 0) > Math.abs(m[pivot]?.[col] ?? 0)) pivot = r;
    [m[col], m[pivot]] = [m[pivot] as number[], m[col] as number[]];
    const p = m[col]?.[col] ?? 0;
    if (Math.abs(p) < 1e-15) continue;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = (m[r]?.[col] ?? 0) / p;
      if (factor === 0) continue;
      for (let c = col; c <= n; c++)
        (m[r] as number[])[c] = (m[r]?.[c] ?? 0) - factor * (m[col]?.[c] ?? 0);
    }
  }
  return m.map((row, i) => (row[n] ?? 0) / ((row[i] ?? 1) || 1));
}
