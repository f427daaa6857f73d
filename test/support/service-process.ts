import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Auth off, quiet, and fast heartbeats: a killed service process is judged dead (its running
 * executions abandoned, or run again) within about a second and a half.
 */
export const FAST_RECOVERY = {
  SQUALL_AUTH_ENABLE: 'false',
  SQUALL_LOG_LEVEL: 'warn',
  SQUALL_EXECUTIONS_HEARTBEAT_MS: '200',
  SQUALL_EXECUTIONS_DEAD_AFTER_MS: '1500',
  SQUALL_EXECUTIONS_CHECK_EVERY_MS: '300',
  SQUALL_SCHEDULER_PROCESS_EVERY_MS: '200',
  SQUALL_SCHEDULER_LOCK_LIFETIME_MS: '1000',
};

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `squall start` from the sources in a child process and waits until it serves HTTP. */
export async function startServiceProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
  /** Node options before the script, e.g. another `--import` (tsx is always loaded first). */
  nodeArgs: string[] = [],
): Promise<ServiceProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ...nodeArgs, 'src/cli/run.ts', 'start', '--port', '0', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, SQUALL_LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running: its caller never gets it to stop, and it would go on using the database.
      child.kill('SIGKILL');
      reject(new Error(`service did not start in ${timeoutMs} ms:\n${output.join('\n')}`));
    }, timeoutMs);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        const m = /^Squall is up: (\S+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    }
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code ?? signal}) before starting:\n${output.join('\n')}`));
    });
  });
  return {
    child,
    url,
    output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
