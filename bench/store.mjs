// Floor: the embedded store's raw write rate (SQLite through src/store openStore, from dist/),
// beside the nedb engine it replaced (src/store/embedded, kept to import old data directories):
// sequential awaited inserts into testRecords, and 16 in flight at once. SQLite's insert is
// durable when it resolves (fsync'd WAL, group commit); nedb's was written but never fsync'd.
// Run alone: node bench/store.mjs
import { rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { emit } from './lib/loadgen.mjs';
import { ROOT } from './lib/squall.mjs';
import { scratchDir } from './lib/proc.mjs';

export async function runStore({ count = 5000 } = {}) {
  const { openStore, EmbeddedDatabase } = await import(
    pathToFileURL(path.join(ROOT, 'dist', 'src', 'store', 'index.js')).href
  );
  await floor('embedded', count, async (dir) => openStore({ dataDir: dir }));
  await floor('nedb', count, async (dir) => {
    const nedb = new EmbeddedDatabase(path.join(dir, 'db'));
    return { ...(await nedb.openAll()), close: () => nedb.close() };
  });
}

async function floor(engine, count, open) {
  const { newId } = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'ids.js')).href);
  const dir = scratchDir('squall-bench-store-');
  const store = await open(dir);
  const doc = (i) => ({
    id: newId(),
    n: i,
    status: 'succeeded',
    at: new Date().toISOString(),
    result: { ok: true },
  });
  try {
    for (let i = 0; i < 200; i++) await store.testRecords.insert(doc(i)); // warm-up
    let t0 = performance.now();
    for (let i = 0; i < count; i++) await store.testRecords.insert(doc(i));
    let ms = performance.now() - t0;
    emit({
      name: `floor.store_${engine}.insert_seq`,
      unit: 'writes/s',
      value: +((count / ms) * 1000).toFixed(0),
      n: count,
    });
    t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) {
          next++;
          await store.testRecords.insert(doc(next));
        }
      }),
    );
    ms = performance.now() - t0;
    emit({
      name: `floor.store_${engine}.insert_c16`,
      unit: 'writes/s',
      value: +((count / ms) * 1000).toFixed(0),
      n: count,
    });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await runStore();
