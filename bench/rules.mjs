// Scenario 4: the rules engine with 10, 1,000 and 10,000 enabled rules on one trigger type,
// mixed operators, in one process on the embedded store (dist/). Two figures per size:
//   rules.eval.<n>         trigger instances evaluated per second (index lookup + every rule's
//                          criteria; no I/O) — the engine's inner loop
//   rules.dispatch_to_enforcement.<n>  dispatchTrigger() → the rule enforcement is stored
//                          (store the instance, Agenda job, criteria of all n rules, render,
//                          request the execution) with exactly one rule matching
// Run alone: node bench/rules.mjs
import { rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { emit } from './lib/loadgen.mjs';
import { percentile } from './lib/loadgen.mjs';
import { writeBenchPack } from './lib/pack.mjs';
import { ROOT } from './lib/squall.mjs';
import { scratchDir } from './lib/proc.mjs';

const dist = (p) => import(pathToFileURL(path.join(ROOT, 'dist', 'src', p)).href);

const TRIGGER = 'squallbench.event';

export function criteriaFor(i) {
  switch (i % 7) {
    case 0:
      return { 'trigger.host': { type: 'equals', pattern: `host-${i}` } };
    case 1:
      return { 'trigger.severity': { type: 'greaterthan', pattern: 1000 + i } };
    case 2:
      return { 'trigger.message': { type: 'regex', pattern: `^msg-${i}-\\d+$` } };
    case 3:
      return { 'trigger.host': { type: 'startswith', pattern: `h${i}-` } };
    case 4:
      return { 'trigger.message': { type: 'icontains', pattern: `tok${i}x` } };
    case 5:
      return { 'trigger.host': { type: 'matchwildcard', pattern: `web-${i}-*` } };
    default:
      return {
        'trigger.region': { type: 'inside', pattern: ['eu', 'us'] },
        'trigger.severity': { type: 'lessthan', pattern: -i },
      };
  }
}

function ruleRecord(newId, name, criteria) {
  return {
    id: newId(),
    ref: `squallbench.${name}`,
    uid: `rule:squallbench:${name}`,
    pack: 'squallbench',
    name,
    enabled: true,
    type: { ref: 'standard', parameters: {} },
    trigger: { type: TRIGGER, parameters: {} },
    criteria,
    action: { ref: 'core.noop', parameters: {} },
  };
}

export async function runRules({ sizes = [10, 1000, 10000], budgetMs = 1500, dispatch = true } = {}) {
  const { loadConfig } = await dist('config/index.js');
  const { startService } = await dist('service/index.js');
  const { silentLogger } = await dist('log/index.js');
  const { defaultSubsystems } = await dist('subsystems.js');
  const { newId } = await dist('ids.js');
  const { dispatchTrigger, kvContext } = await dist('triggers/index.js');
  const { matchRule } = await dist('rules/index.js');

  const dir = scratchDir('squall-bench-rules-');
  writeBenchPack(path.join(dir, 'packs'));
  const { config } = loadConfig({
    env: {},
    overrides: {
      data_dir: path.join(dir, 'data'),
      'api.port': 0,
      'auth.enable': false,
      'packs.paths': [path.join(dir, 'packs')],
      roles: ['api', 'rules', 'scheduler', 'runner'],
    },
  });
  const subsystems = defaultSubsystems(config);
  const events = subsystems.find((s) => s.name === 'events');
  const running = await startService({ config, logger: silentLogger(), subsystems });
  const { services } = running;
  const payload = { host: 'target', severity: 3, region: 'eu', message: 'hello world', tags: ['a', 'b'] };
  try {
    let inserted = 0;
    for (const n of sizes) {
      const batch = [];
      for (let i = inserted; i < n - 1; i++) batch.push(ruleRecord(newId, `r${i}`, criteriaFor(i)));
      if (inserted === 0)
        batch.push(
          ruleRecord(newId, 'zz_match', {
            'trigger.host': { type: 'equals', pattern: 'target' },
            'trigger.severity': { type: 'lessthan', pattern: 5 },
          }),
        );
      for (let i = 0; i < batch.length; i += 1000)
        await services.store.rules.insertMany(batch.slice(i, i + 1000));
      inserted = n - 1;
      await events.index().reload(services.store);
      const candidates = events.index().candidates(TRIGGER);
      if (candidates.length !== n)
        throw new Error(`rule index holds ${candidates.length} rules, expected ${n}`);

      // Inner loop: evaluate every candidate for one instance.
      const kv = await kvContext(services);
      let count = 0;
      let matched = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      while (performance.now() - t0 < budgetMs || count < 3) {
        for (const rule of events.index().candidates(TRIGGER))
          if (matchRule(rule, payload, kv).matched) matched++;
        count++;
      }
      const elapsed = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      if (matched !== count)
        throw new Error(`expected exactly one matching rule per instance, got ${matched / count}`);
      emit({
        name: `rules.eval.${n}_rules`,
        unit: 'instances/s',
        value: +((count / elapsed) * 1000).toFixed(1),
        // per second of this process's CPU time: steadier than wall time on a shared machine
        cpu_value: +((count / cpuMs) * 1000).toFixed(1),
        n: count,
      });
      if (!dispatch) continue;

      // Dispatch → enforcement, one instance at a time.
      const samples = [];
      const reps = n >= 10000 ? 15 : 40;
      for (let r = 0; r < reps + 3; r++) {
        let resolveEnf;
        const enforced = new Promise((res) => (resolveEnf = res));
        let tiId;
        const early = [];
        const unsub = services.bus.subscribe('st2.rule_enforcement__create', (ev) => {
          if (tiId === undefined) early.push(ev.payload);
          else if (ev.payload.trigger_instance_id === tiId) resolveEnf();
        });
        const t = performance.now();
        const ti = await dispatchTrigger(services, { trigger: TRIGGER, payload, source: 'bench' });
        tiId = ti.id;
        if (early.some((e) => e.trigger_instance_id === tiId)) resolveEnf();
        await enforced;
        const ms = performance.now() - t;
        unsub();
        if (r >= 3) samples.push(ms); // first 3 are warm-up
      }
      samples.sort((a, b) => a - b);
      emit({
        name: `rules.dispatch_to_enforcement.${n}_rules`,
        unit: 'ms',
        p50: +percentile(samples, 50).toFixed(2),
        p99: +percentile(samples, 99).toFixed(2),
        n: samples.length,
      });
    }
  } finally {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  // SQUALL_BENCH_RULES_EVAL_ONLY=1: the inner loop only (for comparing builds)
  await runRules({ dispatch: !process.env.SQUALL_BENCH_RULES_EVAL_ONLY });
  process.exit(0);
}
