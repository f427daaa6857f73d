// Steady-state CPU profile of webhook -> rule -> core.noop at concurrency 16 (issue 19): starts the
// built Squall (dist/), warms it up, then profiles only the measured requests (bench/lib/prof-hook.mjs)
// and prints CPU ms per webhook (the child's /proc ticks over the window) and the top self-time
// frames with their callers. `node bench/profile-steady.mjs [requests] [top]`;
// SQUALL_PROF_OFF=1 measures CPU per webhook without the profiler's own cost; SQUALL_PROF_CONC=1
// profiles sequential webhooks (one at a time) instead of 16 concurrent.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { load } from './lib/loadgen.mjs';
import { cpuMs, sleep, stopProcess } from './lib/proc.mjs';
import { topSelfTime } from './lib/profile.mjs';
import { benchSquallDir, startSquall, ROOT } from './lib/squall.mjs';

const N = Number(process.argv[2] ?? 2000);
const TOP = Number(process.argv[3] ?? 20);
const OFF = !!process.env.SQUALL_PROF_OFF;
const CONC = Number(process.env.SQUALL_PROF_CONC ?? 16);
const body = JSON.stringify({ event: 'bench', value: 42 });
const check = (status, text) => {
  if (status !== 200) return `HTTP ${status}: ${text.slice(0, 300)}`;
  const ex = JSON.parse(text).executions ?? [];
  return ex.length === 1 && ex[0].status === 'succeeded' ? undefined : `unexpected: ${text.slice(0, 300)}`;
};
/** CPU ms of each thread of `pid` by thread name (main thread, libuv's pool, V8's workers), from /proc. */
function threadCpu(pid) {
  const by = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = tid === String(pid) ? 'main' : process.env.SQUALL_PROF_TIDS ? `${name}#${tid}` : name;
      by[key] = (by[key] ?? 0) + ((Number(f[11]) + Number(f[12])) * 1000) / 100;
    } catch {
      /* the thread ended */
    }
  }
  return by;
}
const squall = benchSquallDir('squall-prof-steady-');
const out = path.join(squall.dir, 'steady.cpuprofile');
const hook = path.join(ROOT, 'bench', 'lib', 'prof-hook.mjs');
const started = performance.now();
const s = await startSquall(squall.cfg, {
  nodeArgs: OFF ? [] : ['--import', hook],
  env: { SQUALL_PROF_OUT: out },
});
try {
  const url = `${s.url}/api/v1/webhooks/bench_noop?wait=10`;
  const run = (requests) =>
    load({ url, body, concurrency: CONC, requests, warmup: 0, check, maxMs: 300_000 });
  await run(Math.max(300, N / 4));
  // Past the one-off work of the first seconds (validator code written 10 s after start).
  await sleep(Math.max(500, 12_000 - (performance.now() - started)));
  if (!OFF) s.child.kill('SIGUSR2');
  await sleep(200);
  const cpu0 = cpuMs(s.child.pid);
  const threads0 = threadCpu(s.child.pid);
  const r = await run(N);
  const cpu = cpuMs(s.child.pid) - cpu0;
  const threads = threadCpu(s.child.pid);
  if (!OFF) {
    s.child.kill('SIGUSR2');
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      try {
        readFileSync(out);
        break;
      } catch {
        /* not yet written */
      }
    }
  }
  const done = r.latencies.length + r.errors;
  const out1 = {
    requests: done,
    concurrency: CONC,
    p50_ms: +r.latencies.sort((a, b) => a - b)[Math.floor(r.latencies.length / 2)]?.toFixed(3),
    cpu_ms_per_webhook: +(cpu / done).toFixed(3),
    cpu_ms_per_webhook_by_thread: Object.fromEntries(
      Object.entries(threads).map(([k, v]) => [k, +((v - (threads0[k] ?? 0)) / done).toFixed(3)]),
    ),
    req_per_s: +((r.latencies.length / r.elapsedMs) * 1000).toFixed(1),
    errors: r.errors,
    firstError: r.firstError,
  };
  console.log(JSON.stringify(out1));
  if (!OFF) {
    const summary = topSelfTime(out, TOP, 3);
    const dest = process.env.SQUALL_PROF_SAVE;
    if (dest) writeFileSync(dest, readFileSync(out));
    console.log(JSON.stringify(summary, null, 1));
  }
} finally {
  await stopProcess(s.child);
  squall.remove();
}
