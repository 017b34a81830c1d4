import { useState } from "preact/hooks";

import { ReviewerStatsQuery } from "../../api/review-documents.js";
import type { ResultOf } from "../../graphql.js";
import type { Session } from "../../state/session.js";
import { ErrorLine } from "../error-line.js";
import { usePolled } from "../use-polled.js";
import { HorizontalBarChart } from "./bar-chart.js";

type Row = ResultOf<typeof ReviewerStatsQuery>["reviewerStats"][number];

const REFRESH_MS = 30_000;
const WINDOWS = [
  { id: "24h", label: "Last 24 hours", hours: 24 },
  { id: "7d", label: "Last 7 days", hours: 168 },
  { id: "30d", label: "Last 30 days", hours: 720 },
  { id: "all", label: "All time", hours: null },
] as const;

const percent = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(0)} %`);

/** Seconds as the page shows them: 45 s, 3.2 min, 1.5 h. */
export function duration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * Reviewer figures (issue 14, item 7): operators see every reviewer, a moderator only their own
 * (the API decides). The same figures are Prometheus gauges (trendgate_reviewer_*).
 */
export function ReviewerStatsView({ session }: { session: Session }) {
  const operator = session.me.role === "OPERATOR";
  const [windowId, setWindowId] = useState<(typeof WINDOWS)[number]["id"]>("7d");
  const win = WINDOWS.find((w) => w.id === windowId)!;
  const stats = usePolled(
    () => {
      const since =
        win.hours === null
          ? null
          : new Date(session.client.serverNow() - win.hours * 3600_000).toISOString();
      return session.client.request(ReviewerStatsQuery, { since }).then((r) => r.reviewerStats);
    },
    REFRESH_MS,
    [windowId],
  );
  const rows = stats.value ?? [];
  const bars = (figure: (r: Row) => number | null) =>
    rows.map((r) => ({ key: r.reviewer.id, label: r.reviewer.name, value: figure(r) }));

  return (
    <section aria-labelledby="reviewers-h" class="judge">
      <h2 id="reviewers-h">Reviewers</h2>
      <p class="muted">
        {operator ? "Every reviewer's work" : "Your own work"}: reviews, time from claim to
        decision, agreement with the final outcome, decisions reversed on appeal. Refreshes every{" "}
        {REFRESH_MS / 1000} s.
      </p>
      <div class="toolbar">
        <label>
          Window{" "}
          <select
            value={windowId}
            onChange={(e) => setWindowId((e.target as HTMLSelectElement).value as typeof windowId)}
            data-testid="reviewers-window"
          >
            {WINDOWS.map((w) => (
              <option key={w.id} value={w.id}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorLine error={stats.error} />
      {stats.value && rows.length === 0 && (
        <p class="muted" data-testid="reviewers-none">
          No reviews in this window.
        </p>
      )}
      {rows.length > 0 && (
        <>
          <div class="chart-grid">
            <HorizontalBarChart
              id="reviews"
              title="Reviews"
              help="decisions recorded"
              bars={bars((r) => r.reviews)}
              format={(v) => String(Math.round(v))}
            />
            <HorizontalBarChart
              id="handling"
              title="Median handling time"
              help="claim → review"
              bars={bars((r) => r.medianHandlingSeconds)}
              format={duration}
            />
            <HorizontalBarChart
              id="agreement"
              title="Agreement"
              help="with the final outcome"
              bars={bars((r) => r.agreementRate)}
              max={1}
              format={percent}
            />
          </div>
          <table data-testid="reviewers-table">
            <caption>Per reviewer ({win.label.toLowerCase()})</caption>
            <thead>
              <tr>
                <th scope="col">Reviewer</th>
                <th scope="col">Reviews</th>
                <th scope="col">Median handling</th>
                <th scope="col">Agreement</th>
                <th scope="col">Overturned on appeal</th>
                <th scope="col">Audit-sample agreement</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr
                  key={r.reviewer.id}
                  data-testid="reviewer-row"
                  data-reviewer={r.reviewer.name}
                  data-reviews={r.reviews}
                >
                  <th scope="row">
                    {r.reviewer.name} <span class="muted">({r.reviewer.id.slice(0, 8)})</span>
                  </th>
                  <td>{r.reviews}</td>
                  <td>{duration(r.medianHandlingSeconds)}</td>
                  <td>
                    {percent(r.agreementRate)} <span class="muted">of {r.decided}</span>
                  </td>
                  <td data-testid="overturned">{r.overturnedOnAppeal}</td>
                  <td>
                    {r.auditSamples ? `${percent(r.auditAgreementRate)} of ${r.auditSamples}` : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
