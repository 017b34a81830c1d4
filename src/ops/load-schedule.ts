import { LoadtestError } from "./loadtest-error.js";

/** One step of a load schedule: a rate held for a number of seconds. */
export interface LoadStep {
  /** Items per second. */
  rate: number;
  seconds: number;
}

export function parseSteps(text: string): LoadStep[] {
  const steps = text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [rate, seconds] = part.split(":").map(Number);
      if (!Number.isFinite(rate) || !Number.isFinite(seconds) || rate! <= 0 || seconds! <= 0) {
        throw new LoadtestError(
          "LOADTEST_BAD_OPTIONS",
          `--steps: "${part}" must be rate:seconds with both above 0`,
        );
      }
      return { rate: rate!, seconds: seconds! };
    });
  if (steps.length === 0)
    throw new LoadtestError("LOADTEST_BAD_OPTIONS", "--steps must hold at least one rate:seconds");
  return steps;
}

/** Items due by `seconds` into the schedule (the integral of the stepped rate). */
export function dueBy(steps: readonly LoadStep[], seconds: number): number {
  let due = 0;
  let t = 0;
  for (const step of steps) {
    const span = Math.min(step.seconds, Math.max(0, seconds - t));
    due += step.rate * span;
    t += step.seconds;
    if (seconds <= t) break;
  }
  return Math.floor(due + 1e-9);
}

export function rateAt(steps: readonly LoadStep[], seconds: number): number {
  let t = 0;
  for (const step of steps) {
    t += step.seconds;
    if (seconds < t) return step.rate;
  }
  return 0;
}
