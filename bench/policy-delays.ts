// Store calls of one concurrency-policy delay while other actions' executions wait delayed: the
// service runs in this process (embedded store; MongoDB with SQUALL_BENCH_MONGO_URL), one running
// core.local holds the slot of core.local and of core.noop, `others` core.noop executions wait
// delayed, then `rounds` core.local requests are each delayed and the collection calls they make
// are counted. Run alone: node --import tsx bench/policy-delays.ts [others=50] [rounds=10]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contentSubsystem } from '../src/content/subsystem.js';
import { executionsSubsystem } from '../src/executions/subsystem.js';
import { newId } from '../src/ids.js';
import { silentLogger } from '../src/log/index.js';
import { policiesSubsystem } from '../src/policies/index.js';
import { startService } from '../src/service/index.js';
import { inProcessConfig, secretsSubsystem } from '../test/support/in-process.js';

const others = Number(process.argv[2] ?? 50);
const rounds = Number(process.argv[3] ?? 10);
const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-delays-'));
const config = inProcessConfig(dir, { 'store.url': process.env.SQUALL_BENCH_MONGO_URL || undefined });
// eslint-disable-next-line prefer-const
let executions: ReturnType<typeof executionsSubsystem>;
const policies = policiesSubsystem(() => executions.service());
executions = executionsSubsystem(() => ({
  admit: policies.engine().admit,
  delayedByPolicy: policies.engine().delayedByPolicy,
  owedOnCompletion: policies.engine().owedOnCompletion,
}));
const svc = await startService({
  config,
  logger: silentLogger(),
  subsystems: [secretsSubsystem(), contentSubsystem(), policies, executions],
});
try {
  const { store } = svc.services;
  for (const action of ['core.local', 'core.noop'])
    await store.policies.insert({
      id: newId(),
      ref: `bench.${action.replace('.', '_')}`,
      uid: `policy:bench:${action}`,
      pack: 'bench',
      name: action.replace('.', '_'),
      enabled: true,
      resource_ref: action,
      policy_type: 'action.concurrency',
      parameters: { threshold: 1, action: 'delay' },
    });
  await policies.engine().reload();
  const ex = executions.service();
  const holder = await ex.request({ action: 'core.local', parameters: { cmd: 'sleep 30' }, user: 'bench' });
  await store.claim('concurrency:bench.core_noop:core.noop:0', holder.id);
  for (let i = 0; i < others; i++) await ex.request({ action: 'core.noop', parameters: {}, user: 'bench' });
  const calls: Record<string, number> = {};
  for (const name of ['executions', 'liveExecutions', 'claims'] as const) {
    const collection = store[name] as unknown as Record<string, unknown>;
    for (const method of ['get', 'find', 'updateOne', 'count', 'insert', 'replace', 'deleteOne']) {
      const fn = collection[method] as (...args: unknown[]) => unknown;
      collection[method] = (...args: unknown[]) => {
        calls[`${name}.${method}`] = (calls[`${name}.${method}`] ?? 0) + 1;
        return fn.apply(collection, args);
      };
    }
  }
  const statuses = new Set<string>();
  const cpu = process.cpuUsage();
  for (let i = 0; i < rounds; i++)
    statuses.add(
      (await ex.request({ action: 'core.local', parameters: { cmd: 'true' }, user: 'bench' })).status,
    );
  const used = process.cpuUsage(cpu);
  console.log(
    JSON.stringify({
      others,
      rounds,
      statuses: [...statuses],
      per_delay: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, v / rounds])),
      cpu_ms_per_delay: (used.user + used.system) / 1000 / rounds,
    }),
  );
  await ex.cancel(holder.id, 'bench').catch(() => undefined);
} finally {
  await svc.stop();
  rmSync(dir, { recursive: true, force: true });
}
