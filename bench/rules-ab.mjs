// The rules engine's inner loop (scenario 4's rules.eval) of two builds in one process, in
// alternating slices, per CPU second: a comparison that holds on a busy machine, where separate
// runs differ by more than the change. Each argument is a checkout with dist/ built.
// Run: node bench/rules-ab.mjs <checkout A> <checkout B> [sizes, default 10,1000,10000] [pairs, default 8]
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { criteriaFor } from './rules.mjs';

const [dirA, dirB, sizesArg = '10,1000,10000', pairs = '8'] = process.argv.slice(2);
if (!dirA || !dirB)
  throw new Error('usage: node bench/rules-ab.mjs <checkout A> <checkout B> [sizes] [pairs]');
const load = async (dir) =>
  (await import(pathToFileURL(path.resolve(dir, 'dist/src/rules/index.js')).href)).matchRule;
const builds = [await load(dirA), await load(dirB)];
const payload = { host: 'target', severity: 3, region: 'eu', message: 'hello world', tags: ['a', 'b'] };
const kv = { st2kv: {}, decrypt: undefined };
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

for (const n of sizesArg.split(',').map(Number)) {
  const rules = [];
  for (let i = 0; i < n - 1; i++) rules.push({ criteria: criteriaFor(i) });
  rules.push({
    criteria: {
      'trigger.host': { type: 'equals', pattern: 'target' },
      'trigger.severity': { type: 'lessthan', pattern: 5 },
    },
  });
  // Instances per CPU second of one build over one slice of `ms`.
  const slice = (matchRule, ms) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let count = 0;
    while (performance.now() - t0 < ms || count < 2) {
      let matched = 0;
      for (const rule of rules) if (matchRule(rule, payload, kv).matched) matched++;
      if (matched !== 1) throw new Error(`expected exactly one matching rule, got ${matched}`);
      count++;
    }
    const cpu = process.cpuUsage(cpu0);
    return count / ((cpu.user + cpu.system) / 1e6);
  };
  for (const b of builds) slice(b, 300); // warm-up
  const rates = [[], []];
  for (let r = 0; r < Number(pairs); r++) for (const i of [0, 1]) rates[i].push(slice(builds[i], 400));
  const [a, b] = rates.map(median);
  console.log(
    JSON.stringify({
      name: `rules.eval_ab.${n}_rules`,
      unit: 'instances per CPU second',
      a: +a.toFixed(1),
      b: +b.toFixed(1),
      b_over_a: +(b / a).toFixed(3),
      pairs: rates[0].map((x, k) => [Math.round(x), Math.round(rates[1][k])]),
    }),
  );
}
process.exit(0);
