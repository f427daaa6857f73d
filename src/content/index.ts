import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadPacks } from './loader.js';
import { BUNDLED_PACKS_DIR } from './paths.js';
import type { ContentProblem } from './problems.js';

export { loadPack, loadPacks } from './loader.js';
export { isSemver } from './semver.js';
export { formatProblem, hasErrors, type ContentProblem } from './problems.js';
export type * from './types.js';
export { toStandardSchema, parametersToObjectSchema } from './validate.js';
export * as schemas from './schemas/index.js';
export {
  installPack,
  MAX_PACK_YAML_BYTES,
  removePack,
  searchIndex,
  parsePackSource,
  type InstallReport,
  type InstallOptions,
  type RemoveOptions,
  type IndexEntry,
  type InstallProgress,
} from './install.js';

export { BUNDLED_PACKS_DIR, packSearchPaths } from './paths.js';

export async function bundledPackDirs(): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(BUNDLED_PACKS_DIR)).sort()) {
    const dir = join(BUNDLED_PACKS_DIR, name);
    if ((await stat(dir)).isDirectory()) out.push(dir);
  }
  return out;
}

/**
 * Problems of one pack directory, checked as it would be installed next to Squall's bundled
 * packs (so `core.local` and the system trigger types are known).
 */
export async function validatePackDir(
  dir: string,
  options: { configDir?: string } = {},
): Promise<ContentProblem[]> {
  const target = resolve(dir);
  const others = (await bundledPackDirs()).filter((d) => d !== target);
  const result = await loadPacks([target, ...others], options);
  return result.problems.filter((p) => p.pack_dir === target);
}
export { contentSubsystem, renderPackConfig, type ContentOptions } from './subsystem.js';
export { validateAliasBody } from './alias-routes.js';
