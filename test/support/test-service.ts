import { randomBytes } from 'node:crypto';
import type { SquallConfig } from '../../src/config/index.js';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log/index.js';
import { startService, type RunningService, type Subsystem } from '../../src/service/index.js';
import type { SecretBox } from '../../src/executions/secrets.js';
import { secretBox } from '../../src/kv/crypto.js';
import { afterAll, beforeAll } from 'vitest';
import { contentSubsystem } from '../../src/content/subsystem.js';
import { executionsSubsystem } from '../../src/executions/subsystem.js';
import { registerSystemContent } from '../../src/content/register.js';
import { kvSubsystem } from '../../src/kv/index.js';
import { eventsSubsystem } from '../../src/rules/index.js';
import { notifierSubsystem } from '../../src/notifier/index.js';
import { sensorsSubsystem } from '../../src/sensors/index.js';
import { workflowsSubsystem, type WorkflowsSubsystem } from '../../src/workflows/engine/index.js';
import { freshMongoUrl, tempDir } from './servers.js';
import { secretsSubsystem } from './in-process.js';

/** A datastore box with a throwaway key, for tests that do not exercise the datastore. */
export function testSecretBox(): SecretBox {
  return secretBox(randomBytes(32));
}

export function testSecretsSubsystem(): Subsystem {
  return secretsSubsystem();
}

export interface TestServiceOptions {
  subsystems: Subsystem[];
  mongoUrl?: string;
  dataDir?: string;
  config?: Record<string, unknown>;
}

/** An in-process Squall on a free port with a temp data dir (auth off unless a subsystem adds it). */
export async function startTestService(
  options: TestServiceOptions,
): Promise<RunningService & { config: SquallConfig; cleanup: () => Promise<void> }> {
  const tmp = options.dataDir ? undefined : tempDir();
  const { config } = loadConfig({
    env: {},
    overrides: {
      data_dir: options.dataDir ?? tmp!.dir,
      'api.port': 0,
      'store.url': options.mongoUrl,
      'scheduler.process_every_ms': 500,
      ...(options.config ?? {}),
    },
  });
  const running = await startService({ config, logger: silentLogger(), subsystems: options.subsystems });
  return {
    ...running,
    config,
    async cleanup() {
      await running.stop();
      tmp?.cleanup();
    },
  };
}

/**
 * Hooks for a suite that drives the executions service directly: a service with content and
 * executions on this store kind (a fresh database on MongoDB), started before and stopped after.
 */
export function useExecutionsService(kind: 'embedded' | 'mongo', config: Record<string, unknown>) {
  const suite = {
    executions: executionsSubsystem(),
    svc: undefined as unknown as Awaited<ReturnType<typeof startTestService>>,
  };
  beforeAll(async () => {
    suite.svc = await startTestService({
      subsystems: [testSecretsSubsystem(), contentSubsystem(), suite.executions],
      mongoUrl: kind === 'mongo' ? freshMongoUrl() : undefined,
      config: { 'auth.enable': false, ...config },
    });
  });
  afterAll(async () => suite.svc?.cleanup());
  return suite;
}

/**
 * Subsystems of a service that runs one pack's sensors, with executions and rules: the other packs'
 * sensors are disabled (they would only add noise), and the system trigger types are put back
 * (content registration deletes them when it syncs the bundled core pack).
 */
export function sensorPackSubsystems(pack: string): Subsystem[] {
  const executions = executionsSubsystem();
  const onlyThisPack: Subsystem = {
    name: `test-only-${pack}-sensors`,
    async init(services) {
      await registerSystemContent(services.store);
      await services.store.sensors.updateMany({ pack: { $ne: pack } }, { $set: { enabled: false } });
    },
  };
  return [
    testSecretsSubsystem(),
    kvSubsystem(),
    contentSubsystem(),
    onlyThisPack,
    executions,
    eventsSubsystem(() => executions.service()),
    notifierSubsystem(
      () => executions.service(),
      () => undefined,
    ),
    sensorsSubsystem({ backoffInitialMs: 200, backoffMaxMs: 800, stopTimeoutMs: 3000, resyncIntervalMs: 0 }),
  ];
}

/**
 * A service with content, executions (their re-run from tasks wired to the engine) and the workflow
 * engine on this store kind (a fresh database on MongoDB), `subsystems` started first, with the
 * packs below `packs`: what the workflow suites each set up.
 */
export async function startWorkflowService(
  kind: 'embedded' | 'mongo',
  options: {
    packs: string;
    subsystems?: Subsystem[];
    config?: Record<string, unknown>;
    sweepEveryMs?: number;
  },
): Promise<{ svc: Awaited<ReturnType<typeof startTestService>>; workflows: WorkflowsSubsystem }> {
  const executions = executionsSubsystem(undefined, () => ({
    rerunFromTasks: (id, tasks, noReset, user) => workflows.engine().rerunFromTasks(id, tasks, noReset, user),
  }));
  const workflows = workflowsSubsystem(
    executions.service,
    options.sweepEveryMs === undefined ? undefined : { sweepEveryMs: options.sweepEveryMs },
  );
  const svc = await startTestService({
    subsystems: [
      ...(options.subsystems ?? []),
      testSecretsSubsystem(),
      contentSubsystem(),
      executions,
      workflows,
    ],
    mongoUrl: kind === 'mongo' ? freshMongoUrl() : undefined,
    config: { 'auth.enable': false, 'packs.paths': [options.packs], ...(options.config ?? {}) },
  });
  return { svc, workflows };
}
