import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedDatabase } from '../../../src/store/embedded/index.js';
import type { CollectionSpec } from '../../../src/store/types.js';
import { tempDir } from '../../support/servers.js';

// The embedded store keeps each datastore's file open between appends (src/store/embedded/append.ts).
// What a user relies on: every acknowledged write is in the file, also across a compaction, which
// replaces the file under the open handle.
const spec: CollectionSpec = { name: 'things', indexes: [{ fields: { n: 1 } }] };

describe('embedded store appends', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  async function open(dir: string) {
    const db = new EmbeddedDatabase(dir);
    return { db, things: await db.collection<{ id: string; n: number }>(spec) };
  }

  it('keeps writes made before and after a compaction, and after close and reopen', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const first = await open(dir);
    await first.things.insert({ id: 'a', n: 1 });
    await first.things.updateOne({ id: 'a' }, { $set: { n: 2 } });
    const raw = await first.db.datastore(spec);
    await raw.compactDatafileAsync();
    await first.things.insert({ id: 'b', n: 3 });
    await first.things.deleteOne({ id: 'a' });
    await first.things.insert({ id: 'c', n: 4 });
    await first.db.close();

    // The last three writes are lines after the compacted content, in the same file.
    const lines = readFileSync(path.join(dir, 'things.db'), 'utf8').trim().split('\n');
    expect(lines.slice(-3).map((l) => JSON.parse(l) as { _id: string; $$deleted?: boolean })).toEqual([
      expect.objectContaining({ _id: 'b' }),
      { _id: 'a', $$deleted: true },
      expect.objectContaining({ _id: 'c' }),
    ]);

    const again = await open(dir);
    expect((await again.things.find({}, { sort: { n: 1 } })).map((t) => [t.id, t.n])).toEqual([
      ['b', 3],
      ['c', 4],
    ]);
    // A store that is written to again after close opens its file again.
    await again.things.insert({ id: 'd', n: 5 });
    await again.db.close();
    const third = await open(dir);
    expect(await third.things.count()).toBe(3);
    await third.db.close();
  });
});
