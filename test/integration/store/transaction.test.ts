import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/events/index.js';
import { newId } from '../../../src/ids.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { tempDir } from '../../support/servers.js';

/** An fsync held until the test lets it go, to see what happens between commit and disk. */
function heldFsync() {
  const pending: Array<() => void> = [];
  return {
    fsync: (_fd: number, done: (err: NodeJS.ErrnoException | null) => void) => pending.push(() => done(null)),
    release: () => pending.splice(0).forEach((go) => go()),
    waiting: () => pending.length,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

/** A fresh embedded store and an event bus recording what it delivers, for the length of `fn`. */
async function withStore(fn: (store: Store, bus: EventBus, heard: string[]) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  const store = await openStore({ dataDir: dir });
  const bus = new EventBus();
  const heard: string[] = [];
  bus.subscribe('test.*', (e) => heard.push(e.name));
  try {
    await fn(store, bus, heard);
  } finally {
    await store.close();
    cleanup();
  }
}

describe('embedded store: store.transaction()', () => {
  it('commits a step once, resolves and announces it at commit; sync() is one fsync after', () =>
    withStore(async (store, bus, heard) => {
      const disk = heldFsync();
      store.embedded!.fsync = disk.fsync;
      const fsyncs = store.embedded!.fsyncs;
      const commits = store.embedded!.commits;
      await store.transaction(async () => {
        for (let n = 0; n < 5; n++) {
          await store.testRecords.insert({ id: newId(), n });
          bus.publish('test.created', { n });
        }
      });
      // Five writes, one commit, announced in the process; not fsync'd yet.
      expect(store.embedded!.commits - commits).toBe(1);
      expect(heard).toHaveLength(5);
      let synced = false;
      const sync = store.sync().then(() => (synced = true));
      await tick();
      await tick();
      expect(disk.waiting()).toBe(1);
      expect(synced).toBe(false);
      disk.release();
      await sync;
      expect(store.embedded!.fsyncs - fsyncs).toBe(1);
      expect(await store.testRecords.count({})).toBe(5);
    }));

  it('when its fsync fails, the step stays committed in the process and sync() rejects', () =>
    withStore(async (store, bus, heard) => {
      store.embedded!.fsync = (_fd, done) =>
        done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      await store.transaction(async () => {
        await store.testRecords.insert({ id: newId(), n: 1 });
        bus.publish('test.created', { n: 1 });
      });
      expect(heard).toEqual(['test.created']);
      await expect(store.sync()).rejects.toMatchObject({ code: 'STORE_FSYNC_FAILED' });
      await expect(store.testRecords.insert({ id: newId(), n: 2 })).rejects.toMatchObject({
        code: 'STORE_FSYNC_FAILED',
      });
    }));

  it('a write resolves at commit; sync() resolves once an fsync covers it', () =>
    withStore(async (store) => {
      const disk = heldFsync();
      store.embedded!.fsync = disk.fsync;
      await store.testRecords.insert({ id: newId(), n: 1 });
      let synced = false;
      const sync = store.sync().then(() => (synced = true));
      await tick();
      await tick();
      expect(synced).toBe(false);
      // A write committed while that fsync runs needs the next one.
      await store.testRecords.insert({ id: newId(), n: 2 });
      let later = false;
      const next = store.sync().then(() => (later = true));
      disk.release();
      await sync;
      await tick();
      expect(later).toBe(false);
      disk.release();
      await next;
      expect(later).toBe(true);
    }));

  it('sync() waits for a lazy fsync that covers its commit, not for one that began before it', () =>
    withStore(async (store) => {
      const held: Array<() => void> = [];
      store.embedded!.fsync = (_fd, done) => held.push(() => done(null));
      // Nobody syncs this write: the lazy fsync comes for it, and the disk is slow.
      await store.testRecords.insert({ id: newId(), n: 1 });
      while (held.length === 0) await new Promise((r) => setTimeout(r, 10));
      let first = false;
      const covered = store.sync().then(() => (first = true));
      await tick();
      expect(held).toHaveLength(1);
      // Committed after that fsync began: its own starts at once, and covers both writes.
      await store.testRecords.insert({ id: newId(), n: 2 });
      const mine = store.sync();
      await tick();
      expect(held).toHaveLength(2);
      expect(first).toBe(false);
      held[1]();
      await mine;
      await covered;
      held[0]();
      await store.sync();
      expect(await store.testRecords.count({})).toBe(2);
    }));

  it('a write that fails (a duplicate key, a refused update) changes nothing; the rest of its turn commits', () =>
    withStore(async (store) => {
      const a = newId();
      const outcomes = await Promise.allSettled([
        store.testRecords.insert({ id: a, n: 1, key: 'k' }),
        store.testRecords.insert({ id: newId(), n: 2, key: 'k' }),
        store.testRecords.updateOne({ id: a }, { $set: { n: 9 }, $inc: { key: 1 } }),
        store.testRecords.updateOne({ id: a }, { $push: { n: 3 } }),
        store.testRecords.insert({ id: newId(), n: 4 }),
        store.testRecords.updateOne({ id: a }, { $set: { n: 5 }, $push: { tags: 't' } }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      const stored = await store.testRecords.find({}, { sort: { n: 1 } });
      expect(stored.map((r) => [r.n, (r as { key?: string }).key, (r as { tags?: string[] }).tags])).toEqual([
        [4, undefined, undefined],
        [5, 'k', ['t']],
      ]);
    }));
});
