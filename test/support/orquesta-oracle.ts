import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withCacheLockSync } from './cache-lock.js';

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
 * Synchronous because the suite decides at collection time whether it can run.
 */
export function ensureOrquestaOracle(): string | undefined {
  if (works(ORQUESTA_PYTHON)) return ORQUESTA_PYTHON;
  // orquesta-cases and rehearsals both call this at collection time, possibly in two forks at once.
  return withCacheLockSync(ORQUESTA_VENV, () => (works(ORQUESTA_PYTHON) ? ORQUESTA_PYTHON : install()));
}

function install(): string | undefined {
  for (const python of candidates()) {
    if (spawnSync(python, ['--version'], { encoding: 'utf8' }).status !== 0) continue;
    rmSync(ORQUESTA_VENV, { recursive: true, force: true });
    if (spawnSync(python, ['-m', 'venv', ORQUESTA_VENV], { encoding: 'utf8' }).status !== 0) continue;
    const pip = spawnSync(ORQUESTA_PYTHON, ['-m', 'pip', 'install', '-q', 'orquesta==1.2.0'], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (pip.status === 0 && works(ORQUESTA_PYTHON)) return ORQUESTA_PYTHON;
  }
  rmSync(ORQUESTA_VENV, { recursive: true, force: true });
  return undefined;
}
