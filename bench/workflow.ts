// Benchmark: a 100-task sequential orquesta workflow of core.noop tasks, in one process on the
// embedded store (or MongoDB with SQUALL_BENCH_MONGO_URL). Prints one JSON line per metric:
// ms per task transition (child completion → next child requested → completed) and the total.
// Run: node --import tsx bench/workflow.ts [n]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, createCipheriv, createDecipheriv } from 'node:crypto';
import { loadConfig } from '../src/config/index.js';
import { contentSubsystem } from '../src/content/subsystem.js';
import { executionsSubsystem } from '../src/executions/subsystem.js';
import { silentLogger } from '../src/log/index.js';
import { startService } from '../src/service/index.js';
import { workflowsSubsystem } from '../src/workflows/engine/index.js';

const n = Number(process.argv[2] ?? 100);
const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-wf-'));
const pack = path.join(dir, 'packs', 'benchwf');
mkdirSync(path.join(pack, 'actions', 'workflows'), { recursive: true });
writeFileSync(
  path.join(pack, 'pack.yaml'),
  'ref: benchwf\nname: benchwf\ndescription: bench\nversion: 1.0.0\nauthor: Squall\nemail: squall@localhost.localdomain\n',
);
writeFileSync(
  path.join(pack, 'actions', 'seq.yaml'),
  'name: seq\npack: benchwf\nrunner_type: orquesta\nentry_point: workflows/seq.yaml\nenabled: true\nparameters: {}\n',
);
const tasks = Array.from({ length: n }, (_, i) =>
  [`  t${i}:`, '    action: core.noop', ...(i + 1 < n ? ['    next:', `      - do: t${i + 1}`] : [])].join(
    '\n',
  ),
);
writeFileSync(
  path.join(pack, 'actions', 'workflows', 'seq.yaml'),
  `version: 1.0\ntasks:\n${tasks.join('\n')}\n`,
);

const key = randomBytes(32);
const secrets = {
  seal(p: string) {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const b = Buffer.concat([c.update(p, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), b]).toString('base64');
  },
  open(s: string) {
    const raw = Buffer.from(s, 'base64');
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  },
};
const { config } = loadConfig({
  env: {},
  overrides: {
    data_dir: path.join(dir, 'data'),
    'api.port': 0,
    'auth.enable': false,
    'store.url': process.env.SQUALL_BENCH_MONGO_URL || undefined,
    'packs.paths': [path.join(dir, 'packs')],
  },
});
const executions = executionsSubsystem();
const running = await startService({
  config,
  logger: silentLogger(),
  subsystems: [
    { name: 'bench-secrets', init: (s) => void (s.secrets = secrets) },
    contentSubsystem(),
    executions,
    workflowsSubsystem(executions.service),
  ],
});
try {
  const svc = executions.service();
  const t0 = performance.now();
  const wf = await svc.request({ action: 'benchwf.seq', user: 'bench' });
  let e = await svc.get(wf.id);
  while (!['succeeded', 'failed', 'canceled', 'timeout', 'abandoned'].includes(e.status)) {
    await new Promise((r) => setTimeout(r, 5));
    e = await svc.get(wf.id);
  }
  const total = performance.now() - t0;
  if (e.status !== 'succeeded')
    throw new Error(`bench workflow ended ${e.status}: ${JSON.stringify(e.result)}`);
  const store = process.env.SQUALL_BENCH_MONGO_URL ? 'mongo' : 'embedded';
  console.log(
    JSON.stringify({
      name: `workflow.sequential_noop.per_task.${store}`,
      unit: 'ms',
      value: +(total / n).toFixed(2),
      n,
    }),
  );
  console.log(
    JSON.stringify({
      name: `workflow.sequential_noop.total.${store}`,
      unit: 'ms',
      value: +total.toFixed(1),
      n,
    }),
  );
} finally {
  const s0 = performance.now();
  await running.stop();
  if (process.env.SQUALL_BENCH_DEBUG) console.error(`stopped in ${(performance.now() - s0).toFixed(0)} ms`);
  rmSync(dir, { recursive: true, force: true });
}
// On MongoDB a handle outlives stop() (the process would not exit); the numbers are printed.
process.exit(0);
