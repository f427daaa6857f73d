import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COLLECTIONS, SqliteDatabase, type CollectionSpec } from '../../../src/store/index.js';
import { indexedFields, plan } from '../../../src/store/sqlite/query.js';

/**
 * Issue 24: History's default list is the top-level executions (`parent` missing), newest first.
 * Answered from the presence index, its count and first page do not read every execution.
 */
// COLLECTIONS' literal index shapes are narrower than CollectionSpec's (as in openAll()).
const spec = Object.values(COLLECTIONS).find((c) => c.name === 'executions') as CollectionSpec;

const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-presence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite plan for $exists on a field with a presence index', () => {
  it('pushes `parent: {$exists: false}` down exactly, and SQLite answers it from the index', () => {
    const indexed = indexedFields(spec);
    const p = plan({ parent: { $exists: false }, status: 'failed' }, indexed);
    expect(p.exact).toBe(true);
    expect(p.where).toContain(`json_type(doc, '$."parent"') IS NULL`);
    // a field without a presence index is still matched record by record
    expect(plan({ 'context.user': { $exists: false } }, indexed).exact).toBe(false);

    const db = new SqliteDatabase(path.join(dir, 'squall.db'), { check: false });
    try {
      db.collection(spec);
      const top = plan({ parent: { $exists: false } }, indexed);
      const explain = (sql: string) =>
        (db.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...top.params) as { detail: string }[])
          .map((r) => r.detail)
          .join('; ');
      const count = explain(`SELECT count(*) FROM executions WHERE ${top.where}`);
      expect(count).toMatch(/USING (COVERING )?INDEX executions__parent__start_timestamp__presence/);
      const page = explain(
        `SELECT id, doc FROM executions WHERE ${top.where} ORDER BY json_extract(doc, '$."start_timestamp"') DESC, rowid ASC LIMIT 100`,
      );
      expect(page).toContain('executions__parent__start_timestamp__presence');
      expect(page).not.toContain('TEMP B-TREE FOR ORDER BY');
    } finally {
      db.close();
    }
  });
});

describe('SQLite plan for a long $in list', () => {
  it('answers $in over 40,000 and 250,000 ids (a trace joining that many), from the index', async () => {
    const db = new SqliteDatabase(path.join(dir, 'long-in.db'), { check: false });
    try {
      const executions = db.collection<{ id: string; status: string }>(spec);
      const id = (i: number) => i.toString(16).padStart(24, '0');
      await executions.insertMany([
        { id: id(7), status: 'succeeded' },
        { id: id(39_999), status: 'failed' },
        { id: id(300_000), status: 'failed' },
      ] as never);
      for (const n of [40_000, 250_000]) {
        const ids = Array.from({ length: n }, (_, i) => id(i));
        const found = await executions.find({ id: { $in: ids } } as never, { sort: { id: 1 } });
        expect(found.map((r) => r.id)).toEqual([id(7), id(39_999)]);
        expect(await executions.count({ id: { $in: ids }, status: 'failed' } as never)).toBe(1);
      }
      const long = plan(
        { status: { $in: Array.from({ length: 2000 }, (_, i) => `s${i}`) } },
        indexedFields(spec),
      );
      expect(long.params).toHaveLength(1);
      const explained = (
        db.db
          .prepare(`EXPLAIN QUERY PLAN SELECT id FROM executions WHERE ${long.where}`)
          .all(...long.params) as {
          detail: string;
        }[]
      )
        .map((r) => r.detail)
        .join('; ');
      expect(explained).toMatch(/USING (COVERING )?INDEX executions__status/);
    } finally {
      db.close();
    }
  });
});
