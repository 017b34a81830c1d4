import type { ConsumerMetrics } from "../workers/runtime/consumer-metrics.js";
import type { MetricsRegistry } from "./metrics.js";

/** What a stream consumer reports, counted in the registry's stage-labelled series. */
export function consumerMetricsOf(metrics: MetricsRegistry): ConsumerMetrics {
  return {
    processed: (stage, ms) => {
      metrics.processed.inc({ stage });
      metrics.latency.observe({ stage }, ms / 1000);
    },
    failed: (stage) => metrics.failed.inc({ stage }),
    retried: (stage) => metrics.retried.inc({ stage }),
    deadLettered: (stage) => metrics.deadLettered.inc({ stage }),
    reclaimed: (stage, n) => metrics.reclaimed.inc({ stage }, n),
    consumersRemoved: (stage, n) => metrics.consumersRemoved.inc({ stage }, n),
  };
}
