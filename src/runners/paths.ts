import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SquallError } from '../errors.js';

let cachedRoot: string | undefined;

/**
 * The folder holding Squall's package.json. Non-TypeScript assets (the Python shim, the Node action
 * host) are read from the source tree, because `tsc` does not copy them into dist/; walking up from
 * this module finds the same root whether we run from src/ (vitest) or dist/src/ (built).
 */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new SquallError(
        'RUNNER_ASSETS_NOT_FOUND',
        `could not find Squall's package.json above ${fileURLToPath(import.meta.url)}`,
        {
          module: import.meta.url,
        },
      );
    }
    dir = parent;
  }
}

/** Directory of the Python shim package (`st2common`, `st2actions`). */
export function pythonShimDir(): string {
  return path.join(repoRoot(), 'src', 'runners', 'python', 'shim');
}

/** The Python wrapper script that loads and runs an st2 Python action. */
export function pythonWrapperPath(): string {
  return path.join(repoRoot(), 'src', 'runners', 'python', 'wrapper.py');
}

/** The Node module that hosts a `nodejs` action in its child process. */
export function nodeHostPath(): string {
  return path.join(repoRoot(), 'src', 'runners', 'nodejs', 'host.mjs');
}

/** The spawner process, which starts local action processes for the service (spawner.ts). */
export function spawnerHostPath(): string {
  return path.join(repoRoot(), 'src', 'runners', 'spawner', 'host.mjs');
}

/** Resolves an action's entry point against `<packDir>/actions/` (st2's layout). */
export function resolveEntryPoint(
  packDir: string,
  entryPoint: string | undefined,
  actionRef: string,
): string {
  if (!entryPoint) {
    throw new SquallError(
      'RUNNER_ENTRY_POINT_MISSING',
      `action "${actionRef}" has no entry_point; its runner needs a file to run`,
      {
        action: actionRef,
      },
    );
  }
  const resolved = path.isAbsolute(entryPoint) ? entryPoint : path.resolve(packDir, 'actions', entryPoint);
  if (!existsSync(resolved)) {
    throw new SquallError(
      'RUNNER_ENTRY_POINT_NOT_FOUND',
      `entry_point "${entryPoint}" of action "${actionRef}" does not exist (looked at ${resolved})`,
      {
        action: actionRef,
        entry_point: entryPoint,
        path: resolved,
      },
    );
  }
  return resolved;
}
