import type { JudgeStatsQuery } from "../../api/judge-documents.js";
import type { ResultOf } from "../../graphql.js";

export type StatsBucket = ResultOf<typeof JudgeStatsQuery>["judgeStats"][number];

/** The rates the Judge page draws, each over time with one line per policy version. */
export const RATE_METRICS = [
  {
    key: "escalationRate",
    label: "Escalation rate",
    help: "share of judged items sent to a moderator",
  },
  { key: "autoPublishRate", label: "Auto-publish rate", help: "share published without a human" },
  { key: "autoRejectRate", label: "Auto-reject rate", help: "share rejected without a human" },
  {
    key: "auditDisagreementRate",
    label: "Audit-sample disagreement",
    help: "resolved audit samples a moderator rejected",
  },
  {
    key: "overturnRate",
    label: "Moderator overturns",
    help: "resolved escalations decided against the Judge's lean",
  },
] as const;

export type RateKey = (typeof RATE_METRICS)[number]["key"];

export interface Point {
  /** Bucket start, epoch ms. */
  x: number;
  y: number;
}

export interface VersionSeries {
  /** null: decisions made before policy versions were recorded. */
  version: number | null;
  points: Point[];
}

/** One series per policy version for `metric`; buckets without a value (no audit yet) are gaps. */
export function seriesByVersion(
  buckets: readonly StatsBucket[],
  metric: RateKey | "judged",
): VersionSeries[] {
  const byVersion = new Map<number | null, Point[]>();
  for (const b of buckets) {
    const y = b[metric];
    if (y === null || y === undefined) continue;
    const points = byVersion.get(b.policyVersion) ?? [];
    points.push({ x: Date.parse(b.start), y });
    byVersion.set(b.policyVersion, points);
  }
  return [...byVersion.entries()]
    .sort(([a], [b]) => (a ?? -1) - (b ?? -1))
    .map(([version, points]) => ({ version, points: points.sort((p, q) => p.x - q.x) }));
}

export interface VersionTotals {
  version: number | null;
  judged: number;
  escalationRate: number;
  autoPublishRate: number;
  autoRejectRate: number;
  auditResolved: number;
  auditDisagreementRate: number | null;
  resolved: number;
  overturns: number;
  overturnRate: number | null;
}

/** The whole window per policy version: rates weighted by each bucket's item counts. */
export function totalsByVersion(buckets: readonly StatsBucket[]): VersionTotals[] {
  const acc = new Map<
    number | null,
    {
      judged: number;
      escalated: number;
      published: number;
      rejected: number;
      auditResolved: number;
      auditRejected: number;
      resolved: number;
      overturns: number;
    }
  >();
  for (const b of buckets) {
    const t = acc.get(b.policyVersion) ?? {
      judged: 0,
      escalated: 0,
      published: 0,
      rejected: 0,
      auditResolved: 0,
      auditRejected: 0,
      resolved: 0,
      overturns: 0,
    };
    t.judged += b.judged;
    t.escalated += b.escalationRate * b.judged;
    t.published += b.autoPublishRate * b.judged;
    t.rejected += b.autoRejectRate * b.judged;
    t.auditResolved += b.auditResolved;
    t.auditRejected += (b.auditDisagreementRate ?? 0) * b.auditResolved;
    t.resolved += b.resolved;
    t.overturns += b.overturns;
    acc.set(b.policyVersion, t);
  }
  return [...acc.entries()]
    .sort(([a], [b]) => (b ?? -1) - (a ?? -1))
    .map(([version, t]) => ({
      version,
      judged: t.judged,
      escalationRate: t.escalated / t.judged,
      autoPublishRate: t.published / t.judged,
      autoRejectRate: t.rejected / t.judged,
      auditResolved: t.auditResolved,
      auditDisagreementRate: t.auditResolved ? t.auditRejected / t.auditResolved : null,
      resolved: t.resolved,
      overturns: t.overturns,
      overturnRate: t.resolved ? t.overturns / t.resolved : null,
    }));
}

export function versionLabel(version: number | null): string {
  return version === null ? "unversioned" : `v${version}`;
}

export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(digits)} %`;
}
