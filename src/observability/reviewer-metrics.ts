import { Gauge, type Registry } from "prom-client";

import type { Db } from "../db/database.js";
import { reviewerStats, type ReviewerStatsRow } from "../pipeline/review/reviewer-stats-queries.js";

type Figure = (row: ReviewerStatsRow) => number | null;

const GAUGES: [name: string, help: string, figure: Figure][] = [
  ["trendgate_reviewer_reviews", "Reviews recorded per reviewer (all time)", (r) => r.reviews],
  [
    "trendgate_reviewer_handling_seconds_median",
    "Median seconds from a reviewer's claim to their review",
    (r) => r.medianHandlingSeconds,
  ],
  [
    "trendgate_reviewer_agreement_ratio",
    "Share of a reviewer's decided reviews agreeing with the final decision",
    (r) => r.agreementRate,
  ],
  [
    "trendgate_reviewer_overturned_on_appeal",
    "A reviewer's decisions that an appeal reversed",
    (r) => r.overturnedOnAppeal,
  ],
  [
    "trendgate_reviewer_audit_agreement_ratio",
    "Share of a reviewer's audit-sample reviews agreeing with the final decision",
    (r) => r.auditAgreementRate,
  ],
];

/**
 * reviewerStats (issue 14, item 7) as Prometheus gauges, read from Postgres at scrape time by
 * the same query as the GraphQL field, so the two never disagree. A figure that is not defined
 * yet (no claim before a review, no audit sample) is left out rather than exported as 0.
 */
export function registerReviewerMetrics(registry: Registry, db: Db): void {
  let reading: Promise<ReviewerStatsRow[]> | undefined;
  // The gauges of one scrape share one query. A failure leaves them empty, not the whole scrape
  // failed: the stream and stage figures matter most when the database is in trouble.
  const rows = () => {
    reading ??= reviewerStats(db)
      .catch(() => [])
      .finally(() => setImmediate(() => (reading = undefined)));
    return reading;
  };
  for (const [name, help, figure] of GAUGES) {
    new Gauge({
      name,
      help,
      labelNames: ["reviewer_id", "reviewer_name"],
      registers: [registry],
      async collect() {
        const all = await rows();
        this.reset();
        for (const row of all) {
          const value = figure(row);
          if (value !== null)
            this.set({ reviewer_id: row.reviewerId, reviewer_name: row.reviewerName }, value);
        }
      },
    });
  }
}
