import { execFile } from 'node:child_process';
import { ROOT } from './service-process.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the `squall` CLI in a child process against `apiUrl`, asynchronously (the API may run in
 * this process and must keep serving). `env` adds to a bare environment (PATH, HOME).
 */
export function runCli(args: string[], apiUrl: string, env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/run.ts', ...args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: env.HOME ?? '/nonexistent',
          SQUALL_API_URL: apiUrl,
          COLUMNS: '200',
          ...env,
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
