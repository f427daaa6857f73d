// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, top N.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function topSelfTime(file, top = 15) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]);
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    const cf = node.callFrame;
    const where = cf.url ? `${shorten(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const idle = (k) => /^\((idle|program|garbage collector)\)/.test(k);
  const busy = [...self].filter(([k]) => !/^\(idle\)/.test(k)).reduce((s, [, v]) => s + v, 0);
  return {
    total_ms: +(total / 1000).toFixed(0),
    busy_ms: +(busy / 1000).toFixed(0),
    top: [...self]
      .sort((a, b) => b[1] - a[1])
      .filter(([k]) => !/^\(idle\)/.test(k))
      .slice(0, top)
      .map(([k, v]) => ({
        fn: k,
        self_ms: +(v / 1000).toFixed(1),
        pct_busy: +((v / busy) * 100).toFixed(1),
        special: idle(k) || undefined,
      })),
  };
}

function shorten(url) {
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length);
  const d = p.indexOf('/dist/');
  if (d >= 0) return p.slice(d + 1);
  return p.startsWith('node:') ? p : path.basename(p);
}
