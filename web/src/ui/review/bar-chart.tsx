import { niceMax } from "../judge/chart-scale.js";

/**
 * One figure per reviewer as horizontal bars, in the Judge page's chart frame (figure, caption,
 * an SVG image with a text description). Bars are horizontal because reviewer names are long.
 */
const WIDTH = 420;
const ROW = 22;
const PAD = { left: 120, right: 48, top: 6, bottom: 6 };
const PLOT_W = WIDTH - PAD.left - PAD.right;

export interface Bar {
  key: string;
  label: string;
  /** null: no figure yet (shown as "—", no bar). */
  value: number | null;
}

export function HorizontalBarChart({
  id,
  title,
  help,
  bars,
  max,
  format,
}: {
  id: string;
  title: string;
  help: string;
  bars: Bar[];
  /** The axis maximum; a count's is rounded up (niceMax), a rate's is 1. */
  max?: number;
  format(value: number): string;
}) {
  const top = max ?? niceMax(Math.max(0, ...bars.map((b) => b.value ?? 0)));
  const height = PAD.top + PAD.bottom + Math.max(1, bars.length) * ROW;
  const summary =
    bars.map((b) => `${b.label}: ${b.value === null ? "no figure" : format(b.value)}`).join("; ") ||
    "no reviewers";
  return (
    <figure
      class="chart"
      data-testid={`chart-${id}`}
      data-points={bars.filter((b) => b.value !== null).length}
    >
      <figcaption id={`${id}-title`}>
        <strong>{title}</strong> <span class="muted">— {help}</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-desc`}
      >
        <desc id={`${id}-desc`}>{summary}</desc>
        {bars.map((bar, i) => {
          const y = PAD.top + i * ROW;
          const w = bar.value === null || top <= 0 ? 0 : (Math.min(bar.value, top) / top) * PLOT_W;
          return (
            <g key={bar.key} class="axes">
              <text x={PAD.left - 6} y={y + ROW / 2 + 4} text-anchor="end">
                {bar.label.length > 18 ? `${bar.label.slice(0, 17)}…` : bar.label}
              </text>
              <line
                x1={PAD.left}
                x2={PAD.left + PLOT_W}
                y1={y + ROW - 2}
                y2={y + ROW - 2}
                class="grid"
              />
              {w > 0 && (
                <rect x={PAD.left} y={y + 3} width={w} height={ROW - 8} fill="#2f5597">
                  <title>{`${bar.label} · ${format(bar.value!)}`}</title>
                </rect>
              )}
              <text x={PAD.left + w + 4} y={y + ROW / 2 + 4}>
                {bar.value === null ? "—" : format(bar.value)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
