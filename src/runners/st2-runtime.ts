import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { repoRoot } from './paths.js';

/**
 * The "st2 runtime" site: the libraries StackStorm's python runner lends to pack code from its own
 * virtualenv (six, yaml, eventlet, requests, st2client…; see src/runners/python/st2-runtime.txt).
 * Squall installs them once with `pip install --target` into a cache shared by every pack and every
 * Squall on the machine; each pack still has its own virtualenv, whose site comes first.
 */

const PIP_TIMEOUT_MS = 15 * 60_000;
/** After a failed install (e.g. no network), Python code runs without the site until this long has passed. */
const RETRY_AFTER_MS = 5 * 60_000;
const COMPLETE_MARK = '.complete';

interface RuntimeLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export function st2RuntimeRequirementsPath(): string {
  return path.join(repoRoot(), 'src', 'runners', 'python', 'st2-runtime.txt');
}

/** `SQUALL_ST2_RUNTIME_DIR`, else `$XDG_CACHE_HOME/squall/st2-runtime`, else `~/.cache/squall/st2-runtime`. */
export function st2RuntimeBaseDir(): string {
  if (process.env.SQUALL_ST2_RUNTIME_DIR) return path.resolve(process.env.SQUALL_ST2_RUNTIME_DIR);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'squall', 'st2-runtime');
}

/** pip installs under way, each in its own process group (pyenv's pip is a shell that starts python). */
const installing = new Set<ChildProcess>();
const OUTPUT_KEPT = 1024 * 1024;
let stopping = false;

