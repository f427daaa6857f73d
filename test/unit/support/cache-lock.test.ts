import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/servers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const LOCK = path.join(ROOT, 'test/support/cache-lock.ts');

/**
 * A process that, holding the lock on `dir`, does what a venv install does: checks whether the
 * work is done, and if not spends a while on it and marks it done. Logs start/end to `log`.
 */
function worker(dir: string, log: string): Promise<number | null> {
  const script = `
    import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
    import { withCacheLock } from ${JSON.stringify(LOCK)};
    const dir = ${JSON.stringify(dir)}, log = ${JSON.stringify(log)};
    const work = () => {
      if (existsSync(dir + '/done')) { appendFileSync(log, 'reuse\\n'); return; }
      appendFileSync(log, 'start\\n');
      const until = Date.now() + 400;
      while (Date.now() < until);
      writeFileSync(dir + '/done', '');
      appendFileSync(log, 'end\\n');
    };
    withCacheLock(dir, async () => work()).catch((err) => { console.error(err); process.exit(1); });
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['--eval', script], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', resolve);
  });
}

/**
 * A process that waits until `startAt`, takes the lock on `dir` and holds it `holdMs`, logging
 * `in <name>` / `out <name>` to `log`. Reading who owns the lock is slowed by `readDelayMs`: a
 * waiter descheduled between finding the owner dead and acting on it (fault injection through
 * node:fs, which the lock module imports).
 */
function racer(
  dir: string,
  log: string,
  o: { name: string; startAt: number; readDelayMs: number; holdMs: number },
): Promise<number | null> {
  const script = `
    import fs from 'node:fs';
    import { syncBuiltinESMExports } from 'node:module';
    const dir = ${JSON.stringify(dir)}, log = ${JSON.stringify(log)}, o = ${JSON.stringify(o)};
    const read = fs.readFileSync;
    fs.readFileSync = (file, ...rest) => {
      const out = read(file, ...rest);
      if (file === dir + '.lock' || file === dir + '.lock/pid') {
        const until = Date.now() + o.readDelayMs;
        while (Date.now() < until);
      }
      return out;
    };
    syncBuiltinESMExports();
    (async () => {
      const { withCacheLock } = await import(${JSON.stringify(LOCK)});
      await new Promise((r) => setTimeout(r, Math.max(0, o.startAt - Date.now())));
      await withCacheLock(dir, async () => {
        fs.appendFileSync(log, 'in ' + o.name + '\\n');
        await new Promise((r) => setTimeout(r, o.holdMs));
        fs.appendFileSync(log, 'out ' + o.name + '\\n');
      });
    })().catch((err) => { console.error(err); process.exit(1); });
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['--eval', script], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', resolve);
  });
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => dead.on('exit', r));
  return dead.pid!;
}

describe('cache lock (venvs under .cache shared by test files in several forks)', () => {
  it('lets one of two processes build and the other reuse it', async () => {
    const { dir: tmp, cleanup } = tempDir('squall-cache-lock-');
    try {
      const dir = path.join(tmp, 'venv');
      mkdirSync(dir);
      const log = path.join(tmp, 'log');
      writeFileSync(log, '');
      expect(await Promise.all([worker(dir, log), worker(dir, log)])).toEqual([0, 0]);
      // Without the lock both see "not done" and build at once: start, start, end, end.
      expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual(['start', 'end', 'reuse']);
      expect(existsSync(`${dir}.lock`)).toBe(false);
    } finally {
      cleanup();
    }
  }, 30_000);

  it('takes over a lock directory left by a process of the previous version that died', async () => {
    const { dir: tmp, cleanup } = tempDir('squall-cache-lock-');
    try {
      const dir = path.join(tmp, 'venv');
      mkdirSync(dir);
      // As the version before this one left it: a directory holding the pid.
      mkdirSync(`${dir}.lock`);
      writeFileSync(`${dir}.lock/pid`, String(await deadPid()));
      const log = path.join(tmp, 'log');
      writeFileSync(log, '');
      const started = Date.now();
      expect(await worker(dir, log)).toBe(0);
      expect(readFileSync(log, 'utf8')).toBe('start\nend\n');
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      cleanup();
    }
  }, 30_000);

  for (const left of ['a lock file (this version)', 'a lock directory (the previous version)']) {
    it(`three waiters racing to take over ${left} of a dead owner: one holds the lock at a time`, async () => {
      const { dir: tmp, cleanup } = tempDir('squall-cache-lock-');
      try {
        const dir = path.join(tmp, 'venv');
        mkdirSync(dir);
        const pid = await deadPid();
        if (left.startsWith('a lock file')) writeFileSync(`${dir}.lock`, `${pid} dead-owner-token`);
        else {
          mkdirSync(`${dir}.lock`);
          writeFileSync(`${dir}.lock/pid`, String(pid));
        }
        const log = path.join(tmp, 'log');
        writeFileSync(log, '');
        // All find the dead owner at once; b and c act on it only after a has taken the lock anew.
        const startAt = Date.now() + 3_000;
        const codes = await Promise.all(
          [
            { name: 'a', readDelayMs: 0 },
            { name: 'b', readDelayMs: 500 },
            { name: 'c', readDelayMs: 1_000 },
          ].map((o) => racer(dir, log, { ...o, startAt, holdMs: 800 })),
        );
        expect(codes).toEqual([0, 0, 0]);
        const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
        // Each `in` is followed by its own `out` before anyone else's `in`.
        const pairs = [];
        for (let i = 0; i < lines.length; i += 2) pairs.push(`${lines[i]} / ${lines[i + 1]}`);
        expect(pairs.sort()).toEqual(['in a / out a', 'in b / out b', 'in c / out c']);
        expect(existsSync(`${dir}.lock`)).toBe(false);
      } finally {
        cleanup();
      }
    }, 60_000);
  }
});
