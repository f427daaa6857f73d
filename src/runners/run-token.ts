import { readdir, readFile } from 'node:fs/promises';

/**
 * The variable that marks every process of one spawner run (process.ts sets it in the command's
 * environment; children inherit it). Not a secret: it only names the run, so that a run whose
 * spawner died before it reported the command's pid can still have its processes found.
 */
export const RUN_TOKEN_VAR = 'SQUALL_RUN_TOKEN';

/** What a look through /proc found: the groups, or why it could not be made. */
export interface ProcessScan {
  groups: number[];
  /** Set when /proc could not be listed (not Linux, or no procfs): nothing could be found. */
  unavailable?: string;
}

/**
 * The process groups of the live processes whose environment holds RUN_TOKEN_VAR=`token`, read from
 * /proc/<pid>/environ (the environment each process was exec'd with). Linux only: elsewhere /proc
 * is missing and `unavailable` says so. Processes that are gone since the listing, zombies, and
 * processes of other users (EACCES: a command run through sudo as another user, when the service
 * is not root) are not found. Never this process's own group, nor group 0 or 1.
 */
export async function groupsCarryingToken(token: string): Promise<ProcessScan> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch (err) {
    return { groups: [], unavailable: (err as Error).message };
  }
  // NUL ends every entry: one inside, or the first one, which has no NUL before it.
  const entry = Buffer.from(`\0${RUN_TOKEN_VAR}=${token}\0`);
  const first = entry.subarray(1);
  const own = await groupOf('self');
  const groups = new Set<number>();
  await Promise.all(
    names.map(async (name) => {
      if (!/^\d+$/.test(name)) return;
      const environ = await readIfThere(`/proc/${name}/environ`);
      if (!environ) return;
      if (!environ.includes(entry) && !environ.subarray(0, first.length).equals(first)) return;
      const group = await groupOf(name);
      if (group !== undefined && group > 1 && group !== own) groups.add(group);
    }),
  );
  return { groups: [...groups] };
}

/** The process group of /proc/<name>, or undefined when it is gone or a zombie. */
async function groupOf(name: string): Promise<number | undefined> {
  const stat = (await readIfThere(`/proc/${name}/stat`))?.toString('utf8');
  if (!stat) return undefined;
  // After the command name in parentheses (which may itself hold spaces or parentheses): state,
  // ppid, pgrp.
  const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (state === 'Z' || state === 'X') return undefined;
  return Number(pgrp);
}

/** A /proc file's bytes; undefined when the process went away or is not ours to read. */
async function readIfThere(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM') return undefined;
    throw err;
  }
}
