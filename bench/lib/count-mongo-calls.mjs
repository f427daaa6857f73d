// A preload (`node --import ./bench/lib/count-mongo-calls.mjs`) that counts the MongoDB driver's
// collection calls of one process — each a database round trip (a find counted once, however many
// batches its cursor reads) — by collection, operation and caller (the first frames outside the
// driver, mongoose and Agenda). Each SIGUSR2 writes the counts since the last one as JSON to
// $SQUALL_COUNT_CALLS_DIR/<pid>-<n>.json and starts again from zero. bench/scaleout.mjs sets it up
// with SQUALL_BENCH_CALLS=1.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const dir = process.env.SQUALL_COUNT_CALLS_DIR;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const require = createRequire(path.join(root, 'package.json'));

const OPS = [
  'find',
  'findOne',
  'findOneAndUpdate',
  'findOneAndDelete',
  'findOneAndReplace',
  'insertOne',
  'insertMany',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'countDocuments',
  'aggregate',
  'bulkWrite',
  'distinct',
];

/** key → count; key is `collection op | caller`. */
const counts = new Map();
let inside = 0;
Error.stackTraceLimit = 40;

function caller() {
  const stack = new Error().stack?.split('\n').slice(3) ?? [];
  const frames = [];
  for (const line of stack) {
    if (/node_modules|node:internal|count-mongo-calls|store\/transient|store\/mongo\/collection/.test(line))
      continue;
    const m = /at (?:async )?(\S+) \(?(.*?):(\d+):\d+\)?$/.exec(line.trim());
    if (!m) continue;
    const file = m[2].replace(/^file:\/\//, '').replace(root + '/', '');
    frames.push(`${m[1]}@${file.replace(/^dist\//, '')}:${m[3]}`);
    if (frames.length === 3) break;
  }
  return frames.join(' < ') || '?';
}

function patch(Collection) {
  if (!Collection || Collection.prototype.__counted) return;
  Collection.prototype.__counted = true;
  for (const op of OPS) {
    const orig = Collection.prototype[op];
    if (typeof orig !== 'function') continue;
    Collection.prototype[op] = function (...args) {
      // findOne is find + limit inside the driver: count the outer call only.
      if (inside === 0) {
        const key = `${this.collectionName} ${op} | ${caller()}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      inside++;
      try {
        return orig.apply(this, args);
      } finally {
        inside--;
      }
    };
  }
}

for (const from of ['mongodb', 'mongoose']) {
  try {
    if (from === 'mongodb') patch(require('mongodb').Collection);
    else {
      const r = createRequire(require.resolve('mongoose'));
      patch(r('mongodb').Collection);
    }
  } catch {
    /* not installed */
  }
}

let dumps = 0;
function dump() {
  if (!dir) return;
  dumps++;
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  writeFileSync(
    path.join(dir, `${process.pid}-${dumps}.json`),
    JSON.stringify(
      { pid: process.pid, argv: process.argv.slice(2), counts: Object.fromEntries(rows) },
      null,
      1,
    ),
  );
}
process.on('SIGUSR2', () => {
  dump();
  counts.clear();
});
