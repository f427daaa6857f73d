// Counts the calls each collection of a store gets, by `collection.method` (the Collection
// interface of src/store/types.ts: each call is a round trip on MongoDB). Used by the
// store-calls and workflow benches. SQUALL_BENCH_STACKS=1 labels each call with its callers too.
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

const stacks = Boolean(process.env.SQUALL_BENCH_STACKS);

/** The first four callers in src/ outside the store, for SQUALL_BENCH_STACKS=1 (which caller makes which call). */
function callers(stack: string): string {
  return stack
    .split('\n')
    .slice(2)
    .filter((l) => l.includes('/src/') && !l.includes('/src/store/'))
    .slice(0, 4)
    .map((l) =>
      l
        .trim()
        .replace(/^at /, '')
        .replace(/\(.*\/src\//, '(')
        .replace(/file:.*\/src\//, ''),
    )
    .join(' < ');
}

/** Wraps every collection method of `store`; the map it returns fills as they are called. */
export function countStoreCalls(handle: Store): Map<string, number> {
  const counts = new Map<string, number>();
  const store = handle as unknown as Record<string, Record<string, unknown>>;
  for (const key of Object.keys(COLLECTIONS) as CollectionKey[]) {
    const coll = store[key]!;
    for (const method of METHODS) {
      const fn = coll[method] as (...a: unknown[]) => unknown;
      coll[method] = (...args: unknown[]) => {
        let label = `${key}.${method}`;
        if (stacks) label += `  <= ${callers(new Error().stack ?? '')}`;
        counts.set(label, (counts.get(label) ?? 0) + 1);
        return fn.apply(coll, args);
      };
    }
  }
  return counts;
}
