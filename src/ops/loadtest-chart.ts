import type { LoadtestReport, Quantiles } from "./loadtest.js";
import { SCALABLE_STAGES } from "./stages.js";

interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

const COLORS: Record<string, string> = {
  etl: "#1f77b4",
  embedding: "#ff7f0e",
  judge: "#2ca02c",
  publisher: "#d62728",
};
const WIDTH = 900;
const PANEL_HEIGHT = 190;
const MARGIN = { left: 60, right: 150, top: 28, bottom: 26 };

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * magnitude >= value) return m * magnitude;
  return 10 * magnitude;
}

function panel(title: string, unit: string, series: Series[], tMax: number, y0: number): string {
  const innerW = WIDTH - MARGIN.left - MARGIN.right;
  const innerH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1]))));
  const x = (t: number) => MARGIN.left + (innerW * t) / Math.max(1, tMax);
  const y = (v: number) => y0 + MARGIN.top + innerH - (innerH * v) / yMax;
  const parts: string[] = [
    `<text x="${MARGIN.left}" y="${y0 + 18}" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${MARGIN.left}" y="${y0 + MARGIN.top}" width="${innerW}" height="${innerH}" fill="none" stroke="#ccc"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + innerW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
    );
    parts.push(
      `<text x="${MARGIN.left - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${+v.toFixed(2)}</text>`,
    );
  }
  const tickEvery = niceMax(tMax / 8);
  for (let t = 0; t <= tMax; t += tickEvery) {
    parts.push(
      `<text x="${x(t)}" y="${y0 + PANEL_HEIGHT - 8}" font-size="10" text-anchor="middle">${t}s</text>`,
    );
  }
  parts.push(
    `<text x="12" y="${y0 + MARGIN.top + innerH / 2}" font-size="10" transform="rotate(-90 12 ${y0 + MARGIN.top + innerH / 2})" text-anchor="middle">${esc(unit)}</text>`,
  );
  series.forEach((s, i) => {
    if (s.points.length) {
      const d = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      parts.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ""} points="${d}"/>`,
      );
    }
    const ly = y0 + MARGIN.top + 12 + i * 15;
    const lx = MARGIN.left + innerW + 10;
    parts.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`,
    );
    parts.push(`<text x="${lx + 22}" y="${ly}" font-size="11">${esc(s.name)}</text>`);
  });
  return parts.join("\n");
}

/** Per-second rate of a cumulative counter sampled at irregular times. */
function rate(
  samples: LoadtestReport["samples"],
  pick: (s: LoadtestReport["samples"][number]) => number,
): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i]!.t - samples[i - 1]!.t;
    if (dt > 0)
      out.push([samples[i]!.t, Math.max(0, pick(samples[i]!) - pick(samples[i - 1]!)) / dt]);
  }
  return out;
}

/**
 * The load test as a hand-written SVG: throughput (offered, accepted, refused, finished), backlog
 * (lag + pending per stage, from /metrics), workers per stage (consumers in pipelineHealth; the
 * autoscaler's desired count dashed), and end-to-end latency of the items finishing each second.
 */
