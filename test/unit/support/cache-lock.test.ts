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

  it('takes over a lock left by a process that died', async () => {
    const { dir: tmp, cleanup } = tempDir('squall-cache-lock-');
    try {
      const dir = path.join(tmp, 'venv');
      mkdirSync(dir);
      const dead = spawn(process.execPath, ['-e', '']);
      const pid = dead.pid!;
      await new Promise((r) => dead.on('exit', r));
      mkdirSync(`${dir}.lock`);
      writeFileSync(`${dir}.lock/pid`, String(pid));
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
});
