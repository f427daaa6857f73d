import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Services } from '../service/index.js';

/**
 * Squall's own packs (core, chatops, linux, examples), shipped in the repository's packs/.
 * From src/content (tests, dev) that is ../../packs; from the build in dist/src/content, ../../../packs.
 */
export const BUNDLED_PACKS_DIR =
  [new URL('../../packs', import.meta.url), new URL('../../../packs', import.meta.url)]
    .map((u) => resolve(fileURLToPath(u)))
    .find((dir) => existsSync(join(dir, 'core', 'pack.yaml'))) ??
  resolve(fileURLToPath(new URL('../../packs', import.meta.url)));

/** Where packs are looked for: the configured paths, then the install dir (bundled packs come first). */
export function packSearchPaths(services: Services): string[] {
  const { packs } = services.config;
  return [...packs.paths, packs.install_dir!];
}
