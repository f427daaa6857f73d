import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where scripts/st2-wiring and scripts/st2-self-check keep the packs' virtualenvs. */
export const PACK_VENVS = path.resolve(import.meta.dirname, '../../.cache/st2-wiring/pack-venvs');

/**
 * A virtualenv per pack that has a requirements.txt, as st2's launchdev.sh makes with
 * `st2ctl reload --register-setup-virtualenvs` (Squall refuses a pack's Python actions without
 * one, as st2 does). Kept in PACK_VENVS/<ref>, rebuilt when the requirements change; a
 * requirement pip cannot install leaves a warning and the virtualenv without it.
 */
export function ensurePackVenvs(packDirs: Record<string, string>, label: string): string {
  for (const [ref, dir] of Object.entries(packDirs)) {
    const req = path.join(dir, 'requirements.txt');
    if (!existsSync(req)) continue;
    const venv = path.join(PACK_VENVS, ref);
    const stamp = path.join(venv, '.requirements');
    const wanted = readFileSync(req, 'utf8');
    if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) continue;
    rmSync(venv, { recursive: true, force: true });
    if (spawnSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' }).status !== 0)
      throw new Error(`${label}: python3 -m venv ${venv} failed`);
    const pip = spawnSync(path.join(venv, 'bin', 'pip'), ['install', '-q', '-r', req], { stdio: 'inherit' });
    if (pip.status !== 0)
      process.stderr.write(`${label}: pip could not install all of ${ref}'s requirements.txt\n`);
    writeFileSync(stamp, wanted);
  }
  return PACK_VENVS;
}
