// Draws the soak samples as one SVG: a small panel per series, time on x, its own scale on y.
// Hand-written (no plotting dependency): each panel is a polyline over the samples.

const SERIES = [
  ['rss_mb', 'RSS (MB)'],
  ['heap_mb', 'V8 heap used (MB)'],
  ['rss_anon_mb', 'RSS anonymous (MB)'],
  ['wal_mb', 'SQLite WAL file (MB)'],
  ['loop_p99_ms', 'event-loop delay p99 (ms)'],
  ['p99_ms', 'webhook latency p99 (ms)'],
  ['disk_mb', 'data dir on disk (MB)'],
  ['executions', 'executions completed'],
];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

export function soakChart(samples, { rate, seconds }) {
  const W = 360;
  const H = 150;
  const PAD = { l: 52, r: 12, t: 26, b: 28 };
  const cols = 2;
  const rows = Math.ceil(SERIES.length / cols);
  const width = cols * W;
  const height = rows * H + 34;
  const tMax = Math.max(1, ...samples.map((s) => s.t_s));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="13" font-weight="bold">${esc(
      `Soak: webhook → rule → core.noop at ${rate}/s for ${seconds} s, sampled every 10 s (${samples.at(-1)?.executions ?? 0} executions)`,
    )}</text>`,
  ];
  SERIES.forEach(([key, label], i) => {
    const x0 = (i % cols) * W;
    const y0 = 34 + Math.floor(i / cols) * H;
    const pts = samples.filter((s) => Number.isFinite(s[key]));
    const vals = pts.map((s) => s[key]);
    const lo = Math.min(0, ...vals);
    const hi = Math.max(1e-9, ...vals) * 1.1;
    const px = (t) => x0 + PAD.l + (t / tMax) * (W - PAD.l - PAD.r);
    const py = (v) => y0 + H - PAD.b - ((v - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
    parts.push(
      `<text x="${x0 + PAD.l}" y="${y0 + 16}" font-weight="bold">${esc(label)}</text>`,
      `<line x1="${px(0)}" y1="${py(lo)}" x2="${px(tMax)}" y2="${py(lo)}" stroke="#999"/>`,
      `<line x1="${px(0)}" y1="${py(lo)}" x2="${px(0)}" y2="${py(hi)}" stroke="#999"/>`,
      `<text x="${px(0) - 4}" y="${py(hi) + 4}" text-anchor="end">${fmt(hi)}</text>`,
      `<text x="${px(0) - 4}" y="${py(lo) + 4}" text-anchor="end">${fmt(lo)}</text>`,
      `<text x="${px(tMax)}" y="${py(lo) + 14}" text-anchor="end">${tMax} s</text>`,
      `<text x="${px(0)}" y="${py(lo) + 14}">0</text>`,
    );
    if (pts.length > 1)
      parts.push(
        `<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points="${pts
          .map((s) => `${px(s.t_s).toFixed(1)},${py(s[key]).toFixed(1)}`)
          .join(' ')}"/>`,
      );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
