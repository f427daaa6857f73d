// Benchmark: a 100-task sequential orquesta workflow of core.noop tasks, in one process on the
// embedded store (or MongoDB with SQUALL_BENCH_MONGO_URL). Prints one JSON line per metric:
// ms per task transition (child completion → next child requested → completed) and the total.
// Run: node --import tsx bench/workflow.ts [n]
import { figure, startWorkflowService } from './lib/inproc.js';

const n = Number(process.argv[2] ?? 100);
const tasks = Array.from({ length: n }, (_, i) =>
  [`  t${i}:`, '    action: core.noop', ...(i + 1 < n ? ['    next:', `      - do: t${i + 1}`] : [])].join(
    '\n',
  ),
);
const squall = await startWorkflowService({
  seq: { metadata: 'parameters: {}\n', workflow: `version: 1.0\ntasks:\n${tasks.join('\n')}\n` },
});
try {
  const t0 = performance.now();
  const wf = await squall.executions.request({ action: 'benchwf.seq', user: 'bench' });
  const e = await squall.finished(wf.id);
  const total = performance.now() - t0;
  if (e.status !== 'succeeded')
    throw new Error(`bench workflow ended ${e.status}: ${JSON.stringify(e.result)}`);
  figure(`workflow.sequential_noop.per_task.${squall.store}`, 'ms', total / n, n);
  figure(`workflow.sequential_noop.total.${squall.store}`, 'ms', total, n);
} finally {
  await squall.stop();
}
// On MongoDB a handle outlives stop() (the process would not exit); the numbers are printed.
process.exit(0);