function run(cmd: string, args: string[], timeout: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout or shutdown reaches python behind pyenv's pip shell.
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    installing.add(child);
    const out = { stdout: '', stderr: '' };
    // Only the end is ever shown (the last lines of a failure): keep 1 MiB of each.
    child.stdout.on('data', (d: Buffer) => (out.stdout = (out.stdout + d.toString()).slice(-OUTPUT_KEPT)));
    child.stderr.on('data', (d: Buffer) => (out.stderr = (out.stderr + d.toString()).slice(-OUTPUT_KEPT)));
    const timer = setTimeout(() => killGroup(child), timeout);
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      installing.delete(child);
      if (err) reject(err);
      else resolve(out);
    };
    child.once('error', (err) => settle(new Error(`${cmd} ${args.join(' ')} failed: ${errorMessage(err)}`)));
    child.once('close', (code, signal) => {
      if (code === 0) return settle();
      const tail = out.stderr.trim().split('\n').slice(-8).join('\n');
      settle(new Error(`${cmd} ${args.join(' ')} failed: ${tail || `exit ${code ?? signal}`}`));
    });
  });
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
  } catch (err) {
    // ESRCH: the group ended between our look and the signal, which is what we wanted.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * At shutdown: a pip install of the site left running would go on after the process, orphaned, and
 * its staging directory would stay (the code that removes it dies with the process). Stops it and
 * waits until the staging directory is gone; the next start installs again.
 */
export async function stopSt2RuntimeInstall(): Promise<void> {
  stopping = true;
  try {
    for (const child of installing) killGroup(child);
    // Its failure (we killed it) is ensureSt2Runtime's to handle; here we only wait for its cleanup.
    if (pending) await pending.catch(() => undefined);
  } finally {
    stopping = false;
  }
}

/** The runtime's directory for this requirements list and this python3 (compiled wheels are per version). */
async function runtimeDir(): Promise<string> {
  const { stdout } = await run(
    'python3',
    ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'],
    30_000,
  );
  const version = stdout.trim();
  const hash = createHash('sha256')
    .update(readFileSync(st2RuntimeRequirementsPath()))
    .update(version)
    .digest('hex')
    .slice(0, 12);
  return path.join(st2RuntimeBaseDir(), `py${version}-${hash}`);
}

async function install(dir: string, logger?: RuntimeLogger): Promise<string> {
  const site = path.join(dir, 'site');
  if (existsSync(path.join(dir, COMPLETE_MARK))) return site;
  // Built aside and renamed into place, so a half-built site is never used, even by another Squall.
  const staging = `${dir}.staging-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  logger?.info({ dir }, 'installing the st2 runtime site for Python packs (once per machine)');
  try {
    await run(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-warn-conflicts',
        '--quiet',
        '--target',
        path.join(staging, 'site'),
        '-r',
        st2RuntimeRequirementsPath(),
      ],
      PIP_TIMEOUT_MS,
    );
    await writeFile(path.join(staging, COMPLETE_MARK), new Date().toISOString() + '\n');
    try {
      await rename(staging, dir);
    } catch (err) {
      // Another process finished first: use its copy.
      if (!existsSync(path.join(dir, COMPLETE_MARK))) throw err;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  logger?.info({ dir }, 'st2 runtime site ready');
  return site;
}

let pending: Promise<string> | undefined;
let failedAt = 0;
let installed = false;

/**
 * Whether ensureSt2Runtime() would answer without installing anything: the site is known to be in
 * place, or the last install failed too recently to try again. Sensors use it to start without
 * holding the rest of start-up while pip runs (a first start on a new machine: ~10 s, offline: minutes).
 */
export function st2RuntimeSettled(): boolean {
  return installed || (!pending && failedAt > 0 && Date.now() - failedAt < RETRY_AFTER_MS);
}

/**
 * The st2 runtime site, installing it on first use. When it cannot be installed the error is
 * logged and undefined returned: pack code then runs without it (and says which module it misses).
 */
export async function ensureSt2Runtime(logger?: RuntimeLogger): Promise<string | undefined> {
  if (!pending && Date.now() - failedAt < RETRY_AFTER_MS) return undefined;
  pending ??= runtimeDir().then((dir) => install(dir, logger));
  try {
    const site = await pending;
    installed = true;
    return site;
  } catch (err) {
    // Stopped by stopSt2RuntimeInstall() at shutdown: not a failure to report.
    if (!stopping && (failedAt === 0 || Date.now() - failedAt >= RETRY_AFTER_MS)) {
      logger?.warn(
        { err: errorMessage(err), requirements: st2RuntimeRequirementsPath() },
        'could not install the st2 runtime site; Python packs run without six, yaml, eventlet, st2client…',
      );
    }
    failedAt = Date.now();
    pending = undefined;
    return undefined;
  }
}

/** `<venv>/lib/pythonX.Y/site-packages` of a pack's virtualenv. */
function venvSitePackages(venvDir: string): string[] {
  const lib = path.join(venvDir, 'lib');
  if (!existsSync(lib)) return [];
  return readdirSync(lib)
    .filter((d) => d.startsWith('python'))
    .map((d) => path.join(lib, d, 'site-packages'))
    .filter((d) => existsSync(d));
}

export interface PackPythonPathOptions {
  /** The pack's root `lib/` when st2's `enable_common_libs` is on: it goes before everything. */
  commonLibDir?: string;
  venvDir?: string;
  /** The pack's own library folders (st2: `actions/lib`; sensors: `sensors/lib`…). */
  packLibDirs: string[];
  /** Squall's st2 shim packages (st2common, st2actions, st2reactor). */
  shimDirs: string[];
  runtimeSite?: string;
  /** A PYTHONPATH given by the user (action `env`, or Squall's own environment). */
  inherited?: string;
}

/**
 * PYTHONPATH in st2's order (sandboxing.get_sandbox_python_path_for_python_action): the pack's
 * virtualenv site, its libs, then what st2 itself provides — here the shim and the runtime site.
 */
export function packPythonPath(opts: PackPythonPathOptions): string {
  return [
    ...(opts.commonLibDir ? [opts.commonLibDir] : []),
    ...(opts.venvDir ? venvSitePackages(opts.venvDir) : []),
    ...opts.packLibDirs,
    ...opts.shimDirs,
    ...(opts.inherited ? [opts.inherited] : []),
    ...(opts.runtimeSite ? [opts.runtimeSite] : []),
  ].join(path.delimiter);
}
