import { useState } from "preact/hooks";

import { JudgePolicyQuery, JudgeStatsQuery } from "../../api/judge-documents.js";
import type { ResultOf } from "../../graphql.js";
import type { Session } from "../../state/session.js";
import { ErrorLine } from "../error-line.js";
import { timeAgo } from "../format.js";
import { usePolled } from "../use-polled.js";
import { CalibrationPanel } from "./calibration-panel.js";
import { domainOf, type TimeDomain } from "./chart-scale.js";
import {
  percent,
  RATE_METRICS,
  seriesByVersion,
  type StatsBucket,
  totalsByVersion,
  versionLabel,
  type VersionSeries,
} from "./judge-series.js";
import { RateLineChart, VolumeBarChart } from "./svg-charts.js";

type PolicyVersion = ResultOf<typeof JudgePolicyQuery>["judgePolicy"];

const REFRESH_MS = 15_000;
const WINDOWS = [
  { id: "1h", label: "Last hour, 5-minute buckets", hours: 1, bucketMinutes: 5 },
  { id: "24h", label: "Last 24 hours, hourly", hours: 24, bucketMinutes: 60 },
  { id: "7d", label: "Last 7 days, 6-hour buckets", hours: 168, bucketMinutes: 360 },
  { id: "30d", label: "Last 30 days, daily", hours: 720, bucketMinutes: 1440 },
] as const;

/**
 * The Judge page: its rates over time per policy version, the policy in force and its history
 * for operators and viewers; the calibration proposal, simulation and apply for operators only.
 */
export function JudgeView({ session }: { session: Session }) {
  const operator = session.me.role === "OPERATOR";
  const [windowId, setWindowId] = useState<(typeof WINDOWS)[number]["id"]>("24h");
  const win = WINDOWS.find((w) => w.id === windowId)!;
  const stats = usePolled(
    () => {
      const since = new Date(session.client.serverNow() - win.hours * 3600_000).toISOString();
      return session.client
        .request(JudgeStatsQuery, { since, bucketMinutes: win.bucketMinutes })
        .then((r) => ({ since, buckets: r.judgeStats }));
    },
    REFRESH_MS,
    [windowId],
  );
  // Thresholds and blocked patterns are policy internals (issue 12): a viewer sees the rates only.
  const policies = usePolled(
    () =>
      operator
        ? session.client.request(JudgePolicyQuery, { first: 20 })
        : Promise.resolve(undefined),
    REFRESH_MS,
  );
  const active = policies.value?.judgePolicy;

  return (
    <section aria-labelledby="judge-h" class="judge">
      <h2 id="judge-h">Judge</h2>
      <p class="muted">
        What the Judge decides by itself and what it sends to moderators, per policy version.
        Refreshes every {REFRESH_MS / 1000} s.
      </p>

      <section aria-labelledby="judge-trends-h">
        <h3 id="judge-trends-h">Over time</h3>
        <div class="toolbar">
          <label>
            Window{" "}
            <select
              value={windowId}
              onChange={(e) =>
                setWindowId((e.target as HTMLSelectElement).value as typeof windowId)
              }
              data-testid="judge-window"
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
        {stats.value && (
          <StatsCharts
            buckets={stats.value.buckets}
            domain={domainOf(
              Date.parse(stats.value.since),
              session.client.serverNow(),
              win.bucketMinutes,
            )}
          />
        )}
      </section>

      <section aria-labelledby="judge-active-h">
        <h3 id="judge-active-h">Policy in force</h3>
        <ErrorLine error={policies.error} />
        {active && <ActivePolicy version={active} />}
        {!operator && (
          <p class="muted" data-testid="policy-restricted">
            The policy's thresholds, blocked lists and history are shown to operators only.
          </p>
        )}
      </section>

      <section aria-labelledby="judge-calibration-h">
        <h3 id="judge-calibration-h">Calibration from moderator decisions</h3>
        {operator && active && (
          <CalibrationPanel
            session={session}
            activePolicy={active.policy as Record<string, unknown>}
            onApplied={() => policies.refresh()}
          />
        )}
        {!operator && (
          <p class="muted" data-testid="calibration-read-only">
            Proposals, simulations and applying a policy need an operator key.
          </p>
        )}
      </section>

      {operator && (
        <section aria-labelledby="judge-history-h">
          <h3 id="judge-history-h">History</h3>
          {policies.value && <PolicyHistory versions={policies.value.judgePolicyHistory} />}
        </section>
      )}
    </section>
  );
}

function latestSummary(series: VersionSeries[], format: (v: number) => string): string {
  if (!series.length) return "No data in this window.";
  return series
    .map(
      (s) =>
        `policy ${versionLabel(s.version)}: latest ${format(s.points.at(-1)!.y)} over ${s.points.length} buckets`,
    )
    .join("; ");
}

function StatsCharts({ buckets, domain }: { buckets: StatsBucket[]; domain: TimeDomain }) {
  if (!buckets.length)
    return (
      <p class="muted" data-testid="judge-empty">
        No items were judged in this window.
      </p>
    );
  const volume = seriesByVersion(buckets, "judged");
  return (
    <>
      <div class="chart-grid">
        <VolumeBarChart
          id="judged"
          title="Items judged"
          help="per bucket, by policy version"
          series={volume}
          domain={domain}
          summary={latestSummary(volume, String)}
        />
        {RATE_METRICS.map((m) => {
          const series = seriesByVersion(buckets, m.key);
          return (
            <RateLineChart
              key={m.key}
              id={m.key}
              title={m.label}
              help={m.help}
              series={series}
              domain={domain}
              summary={latestSummary(series, (v) => percent(v))}
            />
          );
        })}
      </div>
      <VersionTotalsTable buckets={buckets} />
      <BucketTable buckets={buckets} />
    </>
  );
}

