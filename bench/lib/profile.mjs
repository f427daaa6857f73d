// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, top N, and for each of
// them the code that called it (the nearest caller outside Node's internals), so a built-in like
// `openFileHandle` or `writeBuffer` is attributed to the Squall or library function behind it.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function topSelfTime(file, top = 15, callersPerFn = 3) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const callers = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]);
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    const key = frameKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const caller = nearestCaller(node.id, parent, byId);
    if (caller) {
      const m = callers.get(key) ?? new Map();
      m.set(caller, (m.get(caller) ?? 0) + dt);
      callers.set(key, m);
    }
  }
  const idle = (k) => /^\((idle|program|garbage collector)\)/.test(k);
  const busy = [...self].filter(([k]) => !/^\(idle\)/.test(k)).reduce((s, [, v]) => s + v, 0);
  const ms = (v) => +(v / 1000).toFixed(1);
  return {
    total_ms: +(total / 1000).toFixed(0),
    busy_ms: +(busy / 1000).toFixed(0),
    top: [...self]
      .sort((a, b) => b[1] - a[1])
      .filter(([k]) => !/^\(idle\)/.test(k))
      .slice(0, top)
      .map(([k, v]) => ({
        fn: k,
        self_ms: ms(v),
        pct_busy: +((v / busy) * 100).toFixed(1),
        special: idle(k) || undefined,
        called_from: idle(k)
          ? undefined
          : [...(callers.get(k) ?? [])]
              .sort((a, b) => b[1] - a[1])
              .slice(0, callersPerFn)
              .map(([c, t]) => `${c} (${ms(t)} ms)`),
      })),
  };
}

function frameKey(cf) {
  const where = cf.url ? `${shorten(cf.url)}:${cf.lineNumber + 1}` : '';
  return `${cf.functionName || '(anonymous)'} ${where}`.trim();
}

/** The first ancestor frame that is Squall's or a library's code (not node:internal, not native). */
function nearestCaller(id, parent, byId) {
  for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
    const cf = byId.get(p).callFrame;
    if (cf.url && !cf.url.startsWith('node:')) return frameKey(cf);
  }
  return undefined;
}

function shorten(url) {
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length);
  const d = p.indexOf('/dist/');
  if (d >= 0) return p.slice(d + 1);
  return p.startsWith('node:') ? p : path.basename(p);
}
