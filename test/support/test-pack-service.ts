import { afterAll } from 'vitest';
import { processExists } from './processes.js';
import { tempDir } from './servers.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

/**
 * A `squall start` of the suite's own (auth and chat off) on a fresh data directory, loading the
 * test packs written under `packsDir`. After the suite it is SIGKILLed, and so is every process
 * whose pid the test put in `pids`, so that none outlives a failed assertion.
 */
export function serviceWithTestPacks(): {
  packsDir: string;
  pids: number[];
  start(env?: NodeJS.ProcessEnv): Promise<ServiceProcess>;
} {
  const data = tempDir();
  const packs = tempDir();
  const pids: number[] = [];
  let svc: ServiceProcess | undefined;
  afterAll(async () => {
    await svc?.stop('SIGKILL');
    for (const pid of pids) if (processExists(pid)) process.kill(pid, 'SIGKILL');
    data.cleanup();
    packs.cleanup();
  });
  return {
    packsDir: packs.dir,
    pids,
    async start(env = {}) {
      svc = await startServiceProcess(
        [],
        {
          SQUALL_DATA_DIR: data.dir,
          SQUALL_PACKS_PATHS: packs.dir,
          SQUALL_AUTH_ENABLE: 'false',
          SQUALL_CHATOPS_ENABLE: 'false',
          SQUALL_LOG_LEVEL: 'warn',
          ...env,
        },
        60_000,
      );
      return svc;
    },
  };
}
