import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The variable that marks every process of one local run (process.ts sets it in the environment of
 * each command, Python action and Node.js action it starts; children inherit it). Not a secret: it
 * only names the run and the service process that started it, so that the processes of a run can
 * be found when nobody knows their pid any more: a spawner killed before it reported the pid, or a
 * service killed outright with its spawner (found at the next start: killOrphans).
 */
export const RUN_TOKEN_VAR = 'SQUALL_RUN_TOKEN';

/** What a look through /proc found: the groups, or why it could not be made. */
export interface ProcessScan {
  groups: number[];
  /** Set when /proc could not be listed (not Linux, or no procfs): nothing could be found. */
  unavailable?: string;
}

/**
 * This process as a token names it: its pid namespace, pid and start time (clock ticks after boot,
 * /proc/self/stat). A pid alone could be reused by another process once the service is dead; pid
 * and start time together name one process for as long as the machine runs. The namespace keeps a
 * service from judging the runs of a service in another pid namespace (a container seen from the
 * host) by pids that mean something else there. Elsewhere than Linux: zeros, never judged.
 */
let owner: string | undefined;
function ownerMark(): string {
  if (owner !== undefined) return owner;
  try {
    owner = `${pidNamespace()}.${process.pid}.${startTicks(readFileSync('/proc/self/stat', 'utf8'))}`;
  } catch {
    owner = `0.${process.pid}.0`;
  }
  return owner;
}

function pidNamespace(): string {
  return /\d+/.exec(readlinkSync('/proc/self/ns/pid'))?.[0] ?? '0';
}

/** A new run's token: `<pid namespace>.<service pid>.<service start ticks>.<uuid>`. */
export function newRunToken(): string {
  return `${ownerMark()}.${randomUUID()}`;
}

/**
 * The process groups of the live processes whose environment holds RUN_TOKEN_VAR=`token`, read from
 * /proc/<pid>/environ (the environment each process was exec'd with). Linux only: elsewhere /proc
 * is missing and `unavailable` says so. Processes that are gone since the listing, zombies, and
 * processes of other users (EACCES: a command run through sudo as another user, when the service
 * is not root) are not found. Never this process's own group, nor group 0 or 1.
 */
export function groupsCarryingToken(token: string): Promise<ProcessScan> {
  return groupsWhoseToken(async (found) => found === token);
}

/**
 * Where this process notes its runs in flight (trackRunsIn): one empty file per run, named by its
 * token, made before the run starts and removed once it has ended. Unset (runner tests, tools):
 * nothing is noted and killOrphans finds nothing.
 */
let runsDir: string | undefined;

/**
 * Notes this process's runs in flight in `dir` (the data directory's `runs`), for killOrphans;
 * undefined stops (a stopped service, whose data directory may be removed next).
 */
export function trackRunsIn(dir: string | undefined): void {
  runsDir = dir;
}

/**
 * Notes a run in flight: a process left running by a run that ended (a daemon started with
 * `nohup … &`) is no orphan and must survive the next start, as it always has; only a run that was
 * still going when its service died is one. A write that fails is warned about: the run goes on,
 * only its cleanup after a crash is lost.
 */
export function noteRunStarted(token: string): void {
  if (!runsDir) return;
  const file = path.join(runsDir, token);
  try {
    writeFileSync(file, '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return warnNote('note', file, err);
    try {
      // Not recursive: a data directory that is gone is not made again here.
      mkdirSync(runsDir);
      writeFileSync(file, '');
    } catch (again) {
      warnNote('note', file, again);
    }
  }
}

/** The run of `token` has ended: no longer in flight. */
export function noteRunEnded(token: string): void {
  if (!runsDir) return;
  const file = path.join(runsDir, token);
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warnNote('remove', file, err);
  }
}

function warnNote(what: string, file: string, err: unknown): void {
  process.emitWarning(`could not ${what} the in-flight mark ${file}: ${(err as Error).message}`);
}

/**
 * The tokens of the runs that were in flight (noted, not ended) when their service process died:
 * noted in this pid namespace by a process (pid and start time) that no longer runs. A live
 * service's runs are never among them, whichever service looks.
 */
async function orphanedRuns(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ns = ownerMark().split('.')[0];
  const dead = new Map<string, Promise<boolean>>();
  const found = await Promise.all(
    names.map(async (token) => {
      const [tokenNs, pid, ticks] = token.split('.');
      if (tokenNs !== ns || ns === '0' || !/^\d+$/.test(pid ?? '') || !ticks) return undefined;
      const key = `${pid}.${ticks}`;
      if (!dead.has(key)) dead.set(key, ownerGone(pid, ticks));
      return (await dead.get(key)) ? token : undefined;
    }),
  );
  return found.filter((token): token is string => token !== undefined);
}

