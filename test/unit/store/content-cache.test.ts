import { describe, expect, it } from 'vitest';
import { ContentCache, copyAnswer, type Collection, type StoredRecord } from '../../../src/store/index.js';

interface Rec extends StoredRecord {
  ref: string;
  enabled: boolean;
}

/** A collection in memory that counts reads and can hold a read until told. */
function memoryCollection() {
  const docs = new Map<string, Rec>();
  const state = { reads: 0, hold: undefined as Promise<void> | undefined };
  const read = async <R>(answer: () => R): Promise<R> => {
    state.reads++;
    const value = answer();
    if (state.hold) await state.hold;
    return value;
  };
  const coll = {
    name: 'actions',
    get: (id: string) => read(() => structuredClone(docs.get(id) ?? null)),
    findOne: (filter: Record<string, unknown>) =>
      read(() => structuredClone([...docs.values()].find((d) => d.ref === filter.ref) ?? null)),
    find: () => read(() => structuredClone([...docs.values()])),
    count: () => read(() => docs.size),
    async insert(doc: Rec) {
      docs.set(doc.id, structuredClone(doc));
      return doc;
    },
    async updateOne(filter: Record<string, unknown>, update: { $set?: Partial<Rec> }) {
      const d = [...docs.values()].find((x) => x.id === filter.id);
      if (!d) return null;
      Object.assign(d, update.$set);
      return structuredClone(d);
    },
  } as unknown as Collection<Rec>;
  return { coll, state };
}

describe('the content cache', () => {
  it('where nothing tells it of other writes, checks for a change at most once per period and forgets what it kept when told', async () => {
    const { coll, state } = memoryCollection();
    let version = 1;
    let checks = 0;
    let seen = 0;
    const freshness = {
      everyMs: 60_000,
      async changed() {
        checks++;
        const changed = version !== seen;
        seen = version;
        return changed;
      },
    };
    const cache = new ContentCache();
    cache.enable(undefined, freshness);
    const actions = cache.wrap('actions', coll);
    await coll.insert({ id: 'a1', ref: 'p.a', enabled: true });
    for (let i = 0; i < 5; i++) expect((await actions.findOne({ ref: 'p.a' }))?.enabled).toBe(true);
    expect([state.reads, checks]).toEqual([1, 1]);

    // Another process disables it (straight to the store) and changes the version.
    await coll.updateOne({ id: 'a1' }, { $set: { enabled: false } });
    version = 2;
    // Within the period the kept answer is served; once the period is over the change is seen.
    expect((await actions.findOne({ ref: 'p.a' }))?.enabled).toBe(true);
    freshness.everyMs = 0;
    expect((await actions.findOne({ ref: 'p.a' }))?.enabled).toBe(false);
    expect([state.reads, checks]).toEqual([2, 2]);
    // No change since: kept again.
    expect((await actions.findOne({ ref: 'p.a' }))?.enabled).toBe(false);
    expect([state.reads, checks]).toEqual([2, 3]);
  });

  it('answers a repeated read from memory, and a write through it is seen by the next read', async () => {
    const { coll, state } = memoryCollection();
    const cache = new ContentCache();
    cache.enable();
    const actions = cache.wrap('actions', coll);
    await actions.insert({ id: 'a1', ref: 'p.a', enabled: true });
    expect((await actions.findOne({ ref: 'p.a' }))?.enabled).toBe(true);
    expect((await actions.findOne({ ref: 'p.a' }))?.enabled).toBe(true);
    expect(state.reads).toBe(1);

    await actions.updateOne({ id: 'a1' }, { $set: { enabled: false } });
    expect((await actions.findOne({ ref: 'p.a' }))?.enabled).toBe(false);
    expect(state.reads).toBe(2);
  });

  it('hands each caller its own copy: changing an answer does not change the next one', async () => {
    const { coll } = memoryCollection();
    const cache = new ContentCache();
    cache.enable();
    const actions = cache.wrap('actions', coll);
    await actions.insert({ id: 'a1', ref: 'p.a', enabled: true });
    (await actions.get('a1'))!.enabled = false;
    (await actions.get('a1'))!.enabled = false;
    expect((await actions.get('a1'))?.enabled).toBe(true);
  });

  it('copies an answer deeply: nested objects, arrays and Dates are new, values the same', () => {
    const at = new Date('2026-12-05T12:00:00Z');
    const answer = {
      id: 'a1',
      parameters: { cmd: { type: 'string', default: 'x', enum: ['x', 'y'] } },
      tags: [{ name: 't', value: null }],
      at,
      n: 1.5,
      on: false,
      missing: undefined,
    };
    const copy = copyAnswer(answer);
    expect(copy).toEqual(answer);
    expect(copy.parameters.cmd.enum).not.toBe(answer.parameters.cmd.enum);
    expect(copy.tags[0]).not.toBe(answer.tags[0]);
    expect(copy.at).not.toBe(at);
    expect(copy.at).toBeInstanceOf(Date);
    expect('missing' in copy).toBe(true);
    // Not plain data (a Map): copied by structuredClone, as before.
    const odd = { m: new Map([['k', { v: 1 }]]) };
    const oddCopy = copyAnswer(odd);
    expect(oddCopy.m.get('k')).toEqual({ v: 1 });
    expect(oddCopy.m.get('k')).not.toBe(odd.m.get('k'));
  });

  it('does not keep an answer read while a write was under way', async () => {
    const { coll, state } = memoryCollection();
    const cache = new ContentCache();
    cache.enable();
    const actions = cache.wrap('actions', coll);
    await actions.insert({ id: 'a1', ref: 'p.a', enabled: true });
    let release!: () => void;
    state.hold = new Promise<void>((r) => (release = r));
    // The read sees the old record, then the write lands before the read comes back.
    const slow = actions.findOne({ ref: 'p.a' });
    await new Promise((r) => setImmediate(r));
    state.hold = undefined;
    await actions.updateOne({ id: 'a1' }, { $set: { enabled: false } });
    release();
    expect((await slow)?.enabled).toBe(true);
    expect((await actions.findOne({ ref: 'p.a' }))?.enabled).toBe(false);
  });

  it('forgets a collection when another process says it wrote to it, and tells the others of its own writes', async () => {
    const { coll, state } = memoryCollection();
    const told: string[] = [];
    const cache = new ContentCache();
    cache.enable(async (c) => void told.push(c));
    const actions = cache.wrap('actions', coll);
    await actions.insert({ id: 'a1', ref: 'p.a', enabled: true });
    expect(told).toEqual(['actions']);
    await actions.get('a1');
    await actions.get('a1');
    expect(state.reads).toBe(1);
    cache.invalidate('actions');
    await actions.get('a1');
    expect(state.reads).toBe(2);
  });

  it('reads the store every time while off', async () => {
    const { coll, state } = memoryCollection();
    const cache = new ContentCache();
    const actions = cache.wrap('actions', coll);
    await actions.insert({ id: 'a1', ref: 'p.a', enabled: true });
    await actions.get('a1');
    await actions.get('a1');
    expect(state.reads).toBe(2);
    cache.enable();
    await actions.get('a1');
    cache.disable();
    await actions.get('a1');
    expect(state.reads).toBe(4);
  });
});
