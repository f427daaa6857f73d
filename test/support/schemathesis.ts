/*
 * Schemathesis (PyPI) in a venv under <repo>/.cache/schemathesis-venv, created on first use and
 * reused. The version is pinned so that a seed generates the same cases on every machine.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { withCacheLock } from './cache-lock.js';

const execFileAsync = promisify(execFile);

const ROOT = path.resolve(import.meta.dirname, '../..');
export const SCHEMATHESIS_VERSION = '4.32.5';
export const SCHEMATHESIS_VENV = path.join(ROOT, '.cache/schemathesis-venv');
const CLI = path.join(SCHEMATHESIS_VENV, 'bin/schemathesis');

function installed(): boolean {
  if (!existsSync(CLI)) return false;
  const r = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(SCHEMATHESIS_VERSION);
}

/**
 * The schemathesis CLI, installing it on first use; throws (with pip's output) when that fails.
 * Async, so that the fork installing it keeps answering vitest's RPC during the minutes pip takes.
 */
export async function ensureSchemathesis(): Promise<string> {
  if (installed()) return CLI;
  return withCacheLock(SCHEMATHESIS_VENV, async () => (installed() ? CLI : install()));
}

async function install(): Promise<string> {
  mkdirSync(path.dirname(SCHEMATHESIS_VENV), { recursive: true });
  rmSync(SCHEMATHESIS_VENV, { recursive: true, force: true });
  const step = async (what: string, cmd: string, args: string[]): Promise<void> => {
    try {
      await execFileAsync(cmd, args, { timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '');
      throw Object.assign(new Error(`${what} failed: ${stderr.slice(-3000) || (err as Error).message}`), {
        code: 'SCHEMATHESIS_INSTALL_FAILED',
        context: { venv: SCHEMATHESIS_VENV },
      });
    }
  };
  await step('python3 -m venv', 'python3', ['-m', 'venv', SCHEMATHESIS_VENV]);
  await step(
    `pip install schemathesis==${SCHEMATHESIS_VERSION}`,
    path.join(SCHEMATHESIS_VENV, 'bin/python'),
    ['-m', 'pip', 'install', '-q', `schemathesis==${SCHEMATHESIS_VERSION}`],
  );
  if (!installed()) throw new Error(`schemathesis ${SCHEMATHESIS_VERSION} installed but does not run`);
  return CLI;
}

/**
 * Runs the CLI with `args` in `cwd` (it keeps a `.schemathesis/` cache there); resolves with its exit code and output (it never rejects on a failing run). */
export async function runSchemathesis(
  args: string[],
  cwd: string,
  timeoutMs: number,
  options: { protectedUsers?: string[] } = {},
): Promise<{ code: number | null; output: string }> {
  const cli = await ensureSchemathesis();
  return new Promise((resolve, reject) => {
    const child = spawn(cli, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NO_COLOR: '1',
        // schemathesis_hooks.py (next to this file): keeps the run from locking itself out.
        PYTHONPATH: import.meta.dirname,
        SCHEMATHESIS_HOOKS: 'schemathesis_hooks',
        SQUALL_FUZZ_PROTECTED_USERS: (options.protectedUsers ?? []).join(','),
      },
    });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
