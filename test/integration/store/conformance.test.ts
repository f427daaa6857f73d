import { afterAll, beforeAll, expect, it } from 'vitest';
import { idAt, idFor, newId } from '../../../src/ids.js';
import { storedIds, type Collection, type JobTestRecord, type Store } from '../../../src/store/index.js';
import { ConflictError } from '../../../src/errors.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';

type Rec = JobTestRecord & {
  n?: number;
  key?: string;
  tags?: string[];
  nested?: Record<string, unknown>;
  blob?: unknown;
};

for (const target of STORE_TARGETS) {
  describeWithServer(
    `store conformance (${target.kind})`,
    target.kind === 'mongo' ? 'MongoDB (SQUALL_TEST_MONGO_URL)' : 'nothing',
    target.available,
    () => {
      let store: Store;
      let coll: Collection<Rec>;

      beforeAll(async () => {
        store = (await target.open()).store;
        coll = store.testRecords as Collection<Rec>;
      });
      afterAll(async () => {
        await store?.close();
      });

      it(`reports its kind as ${target.kind}`, () => {
        expect(store.kind).toBe(target.kind);
      });

      it('inserts and reads back by id, with id as the primary key', async () => {
        const id = newId();
        await coll.insert({ id, n: 1, nested: { a: { b: 2 } } });
        expect(await coll.get(id)).toEqual({ id, n: 1, nested: { a: { b: 2 } } });
        expect(await coll.get(newId())).toBeNull();
      });

      it('keeps keys with dots and leading dollars intact', async () => {
        const id = newId();
        const nested = { 'a.b': 1, $weird: { 'x.y.z': [{ '$k.': true }] } };
        await coll.insert({ id, nested });
        expect((await coll.get(id))?.nested).toEqual(nested);
      });

      it('answers an update with keys with dots and leading dollars intact, in the record or in the update', async () => {
        const id = newId();
        const odd = { 'a.b': 1, $k: { 'x.y': [{ '$z.': true }] } };
        await coll.insert({ id, n: 1, plain: { x: 1 } });
        expect(await coll.updateOne({ id }, { $set: { odd } })).toMatchObject({ id, odd, plain: { x: 1 } });
        expect(await coll.updateOne({ id }, { $set: { n: 2 } })).toMatchObject({ id, n: 2, odd });
        expect(await coll.get(id)).toMatchObject({ id, n: 2, odd });
        // In a compressed field (on the embedded store) and in the row's own fields.
        const other = newId();
        await coll.insert({ id: other, n: 1, nested: odd, 'top.key': { $v: 1 } });
        expect(await coll.updateOne({ id: other }, { $set: { n: 3 } })).toEqual({
          id: other,
          n: 3,
          nested: odd,
          'top.key': { $v: 1 },
        });
      });

      it('stores opaque fields of any shape and size', async () => {
        const id = newId();
        const blob = { 'dotted.key': 'v', $dollar: [1, 2, { deep: 'x'.repeat(100_000) }] };
        await coll.insert({ id, blob });
        expect((await coll.get(id))?.blob).toEqual(blob);
        await coll.updateOne({ id }, { $set: { blob: { replaced: true } } });
        expect((await coll.get(id))?.blob).toEqual({ replaced: true });
      });

      it('finds with comparison operators, $in, $or, $exists, $regex, sort, skip and limit', async () => {
        const group = newId();
        await coll.insertMany(
          [1, 2, 3, 4, 5].map((n) => ({ id: newId(), n, nested: { group, parity: n % 2 ? 'odd' : 'even' } })),
        );
        const base = { 'nested.group': group };
        expect((await coll.find({ ...base, n: { $gt: 2 } }, { sort: { n: 1 } })).map((r) => r.n)).toEqual([
          3, 4, 5,
        ]);
        expect((await coll.find({ ...base, n: { $lte: 2 } }, { sort: { n: -1 } })).map((r) => r.n)).toEqual([
          2, 1,
        ]);
        expect(
          (await coll.find({ ...base, n: { $in: [1, 5] } }, { sort: { n: 1 } })).map((r) => r.n),
        ).toEqual([1, 5]);
        expect(
          (await coll.find({ ...base, n: { $nin: [1, 5] } }, { sort: { n: 1 } })).map((r) => r.n),
        ).toEqual([2, 3, 4]);
        expect((await coll.find({ ...base, n: { $ne: 3 } })).length).toBe(4);
        expect(
          (await coll.find({ ...base, $or: [{ n: 1 }, { n: 4 }] }, { sort: { n: 1 } })).map((r) => r.n),
        ).toEqual([1, 4]);
        expect((await coll.find({ ...base, 'nested.parity': { $regex: /^ev/ } })).length).toBe(2);
        expect((await coll.find({ ...base, tags: { $exists: false } })).length).toBe(5);
        expect((await coll.find(base, { sort: { n: 1 }, skip: 1, limit: 2 })).map((r) => r.n)).toEqual([
          2, 3,
        ]);
        expect(await coll.count({ ...base, 'nested.parity': 'odd' })).toBe(3);
        expect(await coll.findOne(base, { sort: { n: -1 } })).toMatchObject({ n: 5 });
      });

      it('never matches null or a missing field with a range operator, as MongoDB does', async () => {
        const group = newId();
        await coll.insertMany([
          { id: newId(), n: 3, nested: { group } },
          { id: newId(), n: null as unknown as number, nested: { group } },
          { id: newId(), nested: { group } },
        ]);
        expect((await coll.find({ 'nested.group': group, n: { $lte: 10 } })).map((r) => r.n)).toEqual([3]);
        expect(await coll.count({ 'nested.group': group, n: { $gt: -10 } })).toBe(1);
      });

      it('projects included fields', async () => {
        const id = newId();
        await coll.insert({ id, n: 7, nested: { big: 'x' } });
        const rows = await coll.find({ id }, { projection: { n: 1 } });
        expect(rows).toEqual([{ id, n: 7 }]);
      });

      it('projects top-level fields as stored: a null kept, a missing one left out, odd keys intact, sorted and paged', async () => {
        // The embedded store reads such a projection's fields with SQL, without parsing whole rows.
        const n = 700_000 + Math.floor(Math.random() * 1000) * 10;
        const odd = { 'a.b': 1, $k: [{ 'x.y': true }] };
        const ids = [newId(), newId(), newId()];
        await coll.insert({
          id: ids[0],
          n: n + 2,
          key: null as unknown as string,
          tags: ['t'],
          nested: { x: 1 },
        });
        await coll.insert({ id: ids[1], n: n + 1, tags: odd as unknown as string[], blob: { y: 2 } });
        await coll.insert({ id: ids[2], n, key: `k-${n}` });
        const rows = await coll.find(
          { n: { $gte: n, $lte: n + 2 } },
          { sort: { n: 1 }, projection: { key: 1, tags: 1, n: 1 } },
        );
        expect(rows).toEqual([
          { id: ids[2], n, key: `k-${n}` },
          { id: ids[1], n: n + 1, tags: odd },
          { id: ids[0], n: n + 2, key: null, tags: ['t'] },
        ]);
        const paged = await coll.find(
          { n: { $gte: n, $lte: n + 2 } },
          { sort: { n: -1 }, skip: 1, limit: 1, projection: { tags: 1 } },
        );
        expect(paged).toEqual([{ id: ids[1], tags: odd }]);
      });

      it('updates with $set, $unset, $inc, $push, $addToSet and $pull', async () => {
        const id = newId();
        await coll.insert({ id, n: 1, tags: ['a'] });
        await coll.updateOne({ id }, { $inc: { n: 2 }, $push: { tags: 'b' } });
        await coll.updateOne({ id }, { $addToSet: { tags: 'b' } });
        await coll.updateOne({ id }, { $set: { 'nested.deep': { ok: true } } });
        let doc = await coll.get(id);
        expect(doc).toMatchObject({ n: 3, tags: ['a', 'b'], nested: { deep: { ok: true } } });
        await coll.updateOne({ id }, { $pull: { tags: 'a' }, $unset: { nested: true } });
        doc = await coll.get(id);
        expect(doc).toEqual({ id, n: 3, tags: ['b'] });
      });

      it('applies $push and $addToSet with $each, encoding the elements', async () => {
        const id = newId();
        await coll.insert({ id, tags: ['a'] });
        await coll.updateOne({ id }, { $push: { tags: { $each: ['b', 'c', 'd'] } } });
        expect((await coll.get(id))?.tags).toEqual(['a', 'b', 'c', 'd']);
        await coll.updateOne({ id }, { $addToSet: { tags: { $each: ['d', 'e', 'e'] } } });
        expect((await coll.get(id))?.tags).toEqual(['a', 'b', 'c', 'd', 'e']);
        // Elements are escaped like any stored value: keys with dots and dollars come back intact.
        const odd = { 'a.b': 1, $k: { 'x.y': true } };
        await coll.updateOne({ id }, { $push: { list: { $each: [odd, odd] } } } as never);
        await coll.updateOne({ id }, { $addToSet: { list: { $each: [odd, { other: 1 }] } } } as never);
        expect((await coll.get(id)) as unknown).toMatchObject({ list: [odd, odd, { other: 1 }] });
      });

      it('refuses the modifiers besides $each (the stores differ on them: FerretDB ignores $slice), naming them', async () => {
        const id = newId();
        await coll.insert({ id, tags: ['a'] });
        await expect(
          coll.updateOne({ id }, { $push: { tags: { $each: ['b'], $position: 0 } } } as never),
        ).rejects.toThrow(/\$push on "tags" of test_records: \$position is not supported/);
        await expect(
          coll.updateOne({ id }, { $addToSet: { tags: { $each: ['b'], $slice: 1 } } } as never),
        ).rejects.toThrow(/\$addToSet on "tags" of test_records: \$slice is not supported/);
        await expect(
          coll.updateOne({ id }, { $push: { tags: { $each: ['b'], $slice: -3 } } } as never),
        ).rejects.toThrow(/\$push on "tags" of test_records: \$slice is not supported \(only \$each/);
        await expect(coll.updateOne({ id }, { $push: { tags: { $each: 'b' } } } as never)).rejects.toThrow(
          /\$each must be an array/,
        );
        expect((await coll.get(id))?.tags).toEqual(['a']);
      });

      it('claim() lets exactly one of many racing callers win a key', async () => {
        for (let round = 0; round < 5; round++) {
          const key = `job:${newId()}`;
          const results = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((w) => store.claim(key, w)));
          expect(results.filter(Boolean)).toHaveLength(1);
          expect(await store.claim(key, 'late')).toBe(false);
        }
      });

      it('returns null from updateOne when nothing matches, and upserts on request', async () => {
        expect(await coll.updateOne({ id: newId() }, { $set: { n: 1 } })).toBeNull();
        const key = `upsert-${newId()}`;
        const doc = await coll.updateOne({ key }, { $set: { n: 42 } }, { upsert: true });
        expect(doc).toMatchObject({ key, n: 42 });
        expect(await coll.count({ key })).toBe(1);
      });

      it('updates or deletes a record by id only while its other conditions hold', async () => {
        const id = newId();
        await coll.insert({ id, n: 1, key: `cond-${id}`, tags: ['a'] });
        expect(await coll.updateOne({ id, n: 2 }, { $set: { n: 3 } })).toBeNull();
        expect(await coll.updateOne({ id, n: { $gt: 5 } }, { $set: { n: 3 } })).toBeNull();
        expect(await coll.updateOne({ id, tags: 'a', key: `cond-${id}` }, { $set: { n: 2 } })).toMatchObject({
          id,
          n: 2,
        });
        expect(await coll.updateOne({ id, missing: { $exists: true } }, { $set: { n: 9 } })).toBeNull();
        expect(await coll.deleteOne({ id, n: 1 })).toBe(false);
        expect(await coll.get(id)).toEqual({ id, n: 2, key: `cond-${id}`, tags: ['a'] });
        expect(await coll.deleteOne({ id, n: { $in: [2, 4] } })).toBe(true);
        expect(await coll.get(id)).toBeNull();
      });

      it('rejects a duplicate unique key with a conflict error', async () => {
        const key = `unique-${newId()}`;
        await coll.insert({ id: newId(), key });
        await expect(coll.insert({ id: newId(), key })).rejects.toBeInstanceOf(ConflictError);
        await expect(coll.insert({ id: newId(), key })).rejects.toThrow(/already exists/);
      });

      it('replaces whole documents and deletes one or many', async () => {
        const group = newId();
        const id = newId();
        await coll.insert({ id, n: 1, nested: { group } });
        await coll.replace({ id, n: 2, nested: { group } });
        expect(await coll.get(id)).toEqual({ id, n: 2, nested: { group } });
        await coll.insertMany([
          { id: newId(), n: 3, nested: { group } },
          { id: newId(), n: 4, nested: { group } },
        ]);
        expect(await coll.deleteOne({ id })).toBe(true);
        expect(await coll.deleteOne({ id })).toBe(false);
        expect(await coll.updateMany({ 'nested.group': group }, { $set: { tags: ['x'] } })).toBe(2);
        expect(await coll.deleteMany({ 'nested.group': group })).toBe(2);
        expect(await coll.count({ 'nested.group': group })).toBe(0);
      });

      it('groups and counts in the store: by field, by an ISO time cut to its hour, with sums', async () => {
        const ref = `p.${newId()}`;
        const rows = [
          ['2026-03-01T10:05:00.000Z', 'succeeded', 2],
          ['2026-03-01T10:55:00.000Z', 'failed', 4],
          ['2026-03-01T11:00:00.000Z', 'succeeded', 6],
          ['2026-03-01T11:30:00.000Z', 'succeeded', undefined],
          ['2026-03-01T12:30:00.000Z', 'succeeded', 1],
        ] as const;
        const executions = store.executions as unknown as Collection<JobTestRecord & Record<string, unknown>>;
        await executions.insertMany(
          rows.map(([start_timestamp, status, elapsed_seconds], i) => ({
            id: newId(),
            action: { ref },
            status,
            start_timestamp,
            ...(elapsed_seconds === undefined ? {} : { elapsed_seconds }),
            // one child execution, which `parent: {$exists: false}` leaves out
            ...(i === 4 ? { parent: newId() } : {}),
          })),
        );
        const filter = {
          'action.ref': ref,
          parent: { $exists: false },
          start_timestamp: { $gte: '2026-03-01T10:00:00.000Z' },
        };
        const hourly = await executions.group(filter, {
          by: { hour: { field: 'start_timestamp', prefix: 13 }, status: { field: 'status' } },
          sum: { seconds: 'elapsed_seconds' },
        });
        const sortKey = (r: { key: Record<string, unknown> }) => JSON.stringify(r.key);
        expect(hourly.sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual([
          { key: { hour: '2026-03-01T10', status: 'failed' }, count: 1, sums: { seconds: 4 } },
          { key: { hour: '2026-03-01T10', status: 'succeeded' }, count: 1, sums: { seconds: 2 } },
          { key: { hour: '2026-03-01T11', status: 'succeeded' }, count: 2, sums: { seconds: 6 } },
        ]);
        expect(await executions.group(filter, { by: { action: { field: 'action.ref' } } })).toEqual([
          { key: { action: ref }, count: 4, sums: {} },
        ]);
        expect(await executions.group({ 'action.ref': `${ref}-none` }, { by: {} })).toEqual([]);
        expect(await executions.count(filter)).toBe(4);
      });

      it('groups a filter on unindexed fields and a missing or boolean key alike', async () => {
        const group = newId();
        await coll.insertMany([
          { id: newId(), n: 1, nested: { group, on: true } },
          { id: newId(), n: 2, nested: { group, on: true } },
          { id: newId(), n: 3, nested: { group, on: false } },
          { id: newId(), n: 4, nested: { group } },
        ]);
        const out = await coll.group(
          { 'nested.group': group, n: { $gt: 1 } },
          { by: { on: { field: 'nested.on' } }, sum: { n: 'n' } },
        );
        expect(out.sort((a, b) => a.sums.n - b.sums.n)).toEqual([
          { key: { on: true }, count: 1, sums: { n: 2 } },
          { key: { on: false }, count: 1, sums: { n: 3 } },
          { key: { on: null }, count: 1, sums: { n: 4 } },
        ]);
      });

      it('keeps linked chat identities: one per identity, found by id or by platform and chat user', async () => {
        const chat_user = { id: `U${newId()}`, name: 'alice' };
        const id = `slack:T1:${chat_user.id}`;
        const link = {
          id,
          platform: 'slack',
          workspace: 'T1',
          chat_user,
          created_at: new Date().toISOString(),
        };
        await store.chatLinks.replace({ ...link, user: 'otto' });
        // Linking again replaces the link: the identity acts as one Squall user at a time.
        await store.chatLinks.replace({ ...link, user: 'olga' });
        expect(await store.chatLinks.get(id)).toMatchObject({ user: 'olga', chat_user });
        expect(
          await store.chatLinks.findOne({ platform: 'slack', 'chat_user.id': chat_user.id }),
        ).toMatchObject({
          id,
          user: 'olga',
        });
        expect(await store.chatLinks.find({ user: 'olga', 'chat_user.id': chat_user.id })).toHaveLength(1);
        expect(await store.chatLinks.deleteOne({ id })).toBe(true);
        expect(await store.chatLinks.deleteOne({ id })).toBe(false);
        expect(await store.chatLinks.get(id)).toBeNull();
      });

      // storedIds: the id a key's record is stored under, an older version's (idFor) where a
      // record has it, else this version's; with the record when there is one, in one find.
      it('gives the legacy id where a record has it, the new one otherwise, with any record found, in one find', async () => {
        const run = `legacy-ids:${Date.now()}:${Math.random()}`;
        const at = Date.now();
        const keyed = ['old', 'new', 'none', 'both'].map((name) => ({
          key: `${run}:${name}`,
          id: idAt(`${run}:${name}`, at),
        }));
        const [old, fresh, , both] = keyed;
        await coll.insert({ id: idFor(old.key), n: 1 } as Rec);
        await coll.insert({ id: fresh.id, n: 2 } as Rec);
        await coll.insert({ id: both.id, n: 3 } as Rec);
        await coll.insert({ id: idFor(both.key), n: 4 } as Rec);

        let finds = 0;
        const counted = new Proxy(coll, {
          get: (t, p, r) => {
            if (p === 'find') finds++;
            const v = Reflect.get(t, p, r) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
          },
        });
        const got = await storedIds(counted, keyed);
        expect(finds).toBe(1);
        expect(got.map((g) => [g.id, g.record?.n])).toEqual([
          [idFor(old.key), 1],
          [fresh.id, 2],
          [keyed[2].id, undefined],
          // An older version stored it first: its record is the one a retry must find.
          [idFor(both.key), 4],
        ]);
        expect(await storedIds(counted, [])).toEqual([]);
        expect(finds).toBe(1);
      });

      it('persists across close and reopen', async () => {
        const { store: s1, location } = await target.open();
        const id = newId();
        await s1.testRecords.insert({ id, n: 99 } as Rec);
        await s1.testRecords.updateOne({ id }, { $set: { n: 100 } });
        await s1.close();
        const { store: s2 } = await target.open(location);
        expect(await s2.testRecords.get(id)).toEqual({ id, n: 100 });
        await s2.close();
      });
    },
  );
}
