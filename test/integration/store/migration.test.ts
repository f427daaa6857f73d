import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COLLECTIONS,
  EmbeddedDatabase,
  openStore,
  type MigrationProgress,
} from '../../../src/store/index.js';
import { newId } from '../../../src/ids.js';
import { tempDir } from '../../support/servers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The real `squall` CLI. */
function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/run.ts', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, HOME: ROOT }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * A data directory as the nedb store (src/store/embedded, Squall's store before SQLite) writes
 * it: records inserted, updated (nedb appends a new version) and removed (a $$deleted line), and
 * an Agenda job waiting to run, with the Dates nedb stores as {$$date}.
 */
async function nedbDataDir(dir: string) {
  const nedb = new EmbeddedDatabase(path.join(dir, 'db'));
  const c = await nedb.openAll();
  const executions = Array.from({ length: 120 }, (_, n) => ({
    id: newId(),
    action: { ref: 'core.noop' },
    runner: { name: 'noop' },
    status: 'requested',
    start_timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    parameters: { n, 'dotted.key': true },
    context: { user: 'stanley' },
    log: [],
    result: { stdout: `run ${n}` },
  }));
  for (const e of executions) await c.executions.insert(e as never);
  for (const e of executions.slice(0, 60))
    await c.executions.updateOne({ id: e.id }, { $set: { status: 'succeeded' } });
  for (const e of executions.slice(100)) await c.executions.deleteOne({ id: e.id });
  await c.users.insert({ id: 'u1', name: 'stanley', roles: ['admin'], enabled: true } as never);
  await c.kvPairs.insert({
    id: 'k1',
    uid: 'system::k',
    name: 'k',
    scope: 'system',
    value: 'v',
    secret: false,
  } as never);
  const jobs = await nedb.datastore({ name: 'agenda_jobs', indexes: [] });
  const runAt = new Date(Date.UTC(2026, 5, 1));
  await jobs.insertAsync({
    _id: 'job1',
    name: 'execution.run',
    data: { id: executions[70].id },
    nextRunAt: runAt,
    lockedAt: null,
    priority: 0,
    type: 'normal',
  });
  await nedb.close();
  return { executions, runAt };
}

describe('importing a nedb data directory into the SQLite store', () => {
  it('imports every live record at first start, with progress, and keeps the old files aside', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { executions, runAt } = await nedbDataDir(dir);
      const progress: MigrationProgress[] = [];
      const store = await openStore({ dataDir: dir, onMigrationProgress: (p) => progress.push(p) });
      try {
        expect(await store.executions.count()).toBe(100);
        for (const [n, e] of executions.entries()) {
          const got = await store.executions.get(e.id);
          if (n >= 100) {
            expect(got, `removed execution ${n}`).toBeNull();
            continue;
          }
          expect(got).toEqual({ ...e, status: n < 60 ? 'succeeded' : 'requested' });
        }
        expect(await store.executions.count({ status: 'succeeded' })).toBe(60);
        expect((await store.users.findOne({ name: 'stanley' }))?.roles).toEqual(['admin']);
        expect((await store.kvPairs.get('k1'))?.value).toBe('v');
        const job = store
          .embedded!.db.prepare('SELECT name, next_run_at FROM agenda_jobs WHERE id = ?')
          .get('job1');
        expect(job).toEqual({ name: 'execution.run', next_run_at: runAt.getTime() });
        expect(progress.map((p) => p.file)).toContain(`${COLLECTIONS.executions.name}.db`);
        expect(progress.find((p) => p.file === 'executions.db')?.records).toBe(100);
      } finally {
        await store.close();
      }
      expect(existsSync(path.join(dir, 'db'))).toBe(false);
      expect(readdirSync(path.join(dir, 'db.nedb-imported'))).toContain('executions.db');

      // The next start reads SQLite only: nothing imported twice.
      const again = await openStore({
        dataDir: dir,
        onMigrationProgress: () => expect.fail('imported twice'),
      });
      expect(await again.executions.count()).toBe(100);
      await again.close();
    } finally {
      cleanup();
    }
  });

  it('stops on a damaged record, naming its file and line, and changes nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { executions } = await nedbDataDir(dir);
      const file = path.join(dir, 'db', 'executions.db');
      const lines = readFileSync(file, 'utf8').split('\n');
      // A record cut short: one that has no later version in the file.
      const at = lines.findIndex((l) => l.includes(executions[80].id));
      lines[at] = lines[at].slice(0, 40);
      writeFileSync(file, lines.join('\n'));
      const before = readFileSync(file);

      const err = await openStore({ dataDir: dir }).then(
        () => null,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(err?.code).toBe('STORE_MIGRATION_DAMAGED');
      expect(err?.message).toContain(`${file}:${at + 1}`);
      expect(readFileSync(file).equals(before)).toBe(true);
      expect(existsSync(path.join(dir, 'db.nedb-imported'))).toBe(false);

      // Explicitly, the readable records are imported and the damaged line is saved aside.
      const out = await runCli(['store', 'migrate', '--skip-damaged', '--data-dir', dir]);
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain(`skipped damaged executions.db:${at + 1}`);
      const damaged = readFileSync(path.join(dir, 'db.nedb-imported', 'damaged-lines.txt'), 'utf8');
      expect(damaged).toContain(`executions.db:${at + 1}`);
      expect(damaged).toContain(lines[at]);
      const store = await openStore({ dataDir: dir });
      expect(await store.executions.count()).toBe(99);
      expect(await store.executions.get(executions[80].id)).toBeNull();
      await store.close();
    } finally {
      cleanup();
    }
  }, 180_000);

  it('keeps the data directory and the store files private to their owner', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const data = path.join(dir, 'data');
      const store = await openStore({ dataDir: data });
      await store.users.insert({ id: 'u', name: 'u', roles: [], enabled: true } as never);
      await store.close();
      expect(statSync(data).mode & 0o777).toBe(0o700);
      const files = readdirSync(data).filter((f) => f.startsWith('squall.db'));
      expect(files).toContain('squall.db');
      for (const f of files) expect(statSync(path.join(data, f)).mode & 0o777, f).toBe(0o600);
    } finally {
      cleanup();
    }
  });
});
