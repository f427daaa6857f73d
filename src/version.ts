import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this module with a package.json. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'squall') return dir;
    } catch {
      // not here; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the Squall package root');
    dir = parent;
  }
}

export const VERSION: string = (
  JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }
).version;

/**
 * The StackStorm release whose API, CLI and content Squall answers as (st2client 3.9.0 is what its
 * st2 CLI support is checked with). `GET /api/v1/` and `/api/v1/health` name it, Python actions see
 * it as `st2common.__version__`, and a pack's `stackstorm_version` is checked against it at install.
 */
export const STACKSTORM_VERSION = '3.9.0';
