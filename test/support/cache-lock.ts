/*
 * A cross-process lock for the venvs the tests build on first use under <repo>/.cache. Vitest runs
 * test files in several forks, and several files share one venv (st2client, the orquesta and yaql
 * oracles): two forks creating or `pip install`ing into one directory at once leave it corrupt.
 * The lock is a file `<dir>.lock` holding its owner's pid and a token, so that a lock left by a
 * killed run is taken over instead of blocking the next run until its timeout. It is made whole
 * (written under a name of its own, then linked into place: link() fails when the lock exists),
 * so no one ever reads a lock without its owner.
 * Async only: a fork that blocks its event loop for a minute (spawnSync pip, a synchronous wait)
 * stops answering vitest's RPC and the run fails with `Timeout calling "onTaskUpdate"`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
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

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

function ownerDead(stamp: string): boolean {
  const owner = Number(stamp.split(' ')[0]);
  return Number.isInteger(owner) && owner > 0 && !pidAlive(owner);
}

/**
 * Removes `lock` when its owner is dead. Several waiters find the same dead owner, and by the time
 * one acts another may have removed it and taken the lock anew: removing "the lock" then would
 * remove a live one. So a waiter first links the lock to a name derived from the stamp it read;
 * link() is exclusive, so one waiter per dead lock wins it, and the linked file tells whether it
 * is still that lock. Only the winner removes `lock`, which is then still the dead owner's: no one
 * else removes a lock whose owner is dead, and no lock is made while it exists.
 */
function breakIfStale(lock: string): void {
  let stamp: string;
  try {
    stamp = readFileSync(lock, 'utf8');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return; // released meanwhile
    if (errCode(err) === 'EISDIR') return breakOldLock(lock);
    throw err;
  }
  if (!ownerDead(stamp)) return;
  const capture = `${lock}.stale-${createHash('sha256').update(stamp).digest('hex').slice(0, 16)}`;
  try {
    linkSync(lock, capture);
  } catch (err) {
    // EEXIST: another waiter is removing this dead lock; ENOENT: it is gone already.
    if (errCode(err) === 'EEXIST' || errCode(err) === 'ENOENT') return;
    throw err;
  }
  try {
    if (readFileSync(capture, 'utf8') === stamp) rmSync(lock);
  } finally {
    rmSync(capture, { force: true });
  }
}

/**
 * A lock left by an older version of this file: a directory holding `pid`. Removed entry by entry
 * (rmdir), so that a waiter late to it cannot remove the file lock that replaced it (ENOTDIR).
 */
function breakOldLock(lock: string): void {
  let stamp: string;
  try {
    stamp = readFileSync(`${lock}/pid`, 'utf8');
  } catch (err) {
    // Gone, replaced by a file lock, or its owner has not written its pid yet: wait.
    if (['ENOENT', 'ENOTDIR'].includes(errCode(err) ?? '')) return;
    throw err;
  }
  if (!ownerDead(stamp)) return;
  try {
    rmSync(`${lock}/pid`);
    rmdirSync(lock);
  } catch (err) {
    if (!['ENOENT', 'ENOTDIR'].includes(errCode(err) ?? '')) throw err;
  }
}

/** One attempt: true when this process now holds the lock. */
function tryAcquire(lock: string): boolean {
  mkdirSync(dirname(lock), { recursive: true });
  const mine = `${lock}.${process.pid}.${randomUUID()}`;
  writeFileSync(mine, `${process.pid} ${randomUUID()}`);
  try {
    linkSync(mine, lock);
    return true;
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw err;
  } finally {
    rmSync(mine, { force: true });
  }
  breakIfStale(lock);
  return false;
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
    // Ours: while its owner lives, no one else removes a lock. (force: an error here would hide fn's.)
    rmSync(lock, { force: true });
  }
}
