// Ranks a V8 .cpuprofile by self and inclusive time, per function and per source area (a folder of
// src/, a package of node_modules, node's internals), in ms and % of the busy samples; divide by the
// task count for per-task figures. Run: node bench/profile-rank.mjs file.cpuprofile [top] [filter]
// (filter: a regexp the function key must match, e.g. 'src/'). TREE=0.5 prints the top-down tree
// instead, merged by function, of the calls over 0.5% of the busy samples.
import { readFileSync } from 'node:fs';

const [file, topArg = '40', filter] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const rel = (url) => {
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm);
  const s = p.search(/\/(src|bench|test)\//);
  return s >= 0 ? p.slice(s + 1) : p;
};
const key = (cf) =>
  `${cf.functionName || '(anonymous)'} ${cf.url ? `${rel(cf.url)}:${cf.lineNumber + 1}:${cf.columnNumber + 1}` : ''}`.trim();
const area = (cf) => {
  if (!cf.url) return cf.functionName.startsWith('(') ? cf.functionName : '(native)';
  const r = rel(cf.url);
  if (r.startsWith('node_modules/')) {
    const parts = r.split('/');
    return parts[1].startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1];
  }
  if (r.startsWith('node:')) return 'node:internal';
  const parts = r.split('/');
  return parts.slice(0, Math.min(parts.length - 1, 3)).join('/');
};

const self = new Map();
const incl = new Map();
const areaSelf = new Map();
const areaIncl = new Map();
let busy = 0;
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
for (let i = 0; i < prof.samples.length; i++) {
  const node = byId.get(prof.samples[i]);
  const dt = prof.timeDeltas[i] ?? 0;
  if (node.callFrame.functionName === '(idle)') continue;
  busy += dt;
  add(self, key(node.callFrame), dt);
  add(areaSelf, area(node.callFrame), dt);
  const seen = new Set();
  const seenArea = new Set();
  for (let id = node.id; id !== undefined; id = parent.get(id)) {
    const cf = byId.get(id).callFrame;
    const k = key(cf);
    if (!seen.has(k)) {
      seen.add(k);
      add(incl, k, dt);
    }
    const a = area(cf);
    if (!seenArea.has(a)) {
      seenArea.add(a);
      add(areaIncl, a, dt);
    }
  }
}
const top = Number(topArg);
const re = filter ? new RegExp(filter) : undefined;
const show = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m]
    .filter(([k]) => !re || re.test(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(
      `${(v / 1000).toFixed(1).padStart(8)} ms ${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}`,
    );
};
console.log(`busy ${(busy / 1000).toFixed(0)} ms`);
if (process.env.TREE) {
  // Top-down tree merged by function key, children over TREE % of the busy samples.
  const min = (Number(process.env.TREE) / 100) * busy;
  const total = new Map();
  const selfOf = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const n = byId.get(prof.samples[i]);
    if (n.callFrame.functionName === '(idle)') continue;
    selfOf.set(n.id, (selfOf.get(n.id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const tot = (n) => {
    if (total.has(n.id)) return total.get(n.id);
    let t = selfOf.get(n.id) ?? 0;
    for (const c of n.children ?? []) t += tot(byId.get(c));
    total.set(n.id, t);
    return t;
  };
  const print = (nodes, depth) => {
    const merged = new Map();
    for (const n of nodes) {
      const k = key(n.callFrame);
      const m = merged.get(k) ?? { t: 0, kids: [] };
      m.t += tot(n);
      for (const c of n.children ?? []) m.kids.push(byId.get(c));
      merged.set(k, m);
    }
    for (const [k, m] of [...merged].sort((a, b) => b[1].t - a[1].t)) {
      if (m.t < min) continue;
      console.log(`${' '.repeat(depth)}${(m.t / 1000).toFixed(1)} ${k}`);
      print(m.kids, depth + 1);
    }
  };
  print([prof.nodes[0]], 0);
  process.exit(0);
}
show('area, self', areaSelf);
show('area, inclusive', areaIncl);
show('function, self', self);
show('function, inclusive', incl);
