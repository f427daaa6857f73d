import {
  copyFileSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeSync,
  closeSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/ids.js';
import { STORE_FILE, SqliteDatabase, openStore, type Store } from '../../../src/store/index.js';
import { tempDir } from '../../support/servers.js';

const blob = { payload: 'x'.repeat(300) };

/** The store's database and WAL files as they are now, copied into a fresh data directory. */
function snapshot(from: string, to: string, wal?: (file: string) => void): string {
  mkdirSync(to, { recursive: true });
  copyFileSync(path.join(from, STORE_FILE), path.join(to, STORE_FILE));
  copyFileSync(path.join(from, `${STORE_FILE}-wal`), path.join(to, `${STORE_FILE}-wal`));
  wal?.(path.join(to, `${STORE_FILE}-wal`));
  return to;
}

async function present(dir: string, ids: string[]): Promise<number> {
  const store = await openStore({ dataDir: dir });
  try {
    let n = 0;
    for (const id of ids) if (await store.testRecords.get(id)) n++;
    return n;
  } finally {
    await store.close();
  }
}

/**
 * A power cut keeps what was fsynced and any part of what was written after. With
 * synchronous=FULL in WAL mode SQLite fsyncs the WAL before a commit returns, and on opening it
 * replays the WAL only up to the last frame that completes a transaction and whose checksums hold
 * (https://www.sqlite.org/wal.html, https://www.sqlite.org/fileformat2.html#walformat). These
 * copies of the files are the states such a cut can leave.
 */
describe('embedded store: power loss', () => {
  it('loses no acknowledged record, and a transaction cut short is wholly absent', async () => {
    const { dir, cleanup } = tempDir();
    let store: Store | undefined;
    try {
      store = await openStore({ dataDir: dir });
      const acked = Array.from({ length: 200 }, () => newId());
      await Promise.all(acked.map((id, n) => store!.testRecords.insert({ id, n, blob })));
      await store.sync(); // acknowledged outside the process: on disk
      const walAtAck = statSync(path.join(dir, `${STORE_FILE}-wal`)).size;

      // Written, not yet committed nor fsynced: a copy of the files taken now is what a cut leaves.
      const late = Array.from({ length: 200 }, () => newId());
      const pending = Promise.all(late.map((id, n) => store!.testRecords.insert({ id, n, blob })));
      const between = snapshot(dir, path.join(dir, 'cut-between'));
      await pending;
      const walAfter = statSync(path.join(dir, `${STORE_FILE}-wal`)).size;
      expect(walAfter).toBeGreaterThan(walAtAck);

      // The later commit partly on disk: its frames cut anywhere, or their tail garbled.
      const torn = [0.1, 0.5, 0.9, 0.999].map((f, i) =>
        snapshot(dir, path.join(dir, `cut-torn-${i}`), (wal) =>
          truncateSync(wal, Math.floor(walAtAck + (walAfter - walAtAck) * f)),
        ),
      );
      const garbled = snapshot(dir, path.join(dir, 'cut-garbled'), (wal) => {
        const fd = openSync(wal, 'r+');
        writeSync(fd, Buffer.alloc(512, 0xa5), 0, 512, walAfter - 700);
        closeSync(fd);
      });
      await store.close();
      store = undefined;

      expect(await present(between, acked)).toBe(acked.length);
      expect(await present(between, late)).toBe(0);
      for (const cut of [...torn, garbled]) {
        expect(await present(cut, acked), cut).toBe(acked.length);
        expect(await present(cut, late), cut).toBe(0);
      }
      // And the whole WAL, as written, holds both.
      expect(await present(dir, [...acked, ...late])).toBe(400);
    } finally {
      await store?.close();
      cleanup();
    }
  });
});

describe('embedded store: damaged file', () => {
  async function filled(dir: string) {
    const store = await openStore({ dataDir: dir });
    await store.testRecords.insertMany(Array.from({ length: 500 }, (_, n) => ({ id: newId(), n, blob })));
    await store.close();
    return path.join(dir, STORE_FILE);
  }

  /** A filled store with one page overwritten: damage only a full check finds. */
  async function damaged(dir: string) {
    const file = await filled(dir);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, 4096 * 3);
    closeSync(fd);
    return file;
  }

  async function openError(dir: string) {
    return openStore({ dataDir: dir }).then(
      async (s) => {
        await s.close();
        return null;
      },
      (e: unknown) => e as { code?: string; message: string },
    );
  }

  it('refuses to start on a damaged page, naming the file, and leaves it as it was', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = await filled(dir);
      const fd = openSync(file, 'r+');
      const pageSize = 4096;
      writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, pageSize * 3); // a b-tree page's header
      closeSync(fd);
      const before = readFileSync(file);
      const err = await openError(dir);
      expect(err?.code).toBe('STORE_CORRUPT');
      expect(err?.message).toContain(file);
      expect(readFileSync(file).equals(before)).toBe(true);
    } finally {
      cleanup();
    }
  });

  it('checks a large file after a delay, so the check does not compete with start-up', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = await damaged(dir);
      const late = new SqliteDatabase(file, { checkInlineBytes: 0, checkDelayMs: 50 });
      try {
        await expect(late.checked).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
      } finally {
        late.close();
      }
      // Closed before its check started: the check never runs.
      const closed = new SqliteDatabase(file, { checkInlineBytes: 0, checkDelayMs: 60_000 });
      closed.close();
      await expect(closed.checked).resolves.toBeUndefined();
    } finally {
      cleanup();
    }
  });

  it('finds the damage of a large file on a worker thread after opening, naming the file', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = await damaged(dir);
      const db = new SqliteDatabase(file, { checkInlineBytes: 0 });
      try {
        await expect(db.checked).rejects.toMatchObject({
          code: 'STORE_CORRUPT',
          message: expect.stringContaining(file),
        });
      } finally {
        db.close();
      }
    } finally {
      cleanup();
    }
  });

  it('refuses a file that is not a database at all, naming it', async () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(
        path.join(dir, STORE_FILE),
        'this is not a database, it only has the name of one\n'.repeat(200),
      );
      const err = await openError(dir);
      expect(err?.code).toBe('STORE_CORRUPT');
      expect(err?.message).toContain(path.join(dir, STORE_FILE));
    } finally {
      cleanup();
    }
  });
});

