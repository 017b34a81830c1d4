import type { ReliabilityBin } from "../../nlp/calibration-metrics.js";
import type { Evaluation } from "./evaluate.js";

/**
 * Self-contained SVG charts for `judge evaluate` (no script, no external fonts or styles), so
 * they open in any browser and can be committed next to the figures they show.
 */

const W = 380;
const H = 380;
const M = { left: 52, right: 16, top: 40, bottom: 48 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

function esc(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c] ?? c,
  );
}

function axes(x0: number, title: string, xLabel: string, yLabel: string, yMax: number): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const parts = [
    `<text x="${x0 + W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${x0 + M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#999"/>`,
    `<text x="${x0 + M.left + PW / 2}" y="${H - 10}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`,
    `<text transform="translate(${x0 + 14},${M.top + PH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`,
  ];
  for (const t of ticks) {
    const x = x0 + M.left + t * PW;
    const y = M.top + PH - t * PH;
    parts.push(
      `<text x="${x}" y="${M.top + PH + 16}" text-anchor="middle" font-size="10">${t}</text>`,
    );
    parts.push(
      `<text x="${x0 + M.left - 6}" y="${y + 3}" text-anchor="end" font-size="10">${round(t * yMax)}</text>`,
    );
    parts.push(
      `<line x1="${x0 + M.left}" x2="${x0 + M.left + PW}" y1="${y}" y2="${y}" stroke="#eee"/>`,
    );
  }
  return parts.join("\n");
}

function reliabilityPanel(
  x0: number,
  title: string,
  bins: readonly ReliabilityBin[],
  ece: number,
  what: string,
): string {
  const total = bins.reduce((s, b) => s + b.count, 0) || 1;
  const px = (v: number) => x0 + M.left + v * PW;
  const py = (v: number) => M.top + PH - v * PH;
  const parts = [axes(x0, title, `predicted ${what}`, "observed rate", 1)];
  parts.push(
    `<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#888" stroke-dasharray="4 3"/>`,
  );
  // Bars: the share of items in each bin (how much the point below weighs).
  for (const b of bins) {
    const h = (b.count / total) * PH * 0.35;
    parts.push(
      `<rect x="${px(b.lower) + 1}" y="${M.top + PH - h}" width="${PW / bins.length - 2}" height="${h}" fill="#cfe0f3"><title>${b.count} items</title></rect>`,
    );
  }
  const points = bins.filter((b) => b.count > 0);
  parts.push(
    `<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="${points.map((b) => `${px(b.meanPredicted)},${py(b.observedRate)}`).join(" ")}"/>`,
  );
  for (const b of points) {
    parts.push(
      `<circle cx="${px(b.meanPredicted)}" cy="${py(b.observedRate)}" r="3.5" fill="#1f5fa8"><title>${b.count} items: predicted ${round(b.meanPredicted)}, observed ${round(b.observedRate)}</title></circle>`,
    );
  }
  parts.push(
    `<text x="${px(0.04)}" y="${py(0.92)}" font-size="12">ECE ${round(ece)} (10 bins, n=${total})</text>`,
  );
  return parts.join("\n");
}

function svg(width: number, body: string, note: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 24}" viewBox="0 0 ${width} ${H + 24}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${body}
<text x="8" y="${H + 16}" font-size="10" fill="#555">${esc(note)}</text>
</svg>
`;
}

/** Two panels: confidence against "decision upheld", and toxicityScore against "toxic". */
export function reliabilitySvg(evaluation: Evaluation, note: string): string {
  return svg(
    2 * W,
    reliabilityPanel(
      0,
      "Confidence: is the automatic decision right?",
      evaluation.reliability.confidence,
      evaluation.ece,
      "confidence",
    ) +
      "\n" +
      reliabilityPanel(
        W,
        "Toxicity: is the item toxic?",
        evaluation.reliability.toxicity,
        evaluation.toxicity_ece,
        "P(toxic)",
      ),
    note,
  );
}

/** Escalated share (human workload) against toxic items published (leak), minConfidence swept. */
export function workloadSvg(
  evaluation: Evaluation,
  currentMinConfidence: number,
  note: string,
): string {
  const pts = evaluation.workload;
  const yMax = Math.max(0.02, ...pts.map((p) => p.toxic_published_rate)) * 1.05;
  const px = (v: number) => M.left + v * PW;
  const py = (v: number) => M.top + PH - (v / yMax) * PH;
  const parts = [
    axes(
      0,
      "Workload vs leak (minConfidence swept)",
      "escalated rate (human workload)",
      "toxic published rate (leak)",
      yMax,
    ),
  ];
  parts.push(
    `<polyline fill="none" stroke="#a8321f" stroke-width="2" points="${pts.map((p) => `${px(p.escalated_rate)},${py(p.toxic_published_rate)}`).join(" ")}"/>`,
  );
  for (const p of pts) {
    const labelled = Math.round(p.minConfidence * 100) % 10 === 0;
    parts.push(
      `<circle cx="${px(p.escalated_rate)}" cy="${py(p.toxic_published_rate)}" r="${labelled ? 3 : 1.5}" fill="#a8321f"><title>minConfidence ${round(p.minConfidence)}: escalated ${round(p.escalated_rate)}, toxic published ${round(p.toxic_published_rate)}, clean rejected ${round(p.clean_rejected_rate)}</title></circle>`,
    );
  }
  const current = pts.reduce(
    (best, p) =>
      Math.abs(p.minConfidence - currentMinConfidence) <
      Math.abs(best.minConfidence - currentMinConfidence)
        ? p
        : best,
    pts[0] ?? {
      minConfidence: 0,
      escalated_rate: 0,
      toxic_published_rate: 0,
      clean_rejected_rate: 0,
    },
  );
  parts.push(
    `<circle cx="${px(current.escalated_rate)}" cy="${py(current.toxic_published_rate)}" r="7" fill="none" stroke="#000" stroke-width="2"/>`,
  );
  // The label sits in the plot's top-right corner, where the curve never goes (high workload
  // and high leak at once), so it cannot run off the chart.
  parts.push(
    `<text x="${px(1) - 6}" y="${M.top + 16}" text-anchor="end" font-size="11">◯ policy: minConfidence ${round(currentMinConfidence)}</text>`,
  );
  parts.push(
    `<text x="${px(1) - 6}" y="${M.top + 30}" text-anchor="end" font-size="11">escalated ${round(current.escalated_rate)}, leak ${round(current.toxic_published_rate)}</text>`,
  );
  if (0.01 <= yMax)
    parts.push(
      `<line x1="${px(0)}" x2="${px(1)}" y1="${py(0.01)}" y2="${py(0.01)}" stroke="#888" stroke-dasharray="4 3"/><text x="${px(1) - 4}" y="${py(0.01) - 4}" text-anchor="end" font-size="10">leak 0.01</text>`,
    );
  return svg(W, parts.join("\n"), note);
}

function round(x: number): string {
  return Number.isFinite(x) ? (Math.round(x * 1000) / 1000).toString() : "–";
}