/**
 * Whether the service process `pid` started at `ticks` is gone: no such process, a zombie, or
 * another process now under that pid. One this process may not look at (hidepid) counts as alive.
 */
async function ownerGone(pid: string, ticks: string): Promise<boolean> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return true;
    if (code === 'EACCES' || code === 'EPERM') return false;
    throw err;
  }
  return !isAlive(stat) || startTicks(stat) !== ticks;
}

/**
 * Kills the groups `look` finds: SIGTERM now, SIGKILL after `grace` to those and to any a second
 * look finds (a child forked, not yet exec'd, by a process that died carried its parent's
 * environment, not the mark). Resolves with the groups of the first look, or why none could be
 * looked for (no /proc: not Linux).
 */
export async function killFoundGroups(look: () => Promise<ProcessScan>, grace: number): Promise<ProcessScan> {
  const found = await look();
  if (found.unavailable) return found;
  for (const group of found.groups) killGroup(group, 'SIGTERM');
  const killTimer = setTimeout(() => {
    look()
      .then((again) => {
        for (const group of new Set([...found.groups, ...again.groups])) killGroup(group, 'SIGKILL');
      })
      .catch((err: unknown) =>
        process.emitWarning(`could not SIGKILL the processes of a lost run: ${(err as Error).message}`),
      );
  }, grace);
  killTimer.unref();
  return found;
}

/**
 * At a service's start: kills the process groups of the runs that were in flight when their
 * service died (SIGTERM, then SIGKILL after `grace`), and forgets those runs. A service killed
 * outright has its spawner kill the groups of its runs; this finds what is left when the spawner
 * died too, or when the service died before it could ask the spawner to watch a run.
 */
export async function killOrphans(grace: number): Promise<ProcessScan & { runs: number }> {
  if (!runsDir) return { groups: [], runs: 0 };
  const dir = runsDir;
  const tokens = new Set(await orphanedRuns(dir));
  if (tokens.size === 0) return { groups: [], runs: 0 };
  const found = await killFoundGroups(() => groupsWhoseToken((token) => tokens.has(token)), grace);
  // Not forgotten when nothing could be looked for: a later start on a machine with /proc may.
  if (!found.unavailable) for (const token of tokens) noteRunEnded(token);
  return { ...found, runs: tokens.size };
}

/** Sends `sig` to the process group led by `pid`; a group that is already gone is not an error. */
export function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function groupsWhoseToken(wanted: (token: string) => Promise<boolean> | boolean): Promise<ProcessScan> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch (err) {
    return { groups: [], unavailable: (err as Error).message };
  }
  const own = await groupOf('self');
  const groups = new Set<number>();
  await Promise.all(
    names.map(async (name) => {
      if (!/^\d+$/.test(name)) return;
      const environ = await readIfThere(`/proc/${name}/environ`);
      const token = environ && tokenIn(environ);
      if (token === undefined || !(await wanted(token))) return;
      const group = await groupOf(name);
      if (group !== undefined && group > 1 && group !== own) groups.add(group);
    }),
  );
  return { groups: [...groups] };
}

const ENTRY = Buffer.from(`\0${RUN_TOKEN_VAR}=`);

/** The value of RUN_TOKEN_VAR in an environ block (NUL-separated NAME=value entries), if set. */
function tokenIn(environ: Buffer): string | undefined {
  // NUL ends every entry: one inside, or the first one, which has no NUL before it.
  let start: number;
  if (environ.subarray(0, ENTRY.length - 1).equals(ENTRY.subarray(1))) start = ENTRY.length - 1;
  else {
    const at = environ.indexOf(ENTRY);
    if (at < 0) return undefined;
    start = at + ENTRY.length;
  }
  const end = environ.indexOf(0, start);
  return environ.toString('utf8', start, end < 0 ? environ.length : end);
}

/** The process group of /proc/<name>, or undefined when it is gone or a zombie. */
async function groupOf(name: string): Promise<number | undefined> {
  const stat = (await readIfThere(`/proc/${name}/stat`))?.toString('utf8');
  if (!stat || !isAlive(stat)) return undefined;
  return Number(statFields(stat)[2]);
}

/**
 * The fields of /proc/<pid>/stat after the command name in parentheses (which may itself hold
 * spaces or parentheses): [0] is the state (field 3), [1] ppid, [2] pgrp, [19] starttime (field 22).
 */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function isAlive(stat: string): boolean {
  const state = statFields(stat)[0];
  return state !== 'Z' && state !== 'X';
}

function startTicks(stat: string): string {
  return statFields(stat)[19] ?? '';
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
