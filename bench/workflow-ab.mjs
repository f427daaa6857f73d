// bench/workflow.ts of two checkouts in alternating runs (the order flipped every pair), so that both
// see the same minutes of a shared machine: CPU and wall per task of each run, the load average, the
// means, and how many pairs favour B. Each checkout runs its own bench/workflow.ts with tsx.
// Run: node bench/workflow-ab.mjs <checkout A> <checkout B> [tasks, default 100] [pairs, default 6]
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';

const [dirA, dirB, tasks = '100', pairs = '6'] = process.argv.slice(2);
if (!dirA || !dirB)
  throw new Error('usage: node bench/workflow-ab.mjs <checkout A> <checkout B> [tasks] [pairs]');
const once = (dir) => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/workflow.ts', tasks], {
    cwd: path.resolve(dir),
    encoding: 'utf8',
    env: { ...process.env, SQUALL_BENCH_CALLS: '', SQUALL_BENCH_PROF: '' },
  });
  const fig = (name) =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((f) => f.name.startsWith(`workflow.sequential_noop.${name}.`))?.value;
  return { cpu: fig('cpu_per_task'), wall: fig('per_task'), calls: fig('store_calls_per_task') };
};
const runs = { A: [], B: [] };
let favour = 0;
for (let i = 0; i < Number(pairs); i++) {
  const order = i % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
  const got = {};
  for (const side of order) got[side] = once(side === 'A' ? dirA : dirB);
  runs.A.push(got.A);
  runs.B.push(got.B);
  if (got.B.cpu < got.A.cpu) favour++;
  console.log(
    JSON.stringify({
      pair: i + 1,
      order: order.join(''),
      load: +loadavg()[0].toFixed(2),
      A: got.A,
      B: got.B,
    }),
  );
}
const mean = (xs) => +(xs.reduce((s, x) => s + x, 0) / xs.length).toFixed(3);
console.log(
  JSON.stringify({
    tasks: Number(tasks),
    pairs: Number(pairs),
    cpu: { A: mean(runs.A.map((r) => r.cpu)), B: mean(runs.B.map((r) => r.cpu)) },
    wall: { A: mean(runs.A.map((r) => r.wall)), B: mean(runs.B.map((r) => r.wall)) },
    pairs_favouring_B_cpu: favour,
  }),
);
