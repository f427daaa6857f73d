import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { withCacheLock } from './cache-lock.js';
import { describeOnEachStore, type StoreTarget } from './servers.js';
import { ROOT } from './service-process.js';

/** The official StackStorm CLI (PyPI st2client), installed in a venv under the repo's .cache. */
export const ST2CLIENT_VERSION = '3.9.0';
export const ST2_VENV = path.join(ROOT, '.cache', 'st2client');
export const ST2_BIN = path.join(ST2_VENV, 'bin', 'st2');

/** True when the st2 CLI is installed or can be (python3 with venv is present). */
export const ST2_CLI_INSTALLABLE: boolean =
  existsSync(ST2_BIN) ||
  spawnSync('python3', ['-c', 'import venv, ensurepip'], { stdio: 'ignore' }).status === 0;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command asynchronously (never spawnSync: the server may live in this process). */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${cmd} ${args.join(' ')} did not finish in ${opts.timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Returns the path of the st2 executable, creating the venv and installing st2client from PyPI
 * when it is missing or broken (reused when present).
 */
export async function ensureSt2Client(): Promise<string> {
  const installed = async (): Promise<boolean> =>
    existsSync(ST2_BIN) && (await run(ST2_BIN, ['--version'], { timeoutMs: 60_000 })).code === 0;
  if (await installed()) return ST2_BIN;
  // Three test files use it; `venv --clear` by one fork would wipe another's half-done install.
  return withCacheLock(ST2_VENV, async () => ((await installed()) ? ST2_BIN : installSt2Client()));
}

async function installSt2Client(): Promise<string> {
  const venv = await run('python3', ['-m', 'venv', '--clear', ST2_VENV], { timeoutMs: 180_000 });
  if (venv.code !== 0) throw new Error(`python3 -m venv ${ST2_VENV} failed:\n${venv.stderr}`);
  const pip = await run(
    path.join(ST2_VENV, 'bin', 'pip'),
    ['install', '--disable-pip-version-check', '--quiet', `st2client==${ST2CLIENT_VERSION}`],
    { timeoutMs: 540_000 },
  );
  if (pip.code !== 0) throw new Error(`pip install st2client failed:\n${pip.stdout}\n${pip.stderr}`);
  return ST2_BIN;
}

/** A st2 CLI bound to one Squall URL and one HOME (st2 caches its token in ~/.st2). */
export interface St2Cli {
  (...args: string[]): Promise<Run>;
  /** Runs st2 and fails (with its output) unless it exits 0. */
  ok(...args: string[]): Promise<string>;
  /** Runs st2 with `-j` and parses its JSON output. */
  json<T = any>(...args: string[]): Promise<T>;
}

export function st2Cli(bin: string, baseUrl: string, home: string): St2Cli {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    // st2 colours its output only on these TERMs; plain text keeps assertions readable.
    TERM: 'dumb',
    LANG: 'C.UTF-8',
    ST2_BASE_URL: baseUrl,
    ST2_API_URL: `${baseUrl}/api/v1`,
    ST2_AUTH_URL: `${baseUrl}/auth/v1`,
    ST2_STREAM_URL: `${baseUrl}/stream/v1`,
  };
  const cli = ((...args: string[]) => run(bin, args, { env, cwd: home, timeoutMs: 90_000 })) as St2Cli;
  cli.ok = async (...args) => {
    const r = await cli(...args);
    if (r.code !== 0) {
      throw new Error(`st2 ${args.join(' ')} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    }
    return r.stdout;
  };
  cli.json = async (...args) => JSON.parse(await cli.ok(...args, '-j'));
  return cli;
}

/** A property row of st2's vertical table: `| name  | value  |`. */
export function st2Row(name: string, value: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\\|\\s*${esc(name)}\\s*\\|\\s*${esc(value)}\\s*\\|`);
}

/**
 * One describe per store (embedded, MongoDB) for a suite that drives the st2 CLI, skipped with
 * the reason when python3's venv (or MongoDB) is missing.
 */
export function describeSt2PerStore(title: string, body: (target: StoreTarget) => void): void {
  describeOnEachStore(title, body, {
    server: 'python3 with venv (for st2client)',
    available: ST2_CLI_INSTALLABLE,
  });
}
