import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../../src/ids.js';
import type { Collection, JobTestRecord, Store } from '../../../src/store/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';

type Rec = JobTestRecord & { status?: string; owner?: string; n?: number; nested?: { stage?: string } };

/**
 * Filters that name one record by id plus conditions — `{id, status}` guards on status changes,
 * `{id, owner}` on claim release. On FerretDB the store reads the record by id and checks the
 * conditions itself (FerretDB would otherwise scan the whole collection); both stores, and that
 * path, must keep MongoDB's meaning.
 */
for (const target of STORE_TARGETS) {
  describeWithServer(
    `store: filters on an id plus conditions (${target.kind})`,
    target.kind === 'mongo' ? 'MongoDB (SQUALL_TEST_MONGO_URL)' : 'nothing',
    target.available,
    () => {
      let store: Store;
      let coll: Collection<Rec>;
      const make = async (fields: Partial<Rec>) => {
        const id = newId();
        await coll.insert({ id, ...fields } as Rec);
        return id;
      };

      beforeAll(async () => {
        store = (await target.open()).store;
        coll = store.testRecords as Collection<Rec>;
      });
      afterAll(async () => {
        await store?.close();
      });

      it('updates only while the guard holds, and returns null (changing nothing) when it does not', async () => {
        const id = await make({ status: 'scheduled', n: 1 });
        expect(await coll.updateOne({ id, status: 'running' }, { $set: { n: 2 } })).toBeNull();
        expect((await coll.get(id))?.n).toBe(1);
        const updated = await coll.updateOne({ id, status: 'scheduled' }, { $set: { status: 'running' } });
        expect(updated).toMatchObject({ id, status: 'running', n: 1 });
        expect(
          await coll.updateOne({ id, status: { $in: ['scheduled', 'requested'] } }, { $inc: { n: 1 } }),
        ).toBeNull();
        expect(await coll.updateOne({ id, status: { $in: ['running'] } }, { $inc: { n: 1 } })).toMatchObject({
          n: 2,
        });
        expect(await coll.updateOne({ id: newId(), status: 'running' }, { $set: { n: 9 } })).toBeNull();
      });

      it('reads, counts and deletes with the same guard semantics, dotted paths and $exists included', async () => {
        const id = await make({ owner: 'a', nested: { stage: 'one' } });
        expect(await coll.count({ id, owner: 'a' })).toBe(1);
        expect(await coll.count({ id, owner: 'b' })).toBe(0);
        expect(await coll.find({ id, 'nested.stage': 'one' })).toEqual([expect.objectContaining({ id })]);
        expect(await coll.findOne({ id, 'nested.stage': 'two' })).toBeNull();
        expect(await coll.count({ id, status: { $exists: false } })).toBe(1);
        expect(await coll.updateMany({ id, owner: 'b' }, { $set: { n: 5 } })).toBe(0);
        expect(await coll.updateMany({ id, owner: 'a' }, { $set: { n: 5 } })).toBe(1);
        // Releasing someone else's claim has no effect; the owner's release does.
        expect(await coll.deleteOne({ id, owner: 'b' })).toBe(false);
        expect(await coll.get(id)).not.toBeNull();
        expect(await coll.deleteMany({ id, owner: 'a' })).toBe(1);
        expect(await coll.get(id)).toBeNull();
      });

      it('of several guarded updates of one record at once, exactly one wins', async () => {
        for (let round = 0; round < 20; round++) {
          const id = await make({ status: 'scheduled' });
          const won = await Promise.all(
            ['a', 'b', 'c'].map((owner) =>
              coll.updateOne({ id, status: 'scheduled' }, { $set: { status: 'running', owner } }),
            ),
          );
          expect(won.filter(Boolean)).toHaveLength(1);
          expect((await coll.get(id))?.owner).toBe(won.find(Boolean)?.owner);
        }
      });

      it('keeps every $push and $inc made to one record at once', async () => {
        const id = await make({ n: 0 });
        await Promise.all(
          Array.from({ length: 25 }, (_, i) =>
            coll.updateOne({ id }, { $push: { seen: i } as never, $inc: { n: 1 } }),
          ),
        );
        const rec = (await coll.get(id)) as Rec & { seen: number[] };
        expect(rec.n).toBe(25);
        expect([...rec.seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i));
      });

      it("a guarded delete racing a replacement record never removes the replacement (taking over a dead owner's claim)", async () => {
        for (let round = 0; round < 20; round++) {
          const id = await make({ owner: 'dead' });
          const take = async (owner: string) => {
            await coll.deleteOne({ id, owner: 'dead' });
            return coll.insert({ id, owner } as Rec).then(
              () => true,
              () => false,
            );
          };
          const took = await Promise.all(['live-1', 'live-2'].map(take));
          expect(took.filter(Boolean)).toHaveLength(1);
          expect((await coll.get(id))?.owner).toBe(took[0] ? 'live-1' : 'live-2');
        }
      });

      it('upserts a missing record named by id and conditions', async () => {
        const id = newId();
        const doc = await coll.updateOne({ id, status: 'requested' }, { $set: { n: 7 } }, { upsert: true });
        expect(doc).toMatchObject({ id, status: 'requested', n: 7 });
        expect(await coll.count({ id })).toBe(1);
      });
    },
  );
}

const mongo = STORE_TARGETS.find((t) => t.kind === 'mongo')!;
describeWithServer(
  'store: FerretDB finds a record by id through its _id index',
  'MongoDB (SQUALL_TEST_MONGO_URL)',
  mongo.available,
  () => {
    it('the server plans a lookup by id as an index search (a FerretDB that scans slows down with history)', async () => {
      const { store } = await mongo.open();
      try {
        // Stock FerretDB 1.24 on SQLite scans the table; .ci/run builds it with the one-line fix.
        expect(await store.mongo!.scansById()).toBe(false);
      } finally {
        await store.close();
      }
    });
  },
);
