import { type Logger, pino } from "pino";

export type { Logger };

/**
 * JSON logs. Pipeline lines carry `trace_id`, `enriched_trend_id`, `planner_intent` and, for
 * model steps, `worker_output_prompt` (DESIGN.md); callers bind them with `logger.child`.
 */
export function createLogger(level: string, name = "trendgate"): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid, service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