export function renderLoadtestSvg(report: LoadtestReport): string {
  const samples = report.samples;
  const tMax = Math.max(
    1,
    Math.ceil(Math.max(samples.at(-1)?.t ?? 0, report.completions.at(-1)?.t ?? 0)),
  );
  const panels: string[] = [];
  panels.push(
    panel(
      "Throughput",
      "items/s",
      [
        {
          name: "target",
          color: "#999",
          dashed: true,
          points: samples.map((s) => [s.t, s.targetRate]),
        },
        { name: "accepted", color: "#1f77b4", points: rate(samples, (s) => s.accepted) },
        {
          name: "refused (BACKPRESSURE)",
          color: "#d62728",
          points: rate(samples, (s) => s.refused),
        },
        {
          name: "finished",
          color: "#2ca02c",
          points: report.completions.map((c) => [c.t + 0.5, c.count]),
        },
      ],
      tMax,
      0,
    ),
  );
  panels.push(
    panel(
      "Backlog per stage (lag + pending)",
      "entries",
      SCALABLE_STAGES.map((stage) => ({
        name: stage,
        color: COLORS[stage]!,
        points: samples
          .filter((s) => s.lag[stage] !== undefined)
          .map((s) => [s.t, (s.lag[stage] ?? 0) + (s.pending[stage] ?? 0)] as [number, number]),
      })),
      tMax,
      PANEL_HEIGHT,
    ),
  );
  const hasDesired = samples.some((s) => Object.keys(s.desiredWorkers).length > 0);
  panels.push(
    panel(
      "Workers per stage (consumers in the group" +
        (hasDesired ? "; dashed: autoscaler's desired" : "") +
        ")",
      "workers",
      [
        ...SCALABLE_STAGES.map((stage) => ({
          name: stage,
          color: COLORS[stage]!,
          points: samples
            .filter((s) => s.consumers[stage] !== undefined)
            .map((s) => [s.t, s.consumers[stage]!] as [number, number]),
        })),
        ...(hasDesired
          ? SCALABLE_STAGES.map((stage) => ({
              name: `${stage} desired`,
              color: COLORS[stage]!,
              dashed: true,
              points: samples
                .filter((s) => s.desiredWorkers[stage] !== undefined)
                .map((s) => [s.t, s.desiredWorkers[stage]!] as [number, number]),
            }))
          : []),
      ],
      tMax,
      2 * PANEL_HEIGHT,
    ),
  );
  panels.push(
    panel(
      "End-to-end latency of items finishing each second (p50)",
      "seconds",
      [
        {
          name: "ingest → last step",
          color: "#9467bd",
          points: report.completions
            .filter((c) => c.p50Ms !== null)
            .map((c) => [c.t + 0.5, c.p50Ms! / 1000]),
        },
      ],
      tMax,
      3 * PANEL_HEIGHT,
    ),
  );
  const height = 4 * PANEL_HEIGHT;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${panels.join("\n")}\n</svg>\n`;
}

const ms = (v: number | null) =>
  v === null ? "–" : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`;
const row = (name: string, q: Quantiles) =>
  `<tr><td>${esc(name)}</td><td>${q.n}</td><td>${ms(q.p50)}</td><td>${ms(q.p95)}</td><td>${ms(q.p99)}</td><td>${ms(q.max)}</td></tr>`;

/** The SVG with the figures beside it, as one self-contained page. */
export function renderLoadtestHtml(report: LoadtestReport): string {
  const c = report.counts;
  const steps = report.steps.map((s) => `${s.rate}/s × ${s.seconds}s`).join(", ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trendgate load test ${esc(report.runId)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body>
<h1>Trendgate load test</h1>
<p>${esc(report.url)} — started ${esc(report.startedAt)} — load ${esc(steps)} (${report.loadSeconds.toFixed(1)} s), drain ${report.drainSeconds.toFixed(1)} s${report.drained ? "" : " (timed out before the backlog was empty)"}</p>
<table><tr><th>planned</th><th>sent</th><th>accepted</th><th>of which duplicates</th><th>refused (BACKPRESSURE)</th><th>invalid (BAD_USER_INPUT)</th><th>errors</th><th>settled</th><th>not settled</th></tr>
<tr><td>${c.planned}</td><td>${c.sent}</td><td>${c.accepted}</td><td>${c.duplicates}</td><td>${c.refusedBackpressure}</td><td>${c.invalid}</td><td>${c.errors}</td><td>${report.settled}</td><td>${report.notSettled}</td></tr></table>
<h2>Latency</h2>
<table><tr><th>stage (from the previous step)</th><th>n</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>
${row("ingest request (client)", report.ingestLatencyMs)}
${Object.entries(report.stageLatencyMs)
  .map(([s, q]) => row(s, q))
  .join("\n")}
${row("end to end", report.endToEndMs)}
</table>
<h2>Final states</h2>
<table><tr>${Object.keys(report.finalStates)
    .map((s) => `<th>${esc(s)}</th>`)
    .join("")}</tr><tr>${Object.values(report.finalStates)
    .map((n) => `<td>${n}</td>`)
    .join("")}</tr></table>
${renderLoadtestSvg(report)}
</body></html>
`;
}
