import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * st2's SYSTEM_PACK_NAMES (st2common/constants/pack.py): packs that run on st2's own Python and
 * never get a virtualenv of their own.
 */
export const SYSTEM_PACK_NAMES: readonly string[] = ['chatops', 'core', 'packs', 'linux'];

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Why a pack's Python code cannot run here, or undefined when it can.
 *
 * st2's python runner and sensor container refuse any non-system pack whose virtualenv is not a
 * directory (PACK_VIRTUALENV_DOESNT_EXIST). Squall builds a virtualenv exactly when a pack has a
 * requirements.txt (for a pack without one, st2's virtualenv would hold nothing but what Squall
 * already gives it), so it refuses in the same case st2 would notice a difference: a pack that
 * declares requirements was put in place without `squall pack install` (a `packs.paths`
 * directory registered with `squall pack register`). Running it on the machine's Python would
 * fail later and further from the cause, or silently use other versions than the pack pins.
 */
export function missingVirtualenv(
  pack: string,
  packDir: string,
  virtualenvsDir: string | undefined,
): string | undefined {
  if (SYSTEM_PACK_NAMES.includes(pack) || !packDir) return undefined;
  const requirements = path.join(packDir, 'requirements.txt');
  if (!existsSync(requirements)) return undefined;
  const venv = path.resolve(virtualenvsDir ?? '', pack);
  if (isDir(venv)) return undefined;
  // st2's fix, `st2 run packs.setup_virtualenv`, becomes the two commands it runs: the virtualenv
  // is keyed by ref, so the pack can stay where it is (a `squall pack install` of the same
  // directory would add a second copy, skipped as DUPLICATE_PACK behind the packs.paths one).
  return (
    `The virtual environment (${venv}) for pack "${pack}" does not exist. Normally this is created ` +
    `when you install a pack using "squall pack install". If you installed your pack by some other ` +
    `means, you can create a new virtual environment using the commands: python3 -m venv ${venv} && ` +
    `${path.join(venv, 'bin', 'pip')} install -r ${requirements}`
  );
}
