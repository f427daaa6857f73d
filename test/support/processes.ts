import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * True while the process exists and is not a zombie. A command whose parent died (the spawner, or
 * bash killed with its group) is re-parented to this machine's init, which may reap it late: an
 * orphan zombie is already dead.
 */
export function processExists(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The pid a test's child wrote to `file`, or null while it has not. */
export function pidIn(file: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8'));
  return pid > 0 ? pid : null;
}

/**
 * The live processes whose environment holds `entry` (NAME=value) exactly: how a test finds a
 * command it never learned the pid of. Linux only (/proc); processes of other users are skipped.
 */
export function pidsWithEnv(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${name}/environ`, 'utf8');
    } catch {
      continue; // gone since the readdir, or not ours to read
    }
    if (environ.split('\0').includes(entry) && processExists(pid)) found.push(pid);
  }
  return found;
}
