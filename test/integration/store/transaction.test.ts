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
  it('commits a step in one fsync, resolves once it is on disk, and announces it only then', () =>
    withStore(async (store, bus, heard) => {
      const disk = heldFsync();
      store.embedded!.fsync = disk.fsync;
      const fsyncs = store.embedded!.fsyncs;
      let done = false;
      const step = store
        .transaction(async () => {
          for (let n = 0; n < 5; n++) {
            await store.testRecords.insert({ id: newId(), n });
            bus.publish('test.created', { n });
          }
        })
        .then(() => (done = true));
      await tick();
      await tick();
      // Five writes, one commit waiting for one fsync; nothing announced or acknowledged yet.
      expect(disk.waiting()).toBe(1);
      expect(done).toBe(false);
      expect(heard).toEqual([]);
      disk.release();
      await step;
      expect(store.embedded!.fsyncs - fsyncs).toBe(1);
      expect(heard).toHaveLength(5);
      expect(await store.testRecords.count({})).toBe(5);
    }));

  it('when its fsync fails, rejects and announces nothing', () =>
    withStore(async (store, bus, heard) => {
      store.embedded!.fsync = (_fd, done) =>
        done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      const step = store.transaction(async () => {
        await store.testRecords.insert({ id: newId(), n: 1 });
        bus.publish('test.created', { n: 1 });
      });
      await expect(step).rejects.toMatchObject({ code: 'STORE_FSYNC_FAILED' });
      await tick();
      expect(heard).toEqual([]);
    }));

  it('a write awaited outside a transaction is acknowledged only once on disk', () =>
    withStore(async (store) => {
      const disk = heldFsync();
      store.embedded!.fsync = disk.fsync;
      let done = false;
      const write = store.testRecords.insert({ id: newId(), n: 1 }).then(() => (done = true));
      await tick();
      await tick();
      expect(done).toBe(false);
      disk.release();
      await write;
      expect(done).toBe(true);
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
