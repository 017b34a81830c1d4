/** The time axis of the Judge page's charts: whole buckets from the window's start to now. */
export interface TimeDomain {
  from: number;
  to: number;
  bucketMs: number;
}

/** From the bucket holding `since` to the end of the bucket holding `now` (epoch ms). */
export function domainOf(since: number, now: number, bucketMinutes: number): TimeDomain {
  const bucketMs = bucketMinutes * 60_000;
  return {
    from: Math.floor(since / bucketMs) * bucketMs,
    to: Math.ceil(now / bucketMs) * bucketMs,
    bucketMs,
  };
}

const MINUTE = 60_000;
/** Round tick spacings, so labels read 06:00, 12:00, … rather than 07:00, 14:00. */
const NICE_STEPS = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10_080].map(
  (m) => m * MINUTE,
);

/** Four to five ticks on round multiples (UTC-aligned) of a step no finer than one bucket. */
export function timeTicks(d: TimeDomain): number[] {
  const wanted = Math.max((d.to - d.from) / 5, d.bucketMs);
  const step =
    NICE_STEPS.find((s) => s >= wanted) ??
    Math.ceil(wanted / NICE_STEPS.at(-1)!) * NICE_STEPS.at(-1)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(d.from / step) * step; t <= d.to; t += step) ticks.push(t);
  return ticks;
}

/** The smallest of 1, 2, 4, 5 × 10^k at or above `max`, so count axes tick on round numbers. */
export function niceMax(max: number): number {
  if (!(max > 1)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 4, 5, 10].map((f) => f * magnitude).find((m) => m >= max)!;
}
