// Benchmark: a 100-task sequential orquesta workflow of core.noop tasks, in one process on the
// embedded store (or MongoDB with SQUALL_BENCH_MONGO_URL). Prints one JSON line per metric:
// ms per task transition (child completion → next child requested → completed) and the total,
// then the process's CPU per task (`process.cpuUsage`, the figure a loaded box does not skew),
// store calls per task and, on the embedded store, commits and fsyncs per task.
// A warm-up workflow runs first (not counted). SQUALL_BENCH_CALLS=1 prints calls by collection.
// SQUALL_BENCH_PROF=file.cpuprofile writes a CPU profile of the measured run alone (no start-up, no
// warm-up, which `node --cpu-prof` cannot leave out); bench/lib/profile.mjs summarises it.
// Run: node --import tsx bench/workflow.ts [n]
import { isCompleted } from '../src/executions/index.js';
import type { ExecutionRecord } from '../src/store/index.js';
import { countStoreCalls } from './lib/count-calls.js';
import { figure, startWorkflowService } from './lib/inproc.js';
import { startProfile } from './lib/inproc-profile.js';

const n = Number(process.argv[2] ?? 100);
const tasks = Array.from({ length: n }, (_, i) =>
  [`  t${i}:`, '    action: core.noop', ...(i + 1 < n ? ['    next:', `      - do: t${i + 1}`] : [])].join(
    '\n',
  ),
);
const squall = await startWorkflowService({
  seq: { metadata: 'parameters: {}\n', workflow: `version: 1.0\ntasks:\n${tasks.join('\n')}\n` },
});
const counts = countStoreCalls(squall.storeHandle);
// Waits for the workflow through the completion listeners, so that no polling read is counted.
const done = new Map<string, (e: ExecutionRecord) => void>();
squall.executions.onCompleted(async (e) => done.get(e.id)?.(e));
const run = async () => {
  let resolve!: (e: ExecutionRecord) => void;
  const finished = new Promise<ExecutionRecord>((r) => (resolve = r));
  const wf = await squall.executions.request({ action: 'benchwf.seq', user: 'bench' });
  done.set(wf.id, resolve);
  const now = await squall.executions.get(wf.id);
  const e = isCompleted(now.status) ? now : await finished;
  if (e.status !== 'succeeded')
    throw new Error(`bench workflow ended ${e.status}: ${JSON.stringify(e.result)}`);
};
try {
  await run(); // warm-up
  counts.clear();
  const embedded = squall.storeHandle.embedded;
  const commits0 = embedded?.commits ?? 0;
  const fsyncs0 = embedded?.fsyncs ?? 0;
  const cache = squall.storeHandle.contentCache;
  const hits0 = cache.hits;
  const profile = await startProfile(process.env.SQUALL_BENCH_PROF);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const total = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await profile?.stop();
  let calls = 0;
  for (const [, c] of counts) calls += c;
  figure(`workflow.sequential_noop.per_task.${squall.store}`, 'ms', total / n, n);
  figure(`workflow.sequential_noop.total.${squall.store}`, 'ms', total, n);
  figure(
    `workflow.sequential_noop.cpu_per_task.${squall.store}`,
    'ms',
    (cpu.user + cpu.system) / 1000 / n,
    n,
  );
  figure(`workflow.sequential_noop.store_calls_per_task.${squall.store}`, 'calls', calls / n, n);
  // Of those, the reads this process's content cache answered (actions): no round trip.
  figure(
    `workflow.sequential_noop.content_cache_hits_per_task.${squall.store}`,
    'calls',
    (cache.hits - hits0) / n,
    n,
  );
  if (embedded) {
    figure(
      `workflow.sequential_noop.commits_per_task.embedded`,
      'commits',
      (embedded.commits - commits0) / n,
      n,
    );
    figure(`workflow.sequential_noop.fsyncs_per_task.embedded`, 'fsyncs', (embedded.fsyncs - fsyncs0) / n, n);
  }
  if (process.env.SQUALL_BENCH_CALLS)
    for (const [label, c] of [...counts].sort((a, b) => b[1] - a[1]))
      process.stderr.write(`${(c / n).toFixed(2).padStart(7)}  ${label}\n`);
} finally {
  await squall.stop();
}
// On MongoDB a handle outlives stop() (the process would not exit); the numbers are printed.
process.exit(0);
