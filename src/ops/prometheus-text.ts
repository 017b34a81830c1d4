/** One sample of the Prometheus text exposition format. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses what `GET /metrics` returns (text format 0.0.4), enough for the load test to read
 * gauges, counters and histogram buckets without a Prometheus server. Comments and malformed
 * lines are skipped rather than fatal: a scrape is a sample, not a contract.
 */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const brace = line.indexOf("{");
    const space = line.indexOf(" ");
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace !== -1 && (space === -1 || brace < space)) {
      name = line.slice(0, brace);
      const parsed = parseLabels(line, brace + 1);
      if (!parsed) continue;
      labels = parsed.labels;
      rest = line.slice(parsed.end + 1).trim();
    } else {
      if (space === -1) continue;
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const valueText = rest.split(/\s+/)[0] ?? "";
    const value =
      valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
    if (valueText === "" || (Number.isNaN(value) && valueText !== "NaN")) continue;
    out.push({ name, labels, value });
  }
  return out;
}

function parseLabels(
  line: string,
  start: number,
): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let i = start;
  for (;;) {
    while (line[i] === " " || line[i] === ",") i++;
    if (line[i] === "}") return { labels, end: i };
    const eq = line.indexOf("=", i);
    if (eq === -1 || line[eq + 1] !== '"') return undefined;
    const key = line.slice(i, eq).trim();
    let value = "";
    let j = eq + 2;
    for (; j < line.length; j++) {
      const c = line[j];
      if (c === "\\") {
        const n = line[++j];
        value += n === "n" ? "\n" : (n ?? "");
      } else if (c === '"') break;
      else value += c;
    }
    if (j >= line.length) return undefined;
    labels[key] = value;
    i = j + 1;
  }
}

/** Samples named `name` whose labels include every pair in `match`. */
export function select(
  samples: readonly PromSample[],
  name: string,
  match: Record<string, string> = {},
): PromSample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v),
  );
}

/** Cumulative histogram buckets (`le` → count) of one series, from `<name>_bucket` samples. */
export function histogramBuckets(
  samples: readonly PromSample[],
  name: string,
  match: Record<string, string> = {},
): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const s of select(samples, `${name}_bucket`, match)) {
    const le = s.labels["le"] === "+Inf" ? Infinity : Number(s.labels["le"]);
    if (!Number.isNaN(le)) buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  return buckets;
}

/**
 * PromQL's `histogram_quantile` on cumulative buckets: linear interpolation inside the bucket
 * the rank falls in. Undefined (null) when the histogram is empty; the highest finite bound when
 * the rank lands in +Inf, as Prometheus does.
 */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      if (count === prevCount) return bound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / (count - prevCount);
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

/** Bucket counts of `now` minus `before`: the histogram of the observations in between. */
export function subtractBuckets(
  now: ReadonlyMap<number, number>,
  before: ReadonlyMap<number, number> | undefined,
): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, count] of now) out.set(le, Math.max(0, count - (before?.get(le) ?? 0)));
  return out;
}
