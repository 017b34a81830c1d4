import { Counter, Gauge, type Registry } from "prom-client";

export interface AutoscaleMetrics {
  desired: Gauge<"stage">;
  actual: Gauge<"stage">;
  ratePerWorker: Gauge<"stage">;
  events: Counter<"stage" | "direction">;
}

/**
 * The autoscaler's figures, on whichever registry serves them: the local supervisor's own
 * `/metrics` (`trendgate start --autoscale`), or a gateway's MetricsRegistry.registry.
 */
export function registerAutoscaleMetrics(registry: Registry): AutoscaleMetrics {
  return {
    desired: new Gauge({
      name: "trendgate_autoscale_desired_workers",
      help: "Workers the autoscaler wants per stage, from lag and processing rate",
      labelNames: ["stage"],
      registers: [registry],
    }),
    actual: new Gauge({
      name: "trendgate_autoscale_workers",
      help: "Worker processes running per stage",
      labelNames: ["stage"],
      registers: [registry],
    }),
    ratePerWorker: new Gauge({
      name: "trendgate_autoscale_rate_per_worker",
      help: "Entries one worker finishes per second, as last measured under load",
      labelNames: ["stage"],
      registers: [registry],
    }),
    events: new Counter({
      name: "trendgate_autoscale_events_total",
      help: "Scale-ups and scale-downs applied",
      labelNames: ["stage", "direction"],
      registers: [registry],
    }),
  };
}
