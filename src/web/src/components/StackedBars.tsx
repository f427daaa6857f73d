/**
 * Stacked bars over time, drawn as plain SVG: a few dozen to 168 bars, an axis and a legend.
 * A chart library (uPlot ~50 KB, Chart.js ~200 KB) would outweigh this, and SVG takes the
 * theme's status colours from CSS as the rest of the UI does.
 */
import { countOf } from '../ui';

export interface Bar {
  /** Start of the bucket, ISO-8601. */
  start: string;
  counts: Record<string, number>;
}

export interface StackedBarsProps {
  label: string;
  bars: Bar[];
  /** Stack order, bottom first. */
  series: string[];
  /** Bucket length in ms (for the bar's end and the tick labels). */
  bucketMs: number;
  /** Where a bar (and one of its segments) leads. */
  hrefOf: (bar: Bar, series?: string) => string;
}

const W = 960;
const H = 220;
const PAD = { left: 44, right: 8, top: 10, bottom: 28 };

function niceMax(n: number): number {
  if (n <= 4) return Math.max(1, n);
  const mag = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * mag >= n) return step * mag;
  return 10 * mag;
}

function tickLabel(iso: string, bucketMs: number, span: number): string {
  const d = new Date(iso);
  if (bucketMs >= 86_400_000 || span > 48)
    return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
}

export function StackedBars({ label, bars, series, bucketMs, hrefOf }: StackedBarsProps) {
  const totals = bars.map((b) => Object.values(b.counts).reduce((a, c) => a + c, 0));
  const max = niceMax(Math.max(0, ...totals));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, bars.length);
  const barW = Math.max(1, slot * 0.8);
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  const yTicks = [0, max / 4, max / 2, (3 * max) / 4, max].filter(
    (v, i, a) => Number.isInteger(v) && a.indexOf(v) === i,
  );
  // about eight labels along the axis, on whole days for day buckets and the 7-day range
  const every = bars.length > 48 ? 24 : Math.max(1, Math.ceil(bars.length / 8));
  const total = totals.reduce((a, c) => a + c, 0);
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`${label}: ${countOf(total, 'execution')} in ${countOf(bars.length, 'bar')}`}
      data-testid="executions-chart"
    >
      {yTicks.map((v) => (
        <g key={v} className="chart-grid">
          <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
          <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end">
            {v}
          </text>
        </g>
      ))}
      {bars.map((bar, i) => {
        const x = PAD.left + i * slot + (slot - barW) / 2;
        const end = new Date(Date.parse(bar.start) + bucketMs);
        let base = 0;
        const segments = series.filter((s) => bar.counts[s]);
        const when = `${new Date(bar.start).toLocaleString(undefined, { hour12: false })} – ${end.toLocaleTimeString(undefined, { hour12: false })}`;
        const title = `${when}: ${segments.map((s) => `${bar.counts[s]} ${s}`).join(', ') || 'none'}`;
        return (
          <g key={bar.start} data-bucket={bar.start} data-count={totals[i]}>
            {i % every === 0 && (
              <text className="chart-tick" x={x + barW / 2} y={H - 8} textAnchor="middle">
                {tickLabel(bar.start, bucketMs, bars.length)}
              </text>
            )}
            {segments.map((s) => {
              const top = y(base + bar.counts[s]);
              const height = y(base) - top;
              base += bar.counts[s];
              return (
                <a key={s} href={hrefOf(bar, s)} aria-label={`${bar.counts[s]} ${s}, ${when}`}>
                  <rect
                    className={`chart-bar status-${s}`}
                    x={x}
                    y={top}
                    width={barW}
                    height={Math.max(0.5, height)}
                  >
                    <title>{title}</title>
                  </rect>
                </a>
              );
            })}
          </g>
        );
      })}
      <line className="chart-axis" x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} />
    </svg>
  );
}
