// Floor: the embedded store's raw write rate (nedb through src/store openStore, from dist/):
// sequential awaited inserts into testRecords, and 16 in flight at once.
// Run alone: node bench/store.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { emit } from './lib/loadgen.mjs';
import { ROOT } from './lib/squall.mjs';

export async function runStore({ count = 5000 } = {}) {
  const { openStore } = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'store', 'index.js')).href);
  const { newId } = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'ids.js')).href);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-store-'));
  const store = await openStore({ dataDir: dir });
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
      name: 'floor.store_embedded.insert_seq',
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
      name: 'floor.store_embedded.insert_c16',
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
