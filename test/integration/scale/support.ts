import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MONGO_URL, REDIS_URL, freshMongoUrl, tempDir } from '../../support/servers.js';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.js';

export const SCALE_NEEDS = 'MongoDB and Redis (SQUALL_TEST_MONGO_URL, SQUALL_TEST_REDIS_URL)';
export const SCALE_AVAILABLE = Boolean(MONGO_URL && REDIS_URL);

/** Short lease timings, so a takeover after SIGKILL happens within seconds. */
export const LEASE_ENV = {
  SQUALL_EXECUTIONS_HEARTBEAT_MS: '500',
  SQUALL_LEASES_TTL_MS: '3000',
  SQUALL_LEASES_CHECK_EVERY_MS: '500',
};

/** The worker id's middle part is the pid of the process (src/executions/service.ts). */
export function pidOfWorker(workerId: string | null | undefined): number | undefined {
  const pid = Number(String(workerId ?? '').split(':')[1]);
  return Number.isFinite(pid) && pid > 0 ? pid : undefined;
}

/** Writes pack.yaml and the given files (relative paths) into a new pack directory under `dir`. */
export function writePack(dir: string, ref: string, files: Record<string, string>): void {
  const pack = path.join(dir, ref);
  mkdirSync(pack, { recursive: true });
  writeFileSync(
    path.join(pack, 'pack.yaml'),
    `ref: ${ref}\nname: ${ref}\ndescription: scale-out test pack\nversion: 1.0.0\nauthor: tests\n`,
  );
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(pack, file)), { recursive: true });
    writeFileSync(path.join(pack, file), text);
  }
}

/**
 * Several `squall start` OS processes on one fresh MongoDB database and the test Redis, each with
 * its own data dir (these tests keep no secrets, so the datastore keys need not match).
 */
export class ScaleCluster {
  // Empty when there is no server: the suite is then skipped, but its body is still collected.
  readonly mongoUrl = MONGO_URL ? freshMongoUrl() : '';
  readonly procs: ServiceProcess[] = [];
  private readonly dirs: Array<{ cleanup: () => void }> = [];

  constructor(private readonly env: Record<string, string>) {}

  /** Starts `count` processes at the same time (registration must be safe concurrently). */
  async start(count: number, extraEnv: Record<string, string> = {}): Promise<ServiceProcess[]> {
    const started = await Promise.all(
      Array.from({ length: count }, () => {
        const data = tempDir();
        this.dirs.push(data);
        return startServiceProcess(
          ['--data-dir', data.dir],
          {
            SQUALL_MONGO_URL: this.mongoUrl,
            SQUALL_REDIS_URL: REDIS_URL,
            SQUALL_AUTH_ENABLE: 'false',
            SQUALL_LOG_LEVEL: 'info',
            SQUALL_SCHEDULER_PROCESS_EVERY_MS: '300',
            ...LEASE_ENV,
            ...this.env,
            ...extraEnv,
          },
          90_000,
        );
      }),
    );
    this.procs.push(...started);
    return started;
  }

  byPid(pid: number | undefined): ServiceProcess | undefined {
    return this.procs.find((p) => p.child.pid === pid);
  }

  async stopAll(): Promise<void> {
    for (const p of this.procs) await p.stop('SIGKILL');
    for (const d of this.dirs) d.cleanup();
  }
}
