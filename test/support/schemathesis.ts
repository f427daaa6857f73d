/*
 * Schemathesis (PyPI) in a venv under <repo>/.cache/schemathesis-venv, created on first use and
 * reused. The version is pinned so that a seed generates the same cases on every machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { withCacheLockSync } from './cache-lock.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const SCHEMATHESIS_VERSION = '4.32.5';
export const SCHEMATHESIS_VENV = path.join(ROOT, '.cache/schemathesis-venv');
const CLI = path.join(SCHEMATHESIS_VENV, 'bin/schemathesis');

function installed(): boolean {
  if (!existsSync(CLI)) return false;
  const r = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(SCHEMATHESIS_VERSION);
}

/** The schemathesis CLI, installing it on first use; throws (with pip's output) when that fails. */
export function ensureSchemathesis(): string {
  if (installed()) return CLI;
  return withCacheLockSync(SCHEMATHESIS_VENV, () => (installed() ? CLI : install()));
}

function install(): string {
  mkdirSync(path.dirname(SCHEMATHESIS_VENV), { recursive: true });
  rmSync(SCHEMATHESIS_VENV, { recursive: true, force: true });
  const venv = spawnSync('python3', ['-m', 'venv', SCHEMATHESIS_VENV], { encoding: 'utf8' });
  if (venv.status !== 0) throw new Error(`python3 -m venv failed: ${venv.stderr}`);
  const pip = spawnSync(
    path.join(SCHEMATHESIS_VENV, 'bin/python'),
    ['-m', 'pip', 'install', '-q', `schemathesis==${SCHEMATHESIS_VERSION}`],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (pip.status !== 0 || !installed())
    throw new Error(`pip install schemathesis==${SCHEMATHESIS_VERSION} failed: ${pip.stderr.slice(-3000)}`);
  return CLI;
}

/**
 * Runs the CLI with `args` in `cwd` (it keeps a `.schemathesis/` cache there); resolves with its exit code and output (it never rejects on a failing run). */
export function runSchemathesis(
  args: string[],
  cwd: string,
  timeoutMs: number,
  options: { protectedUsers?: string[] } = {},
): Promise<{ code: number | null; output: string }> {
  const cli = ensureSchemathesis();
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
