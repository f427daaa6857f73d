import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { modifyOwned } from '../../../src/store/sqlite/index.js';

type Doc = Record<string, unknown>;
const nedb = createRequire(import.meta.url)('@seald-io/nedb/lib/model.js') as {
  modify(doc: Doc, update: Doc): Doc;
};

const stored = (): Doc => ({
  _id: 'e1',
  status: 'running',
  log: [{ status: 'requested', timestamp: 't0' }],
  context: { user: 'stanley', trace_context: { trace_tag: 'x' } },
  result: '{"a":1}',
  n: 3,
});

/** What nedb's modify makes of a fresh copy, or the message it throws. */
function viaNedb(update: Doc): Doc | string {
  try {
    return nedb.modify(stored(), update);
  } catch (err) {
    return (err as Error).message;
  }
}

function viaOwned(update: Doc): Doc | string {
  try {
    return modifyOwned(stored(), update);
  } catch (err) {
    return (err as Error).message;
  }
}

describe('modifyOwned: the in-place update of a document just read from SQLite', () => {
  const updates: Array<[string, Doc]> = [
    [
      '$set and $push (a status move)',
      { $set: { status: 'succeeded', end: 't1' }, $push: { log: { status: 'succeeded' } } },
    ],
    ['$push onto a missing field makes the array', { $push: { children: 'e2' } }],
    ['$unset', { $unset: { result: true, missing: true } }],
    ['$set of nested objects and arrays', { $set: { context: { user: 'x', deep: [{ a: [1, 2] }] } } }],
    ['a dotted path (nedb)', { $set: { 'context.user': 'y' } }],
    ['$inc (nedb)', { $inc: { n: 2 } }],
    ['$addToSet (nedb)', { $addToSet: { log: { status: 'requested', timestamp: 't0' } } }],
    [
      '$set and $push with $each (two status moves in one)',
      {
        $set: { status: 'succeeded' },
        $push: { log: { $each: [{ status: 'running' }, { status: 'succeeded' }] } },
      },
    ],
    ['$push with $each onto a missing field', { $push: { children: { $each: ['e2', 'e3'] } } }],
    ['$push with $each of a $ key: refused', { $push: { log: { $each: [{ $bad: 1 }] } } }],
    ['$push with $each and $slice (nedb)', { $push: { log: { $each: [{ a: 1 }, { b: 2 }], $slice: -2 } } }],
    ['$push onto a non-array: refused', { $push: { status: 'x' } }],
    ['changing _id: refused', { $set: { _id: 'other' } }],
    ['a $ key inside a value: refused', { $set: { context: { $bad: 1 } } }],
    ['a dotted key inside a value: refused', { $set: { context: { 'a.b': 1 } } }],
    ['mixing modifiers and fields: refused', { $set: { a: 1 }, plain: 2 }],
    ['an unknown modifier: refused', { $rename: { a: 'b' } }],
  ];
  for (const [what, update] of updates)
    it(`does what nedb's modify does: ${what}`, () => {
      expect(viaOwned(update)).toEqual(viaNedb(update));
    });

  it('changes the document it was given (it owns it) for the common update', () => {
    const doc = stored();
    const out = modifyOwned(doc, { $set: { status: 'succeeded' }, $push: { log: { status: 'succeeded' } } });
    expect(out).toBe(doc);
    expect((doc.log as unknown[]).length).toBe(2);
  });
});