describe('embedded store: a failing disk', () => {
  it('acknowledges at commit, and once an fsync failed sync() rejects and writes are refused', async () => {
    const { dir, cleanup } = tempDir();
    const store = await openStore({ dataDir: dir });
    try {
      const kept = newId();
      await store.testRecords.insert({ id: kept, n: 0 });
      await store.sync();
      // The disk reports an I/O error on the next fsync, as a failing device or full thin pool does.
      store.embedded!.fsync = (_fd, done) =>
        done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      // Committed (visible in this process): acknowledged; whatever would show it waits for sync().
      await store.testRecords.insert({ id: newId(), n: 1 });
      const synced = store.sync();
      await expect(synced).rejects.toMatchObject({ code: 'STORE_FSYNC_FAILED' });
      await expect(synced).rejects.toThrow(/squall\.db-wal.*EIO/);
      await expect(store.sync()).rejects.toMatchObject({ code: 'STORE_FSYNC_FAILED' });
      await expect(store.testRecords.insert({ id: newId(), n: 2 })).rejects.toMatchObject({
        code: 'STORE_FSYNC_FAILED',
      });
      expect(await store.testRecords.get(kept)).not.toBeNull();
    } finally {
      await store.close();
      cleanup();
    }
  });

  it('fsyncs commits nobody syncs within a short while (the tail a power cut can take)', async () => {
    const { dir, cleanup } = tempDir();
    const store = await openStore({ dataDir: dir });
    try {
      const before = store.embedded!.fsyncs;
      await store.testRecords.insert({ id: newId(), n: 0 });
      expect(store.embedded!.fsyncs).toBe(before);
      await new Promise((r) => setTimeout(r, 300));
      expect(store.embedded!.fsyncs).toBe(before + 1);
      await expect(store.sync()).resolves.toBeUndefined();
      expect(store.embedded!.fsyncs).toBe(before + 1);
    } finally {
      await store.close();
      cleanup();
    }
  });
});
