import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STORE_FILE, openStore } from '../../../src/store/index.js';
import { tempDir } from '../../support/servers.js';

// The embedded store's memory is SQLite's page cache, not the history: each connection (the
// writer and the read-aside worker) must run with the bound the user configured.
describe('embedded store page cache', () => {
  it('bounds both connections by store.cache_mb, and defaults to 4 MiB', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const sized = await openStore({ dataDir: path.join(dir, 'a'), cacheMb: 3 });
      try {
        const db = sized.embedded!;
        expect(db.db.pragma('cache_size', { simple: true })).toBe(-3 * 1024);
        expect(await db.readAside('PRAGMA cache_size', [])).toEqual([{ cache_size: -3 * 1024 }]);
        expect(path.basename(db.file)).toBe(STORE_FILE);
      } finally {
        await sized.close();
      }
      const plain = await openStore({ dataDir: path.join(dir, 'b') });
      try {
        expect(plain.embedded!.db.pragma('cache_size', { simple: true })).toBe(-4 * 1024);
      } finally {
        await plain.close();
      }
    } finally {
      cleanup();
    }
  });
});
