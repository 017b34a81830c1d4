/**
 * The two quality figures every embedder is held to (issue 15): STS-B Spearman between cosine
 * and human similarity, and AG News same-topic@5 (the share of each text's 5 nearest neighbours,
 * among the other validation texts, that have its topic). Vectors are L2-normalised.
 */
import type { StsPair, TopicRow } from "./corpora.js";

type Vector = ArrayLike<number>;

export function dot(a: Vector, b: Vector): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Average ranks (ties share the mean of their positions), 1-based. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]!] === values[order[start]!]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) out[order[k]!] = rank;
    start = end + 1;
  }
  return out;
}

export function spearman(x: readonly number[], y: readonly number[]): number {
  const rx = ranks(x);
  const ry = ranks(y);
  const n = x.length;
  const mean = (n + 1) / 2;
  let num = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    const a = rx[i]! - mean;
    const b = ry[i]! - mean;
    num += a * b;
    dx += a * a;
    dy += b * b;
  }
  return num / Math.sqrt(dx * dy);
}

export function stsSpearman(pairs: readonly { a: Vector; b: Vector; score: number }[]): number {
  return spearman(
    pairs.map((p) => dot(p.a, p.b)),
    pairs.map((p) => p.score),
  );
}

export function sameTopicAt(
  k: number,
  vectors: readonly Vector[],
  topics: readonly string[],
): number {
  let total = 0;
  for (let i = 0; i < vectors.length; i++) {
    const scored: { j: number; s: number }[] = [];
    for (let j = 0; j < vectors.length; j++)
      if (j !== i) scored.push({ j, s: dot(vectors[i]!, vectors[j]!) });
    scored.sort((a, b) => b.s - a.s || a.j - b.j);
    let same = 0;
    for (const { j } of scored.slice(0, k)) if (topics[j] === topics[i]) same++;
    total += same / k;
  }
  return total / vectors.length;
}

export interface EmbedderFigures {
  /** STS-B Spearman between cosine and the human score. */
  sts: number;
  /** AG News same-topic@5 among the validation rows. */
  ag5: number;
}

/**
 * Both figures of one embedder on the validation rows (corpora.ts `embedderSplits`): what the
 * training scripts select epochs by and the benches report. `embed` maps texts to unit vectors,
 * in order.
 */
export async function embedderFigures(
  embed: (texts: string[]) => Promise<readonly Vector[]> | readonly Vector[],
  rows: { stsVal: readonly StsPair[]; agVal: readonly TopicRow[] },
): Promise<EmbedderFigures> {
  const a = await embed(rows.stsVal.map((p) => p.a));
  const b = await embed(rows.stsVal.map((p) => p.b));
  const ag = await embed(rows.agVal.map((r) => r.text));
  return {
    sts: stsSpearman(rows.stsVal.map((p, i) => ({ a: a[i]!, b: b[i]!, score: p.score }))),
    ag5: sameTopicAt(
      5,
      ag,
      rows.agVal.map((r) => r.topic),
    ),
  };
}

export function formatFigures(m: EmbedderFigures): string {
  return `STS-B ρ ${m.sts.toFixed(4)}  AG same-topic@5 ${m.ag5.toFixed(4)}`;
}
