// In-process Squall for the workflow benchmarks: a throwaway pack, the content, executions and
// workflow subsystems on the embedded store (or MongoDB with SQUALL_BENCH_MONGO_URL), and a
// wait for an execution to finish. (test/support pulls in vitest, which cannot load here.)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contentSubsystem } from '../../src/content/subsystem.js';
import { isCompleted } from '../../src/executions/status.js';
import { executionsSubsystem } from '../../src/executions/subsystem.js';
import type { ExecutionService } from '../../src/executions/service.js';
import { silentLogger } from '../../src/log/index.js';
import { startService, type Subsystem } from '../../src/service/index.js';
import type { ExecutionRecord, Store } from '../../src/store/index.js';
import { workflowsSubsystem } from '../../src/workflows/engine/index.js';
import { inProcessConfig, secretsSubsystem } from '../../test/support/in-process.js';

/** A throwaway AES-256-GCM box for the datastore's secrets. */
export function benchSecrets(): Subsystem {
  return secretsSubsystem(undefined, 'bench-secrets');
}

/** An in-process service's config: data and packs under `dir`, auth off, MongoDB with SQUALL_BENCH_MONGO_URL. */
export function benchConfig(dir: string) {
  return inProcessConfig(path.join(dir, 'data'), {
    'store.url': process.env.SQUALL_BENCH_MONGO_URL || undefined,
    'packs.paths': [path.join(dir, 'packs')],
  });
}

export interface BenchWorkflowService {
  executions: ExecutionService;
  store: 'mongo' | 'embedded';
  /** The running service's store (the bench counts its calls and commits). */
  storeHandle: Store;
  /** Polls the record until it is completed (the bench's own wait; Squall itself never polls). */
  finished(id: string): Promise<ExecutionRecord>;
  stop(): Promise<void>;
}

/**
 * Starts Squall in this process with one pack `benchwf` holding the given workflow actions:
 * `actions` maps an action name to [its metadata YAML lines after `name`/`pack`, its workflow YAML].
 */
export async function startWorkflowService(
  actions: Record<string, { metadata: string; workflow: string }>,
): Promise<BenchWorkflowService> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-wf-'));
  const pack = path.join(dir, 'packs', 'benchwf');
  mkdirSync(path.join(pack, 'actions', 'workflows'), { recursive: true });
  writeFileSync(
    path.join(pack, 'pack.yaml'),
    'ref: benchwf\nname: benchwf\ndescription: bench\nversion: 1.0.0\nauthor: Squall\nemail: squall@localhost.localdomain\n',
  );
  for (const [name, { metadata, workflow }] of Object.entries(actions)) {
    writeFileSync(
      path.join(pack, 'actions', `${name}.yaml`),
      `name: ${name}\npack: benchwf\nrunner_type: orquesta\nentry_point: workflows/${name}.yaml\nenabled: true\n${metadata}`,
    );
    writeFileSync(path.join(pack, 'actions', 'workflows', `${name}.yaml`), workflow);
  }
  const config = benchConfig(dir);
  const executions = executionsSubsystem();
  const running = await startService({
    config,
    logger: silentLogger(),
    subsystems: [benchSecrets(), contentSubsystem(), executions, workflowsSubsystem(executions.service)],
  });
  const svc = executions.service();
  return {
    executions: svc,
    store: process.env.SQUALL_BENCH_MONGO_URL ? 'mongo' : 'embedded',
    storeHandle: running.services.store,
    async finished(id) {
      let e = await svc.get(id);
      while (!isCompleted(e.status)) {
        await new Promise((r) => setTimeout(r, 5));
        e = await svc.get(id);
      }
      return e;
    },
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Prints one figure as a JSON line (run.mjs passes these through). */
export function figure(name: string, unit: string, value: number, n: number, extra: object = {}): void {
  process.stdout.write(JSON.stringify({ name, unit, value: +value.toFixed(2), n, ...extra }) + '\n');
}
