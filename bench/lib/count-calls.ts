// Counts the calls each collection of a store gets, by `collection.method` (the Collection
// interface of src/store/types.ts: each call is a round trip on MongoDB). Used by the
// store-calls and workflow benches.
import { COLLECTIONS, type CollectionKey, type Store } from '../../src/store/index.js';

const METHODS = [
  'insert',
  'insertMany',
  'get',
  'findOne',
  'find',
  'count',
  'group',
  'updateOne',
  'updateMany',
  'replace',
  'deleteOne',
  'deleteMany',
];

/** Wraps every collection method of `store`; the map it returns fills as they are called. */
export function countStoreCalls(handle: Store): Map<string, number> {
  const counts = new Map<string, number>();
  const store = handle as unknown as Record<string, Record<string, unknown>>;
  for (const key of Object.keys(COLLECTIONS) as CollectionKey[]) {
    const coll = store[key]!;
    for (const method of METHODS) {
      const fn = coll[method] as (...a: unknown[]) => unknown;
      coll[method] = (...args: unknown[]) => {
        const label = `${key}.${method}`;
        counts.set(label, (counts.get(label) ?? 0) + 1);
        return fn.apply(coll, args);
      };
    }
  }
  return counts;
}
