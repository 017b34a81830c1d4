import { niceMax, type TimeDomain, timeTicks } from "./chart-scale.js";
import { type Point, versionLabel, type VersionSeries } from "./judge-series.js";

/**
 * Small hand-rolled SVG charts: a handful of buckets per chart needs no chart library. Each
 * policy version keeps one colour and one dash pattern in every chart, so a line is told apart
 * without colour too; the figures themselves are also in the page's per-version table.
 */
const WIDTH = 420;
const HEIGHT = 190;
const PAD = { left: 44, right: 12, top: 10, bottom: 28 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;

const COLOURS = ["#2f5597", "#b3261e", "#1b7a3a", "#7b3fa0", "#a85d00", "#00707a"];
const DASHES = ["", "7 4", "2 3", "10 3 2 3"];

export function versionStyle(version: number | null): { colour: string; dash: string } {
  const i = version === null ? 0 : version - 1;
  return {
    colour: COLOURS[((i % COLOURS.length) + COLOURS.length) % COLOURS.length]!,
    dash: DASHES[Math.floor(Math.abs(i) / COLOURS.length) % DASHES.length]!,
  };
}

const xOf = (x: number, d: TimeDomain) =>
  PAD.left + ((x + d.bucketMs / 2 - d.from) / Math.max(d.to - d.from, 1)) * PLOT_W;
const yOf = (y: number, max: number) => PAD.top + PLOT_H - (y / max) * PLOT_H;

function tickLabel(ms: number, d: TimeDomain): string {
  const date = new Date(ms);
  return d.to - d.from > 36 * 3600_000
    ? date.toLocaleDateString([], { month: "short", day: "numeric" })
    : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function Axes({
  domain,
  max,
  format,
}: {
  domain: TimeDomain;
  max: number;
  format(v: number): string;
}) {
  const ys = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  return (
    <g class="axes" aria-hidden="true">
      {ys.map((y) => (
        <g key={y}>
          <line
            x1={PAD.left}
            x2={WIDTH - PAD.right}
            y1={yOf(y, max)}
            y2={yOf(y, max)}
            class="grid"
          />
          <text x={PAD.left - 6} y={yOf(y, max) + 4} text-anchor="end">
            {format(y)}
          </text>
        </g>
      ))}
      {timeTicks(domain).map((t) => {
        const x = PAD.left + ((t - domain.from) / Math.max(domain.to - domain.from, 1)) * PLOT_W;
        return (
          <g key={t}>
            <line x1={x} x2={x} y1={PAD.top + PLOT_H} y2={PAD.top + PLOT_H + 4} class="grid" />
            <text
              x={x}
              y={HEIGHT - 8}
              text-anchor={
                x - PAD.left < 20 ? "start" : WIDTH - PAD.right - x < 20 ? "end" : "middle"
              }
            >
              {tickLabel(t, domain)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

function Legend({ series }: { series: VersionSeries[] }) {
  return (
    <ul class="legend" aria-label="Policy versions">
      {series.map((s) => {
        const { colour, dash } = versionStyle(s.version);
        return (
          <li key={String(s.version)}>
            <svg width="26" height="10" aria-hidden="true">
              <line
                x1="1"
                x2="25"
                y1="5"
                y2="5"
                stroke={colour}
                stroke-width="2.5"
                stroke-dasharray={dash}
              />
            </svg>
            policy {versionLabel(s.version)}
          </li>
        );
      })}
    </ul>
  );
}

interface ChartProps {
  id: string;
  title: string;
  help: string;
  series: VersionSeries[];
  domain: TimeDomain;
  /** Text for screen readers: the latest value per version. */
  summary: string;
}

const pct = (v: number) => `${Math.round(v * 100)}%`;

/** A rate (0–1) over time, one line per policy version; single buckets show as dots. */
export function RateLineChart({ id, title, help, series, domain, summary }: ChartProps) {
  const points = (p: Point[]) =>
    p.map((q) => `${xOf(q.x, domain).toFixed(1)},${yOf(q.y, 1).toFixed(1)}`).join(" ");
  return (
    <figure
      class="chart"
      data-testid={`chart-${id}`}
      data-points={series.reduce((n, s) => n + s.points.length, 0)}
    >
      <figcaption id={`${id}-title`}>
        <strong>{title}</strong> <span class="muted">— {help}</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-desc`}
      >
        <desc id={`${id}-desc`}>{summary}</desc>
        <Axes domain={domain} max={1} format={pct} />
        {series.map((s) => {
          const { colour, dash } = versionStyle(s.version);
          return (
            <g key={String(s.version)} data-version={s.version ?? ""}>
              {s.points.length > 1 && (
                <polyline
                  points={points(s.points)}
                  fill="none"
                  stroke={colour}
                  stroke-width="2"
                  stroke-dasharray={dash}
                />
              )}
              {s.points.map((p) => (
                <circle key={p.x} cx={xOf(p.x, domain)} cy={yOf(p.y, 1)} r="3.5" fill={colour}>
                  <title>{`${versionLabel(s.version)} · ${new Date(p.x).toLocaleString()} · ${pct(p.y)}`}</title>
                </circle>
              ))}
            </g>
          );
        })}
      </svg>
      <Legend series={series} />
    </figure>
  );
}

/** Items judged per bucket, stacked by policy version. */
export function VolumeBarChart({ id, title, help, series, domain, summary }: ChartProps) {
  const stacks = new Map<number, { version: number | null; y: number }[]>();
  for (const s of series)
    for (const p of s.points)
      stacks.set(p.x, [...(stacks.get(p.x) ?? []), { version: s.version, y: p.y }]);
  const max = niceMax(
    Math.max(...[...stacks.values()].map((parts) => parts.reduce((n, p) => n + p.y, 0))),
  );
  const buckets = Math.max(1, Math.round((domain.to - domain.from) / domain.bucketMs));
  const barW = Math.max(3, Math.min(40, (PLOT_W / buckets) * 0.7));
  return (
    <figure class="chart" data-testid={`chart-${id}`} data-points={stacks.size}>
      <figcaption id={`${id}-title`}>
        <strong>{title}</strong> <span class="muted">— {help}</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-desc`}
      >
        <desc id={`${id}-desc`}>{summary}</desc>
        <Axes domain={domain} max={max} format={(v) => String(Math.round(v))} />
        {[...stacks.entries()].map(([x, parts]) => {
          let base = 0;
          return parts.map((part) => {
            const { colour } = versionStyle(part.version);
            const y0 = base;
            base += part.y;
            return (
              <rect
                key={`${x}-${String(part.version)}`}
                x={xOf(x, domain) - barW / 2}
                width={barW}
                y={yOf(base, max)}
                height={yOf(y0, max) - yOf(base, max)}
                fill={colour}
              >
                <title>{`${versionLabel(part.version)} · ${new Date(x).toLocaleString()} · ${part.y} judged`}</title>
              </rect>
            );
          });
        })}
      </svg>
      <Legend series={series} />
    </figure>
  );
}