function VersionTotalsTable({ buckets }: { buckets: StatsBucket[] }) {
  return (
    <table data-testid="judge-totals">
      <caption>The whole window per policy version</caption>
      <thead>
        <tr>
          <th scope="col">Policy</th>
          <th scope="col">Judged</th>
          <th scope="col">Escalated</th>
          <th scope="col">Auto-published</th>
          <th scope="col">Auto-rejected</th>
          <th scope="col">Audit disagreement (resolved)</th>
          <th scope="col">Overturns (resolved)</th>
        </tr>
      </thead>
      <tbody>
        {totalsByVersion(buckets).map((t) => (
          <tr
            key={String(t.version)}
            data-testid="judge-totals-row"
            data-version={t.version ?? ""}
            data-judged={t.judged}
          >
            <th scope="row">{versionLabel(t.version)}</th>
            <td>{t.judged}</td>
            <td>{percent(t.escalationRate)}</td>
            <td>{percent(t.autoPublishRate)}</td>
            <td>{percent(t.autoRejectRate)}</td>
            <td>
              {percent(t.auditDisagreementRate)} ({t.auditResolved})
            </td>
            <td>
              {percent(t.overturnRate)} ({t.overturns} of {t.resolved})
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Every point of the charts as text, for keyboard and screen-reader users (and exact values). */
function BucketTable({ buckets }: { buckets: StatsBucket[] }) {
  return (
    <details class="bucket-figures">
      <summary>Figures per bucket ({buckets.length})</summary>
      <table data-testid="judge-buckets">
        <caption class="sr-only">The charts' figures per time bucket and policy version</caption>
        <thead>
          <tr>
            <th scope="col">Bucket start</th>
            <th scope="col">Policy</th>
            <th scope="col">Judged</th>
            {RATE_METRICS.map((m) => (
              <th key={m.key} scope="col">
                {m.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {buckets.map((b) => (
            <tr key={`${b.start}-${String(b.policyVersion)}`}>
              <td>{new Date(b.start).toLocaleString()}</td>
              <td>{versionLabel(b.policyVersion)}</td>
              <td>{b.judged}</td>
              {RATE_METRICS.map((m) => (
                <td key={m.key}>{percent(b[m.key])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function thresholdsOf(policy: unknown): Record<string, number> {
  return ((policy as { thresholds?: Record<string, number> } | null)?.thresholds ?? {}) as Record<
    string,
    number
  >;
}

function ActivePolicy({ version: v }: { version: PolicyVersion }) {
  const t = thresholdsOf(v.policy);
  return (
    <div class="panel active-policy" data-testid="active-policy" data-version={v.version}>
      <p>
        <strong data-testid="active-version">Version {v.version}</strong> ·{" "}
        {v.origin === "operator" ? "applied by" : "from the configuration,"}{" "}
        <strong>{v.createdBy.name}</strong>{" "}
        <time dateTime={v.createdAt} title={new Date(v.createdAt).toLocaleString()}>
          {timeAgo(v.createdAt)}
        </time>
      </p>
      <p data-testid="active-justification">
        <span class="muted">Why:</span> {v.justification || "—"}
      </p>
      <dl class="scores">
        <div>
          <dt>Minimum confidence</dt>
          <dd data-testid="active-minConfidence">{t.minConfidence ?? "—"}</dd>
        </div>
        <div>
          <dt>Maximum toxicity</dt>
          <dd data-testid="active-maxToxicity">{t.maxToxicity ?? "—"}</dd>
        </div>
        <div>
          <dt>Toxicity ceiling</dt>
          <dd data-testid="active-toxicityCeiling">{t.toxicityCeiling ?? "—"}</dd>
        </div>
      </dl>
    </div>
  );
}

function PolicyHistory({ versions }: { versions: PolicyVersion[] }) {
  return (
    <table data-testid="policy-history">
      <caption class="sr-only">Stored policy versions, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">When</th>
          <th scope="col">By</th>
          <th scope="col">Thresholds (confidence / toxicity / ceiling)</th>
          <th scope="col">Justification</th>
          <th scope="col">Simulated escalation rate when applied</th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v) => {
          const t = thresholdsOf(v.policy);
          const sim = v.simulation as {
            items?: number;
            active?: { escalationRate?: number };
            proposed?: { escalationRate?: number };
          } | null;
          return (
            <tr key={v.version} data-testid="history-row" data-version={v.version}>
              <td>v{v.version}</td>
              <td>{new Date(v.createdAt).toLocaleString()}</td>
              <td>
                {v.createdBy.name} <span class="muted">({v.origin})</span>
              </td>
              <td>
                {t.minConfidence ?? "—"} / {t.maxToxicity ?? "—"} / {t.toxicityCeiling ?? "—"}
              </td>
              <td>{v.justification}</td>
              <td>
                {sim?.proposed
                  ? `${percent(sim.active?.escalationRate)} → ${percent(sim.proposed.escalationRate)} on ${sim.items ?? 0} items`
                  : "—"}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
