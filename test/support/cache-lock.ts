/*
 * A cross-process lock for the venvs the tests build on first use under <repo>/.cache. Vitest runs
 * test files in several forks, and several files share one venv (st2client, the orquesta and yaql
 * oracles): two forks creating or `pip install`ing into one directory at once leave it corrupt.
 * The lock is a directory `<dir>.lock` (mkdir is atomic) holding the owner's pid, so that a lock
 * left by a killed run is taken over instead of blocking the next run until its timeout.
 * Async only: a fork that blocks its event loop for a minute (spawnSync pip, a synchronous wait)
 * stops answering vitest's RPC and the run fails with `Timeout calling "onTaskUpdate"`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const POLL_MS = 250;
/** Longer than any install it guards (pip timeouts are 10 min). */
const WAIT_MS = 20 * 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One attempt: true when this process now holds the lock. */
function tryAcquire(lock: string): boolean {
  mkdirSync(dirname(lock), { recursive: true });
  try {
    mkdirSync(lock);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let owner: number | undefined;
    try {
      owner = Number(readFileSync(`${lock}/pid`, 'utf8'));
    } catch {
      // The owner has made the directory but not written its pid yet: it is alive, wait.
      return false;
    }
    if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner))
      rmSync(lock, { recursive: true, force: true });
    return false;
  }
  writeFileSync(`${lock}/pid`, String(process.pid));
  return true;
}

function timeoutError(dir: string): Error {
  return Object.assign(new Error(`cache lock on ${dir} not acquired in ${WAIT_MS} ms`), {
    code: 'CACHE_LOCK_TIMEOUT',
    context: { lock: `${dir}.lock` },
  });
}

/** Runs `fn` while holding the lock on `dir`; other processes wait. `fn` should re-check whether its work is already done. */
export async function withCacheLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  const deadline = Date.now() + WAIT_MS;
  while (!tryAcquire(lock)) {
    if (Date.now() > deadline) throw timeoutError(dir);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
