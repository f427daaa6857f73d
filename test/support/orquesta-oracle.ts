import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { withCacheLock } from './cache-lock.js';

const execFileAsync = promisify(execFile);

const ROOT = path.resolve(import.meta.dirname, '../..');
export const ORQUESTA_VENV = path.join(ROOT, '.cache/orquesta-venv');
export const ORQUESTA_PYTHON = path.join(ORQUESTA_VENV, 'bin/python');

function works(python: string): boolean {
  return (
    existsSync(python) &&
    spawnSync(python, ['-c', 'import orquesta.conducting'], { encoding: 'utf8' }).status === 0
  );
}

/** Interpreters PyPI's orquesta 1.2 runs on, best first: pyenv's 3.8/3.9, then whatever python3 is. */
function candidates(): string[] {
  const out: string[] = [];
  const pyenv = process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv');
  try {
    for (const v of readdirSync(path.join(pyenv, 'versions')).sort()) {
      if (/^3\.(8|9)\./.test(v)) out.push(path.join(pyenv, 'versions', v, 'bin/python'));
    }
  } catch {
    // no pyenv: fall back to the interpreters on PATH
  }
  return [...out, 'python3.8', 'python3.9', 'python3'];
}

/**
 * The Python that runs the real orquesta (the oracle of our conductor), creating
 * .cache/orquesta-venv on first use; undefined when no interpreter here can run it.
 * Test files await it at collection time (the suite decides then whether it can run). Async, so
 * that a fork waiting minutes for the install (its own, or another fork's under the lock) keeps
 * answering vitest's RPC: a blocked fork fails the run with `Timeout calling "onTaskUpdate"`.
 */
export async function ensureOrquestaOracle(): Promise<string | undefined> {
  if (works(ORQUESTA_PYTHON)) return ORQUESTA_PYTHON;
  // orquesta-cases and rehearsals both call this, possibly in two forks at once.
  return withCacheLock(ORQUESTA_VENV, async () => (works(ORQUESTA_PYTHON) ? ORQUESTA_PYTHON : install()));
}

/** Whether `cmd args` exits 0 (its output is not needed, only whether the step worked). */
const succeeds = (cmd: string, args: string[], timeout = 180_000): Promise<boolean> =>
  execFileAsync(cmd, args, { timeout, maxBuffer: 64 * 1024 * 1024 }).then(
    () => true,
    () => false,
  );

async function install(): Promise<string | undefined> {
  for (const python of candidates()) {
    if (!(await succeeds(python, ['--version']))) continue;
    rmSync(ORQUESTA_VENV, { recursive: true, force: true });
    if (!(await succeeds(python, ['-m', 'venv', ORQUESTA_VENV]))) continue;
    const pip = await succeeds(ORQUESTA_PYTHON, ['-m', 'pip', 'install', '-q', 'orquesta==1.2.0'], 600_000);
    if (pip && works(ORQUESTA_PYTHON)) return ORQUESTA_PYTHON;
  }
  rmSync(ORQUESTA_VENV, { recursive: true, force: true });
  return undefined;
}
