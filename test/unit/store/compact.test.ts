import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COLLECTIONS,
  SqliteDatabase,
  type CollectionSpec,
  type Collection,
} from '../../../src/store/index.js';
import type { ExecutionRecord } from '../../../src/store/index.js';
import { COMPACT_DICTIONARIES } from '../../../src/store/sqlite/compact.js';

/**
 * Issue 19: the embedded store keeps an execution's copied subdocuments deflated. What a user
 * reads back (the API answers the record as stored) must be the same record, keys in the same
 * order, whether the row was written compressed, before compression existed, or updated since.
 */
// COLLECTIONS' literal index shapes are narrower than CollectionSpec's (as in openAll()).
const spec = Object.values(COLLECTIONS).find((c) => c.name === 'executions') as CollectionSpec;

function execution(id: string): ExecutionRecord {
  return {
    id,
    action: {
      uid: 'action:core:echo',
      ref: 'core.echo',
      pack: 'core',
      name: 'echo',
      runner_type: 'local-shell-cmd',
      description: 'Does nothing (compressed).',
      entry_point: '',
      parameters: {},
    },
    runner: { name: 'noop', runner_parameters: {} },
    status: 'requested',
    start_timestamp: '2026-12-06T00:39:01.788Z',
    parameters: { a: 'x.y', $b: 1 },
    context: {
      user: 'stanley',
      pack: 'core',
      rule: { id: '6b14ae92b2aab573641fbfa6', ref: 'pk.hook', name: 'hook' },
      trigger_instance: { id: '6b14aea55b0485d50ba08b17', name: null },
      trace_context: {
        trace_id: '6b14aea55b0485d50ba08b18',
        trace_tag: 'trigger_instance-6b14aea55b0485d50ba08b17',
      },
    },
    log: [{ status: 'requested', timestamp: '2026-12-06T00:39:01.788Z' }],
    children: [],
    web_url: `http://127.0.0.1:9101/#/history/${id}`,
    rule: { ref: 'pk.hook', id: '6b14ae92b2aab573641fbfa6', uid: 'rule:pk:hook', name: 'hook', pack: 'pk' },
    trigger: { ref: 'core.webhook', type: 'core.st2.webhook', parameters: { url: 'hook' } },
    trigger_type: { ref: 'core.st2.webhook' },
    trigger_instance: { id: '6b14aea55b0485d50ba08b17', trigger: 'core.webhook', occurrence_time: 'x' },
  } as unknown as ExecutionRecord;
}

describe('embedded store: compressed fields', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-compact-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads an execution back as it was written, keys in order, after updates of either kind', async () => {
    const db = new SqliteDatabase(path.join(dir, 'a.db'), { check: false });
    try {
      const coll = db.collection<ExecutionRecord>(spec);
      const rec = execution('5f802cff72bb8df64347400d');
      await coll.insert(rec);
      expect(JSON.stringify(await coll.get(rec.id))).toBe(JSON.stringify(rec));
      const row = db.db.prepare('SELECT doc, z FROM executions WHERE id = ?').get(rec.id) as {
        doc: string;
        z: Buffer;
      };
      expect(row.z).toBeInstanceOf(Buffer);
      expect(row.doc).not.toContain('Does nothing (compressed).');

      // An update of uncompressed fields keeps the compressed part; one of a compressed field changes it.
      await coll.updateOne({ id: rec.id, status: 'requested' }, { $set: { status: 'succeeded' } });
      await coll.updateOne({ id: rec.id }, { $set: { 'context.extra': 1 }, $push: { log: { status: 'x' } } });
      const expected = {
        ...rec,
        status: 'succeeded',
        context: { ...rec.context, extra: 1 },
        log: [...rec.log, { status: 'x' }],
      };
      expect(JSON.stringify(await coll.get(rec.id))).toBe(JSON.stringify(expected));
      expect(JSON.stringify((await coll.find({ id: rec.id }))[0])).toBe(JSON.stringify(expected));

      // A key set anew goes last; a key removed before a compressed one moves the ones after it.
      await coll.updateOne({ id: rec.id }, { $set: { end_timestamp: 'e', result: { ok: 1 } } });
      await coll.updateOne({ id: rec.id }, { $unset: { status: true } });
      const { status: _status, ...unset } = { ...expected, end_timestamp: 'e', result: { ok: 1 } };
      void _status;
      expect(JSON.stringify(await coll.get(rec.id))).toBe(JSON.stringify(unset));
    } finally {
      db.close();
    }
  });

  it('answers filters, counts and groups on compressed fields, and refuses to sort by one', async () => {
    const db = new SqliteDatabase(path.join(dir, 'b.db'), { check: false });
    try {
      const coll = db.collection<ExecutionRecord>(spec) as Collection<ExecutionRecord>;
      for (const [i, ref] of ['core.noop', 'core.local', 'core.noop'].entries()) {
        const rec = execution(`5f802cff72bb8df6434740${10 + i}`);
        await coll.insert({
          ...rec,
          action: { ...rec.action, ref },
          elapsed_seconds: i + 1,
        } as ExecutionRecord);
      }
      // indexed subpath (kept in SQL's view) and unindexed subpath (matched on the whole record)
      expect(await coll.count({ 'action.ref': 'core.noop' })).toBe(2);
      expect(await coll.count({ 'context.user': 'stanley' })).toBe(3);
      expect((await coll.find({ 'trigger.parameters.url': 'hook', 'action.ref': 'core.local' })).length).toBe(
        1,
      );
      const byAction = await coll.group(
        {},
        { by: { a: { field: 'action.ref' } }, sum: { s: 'elapsed_seconds' } },
      );
      expect(byAction.sort((x, y) => String(x.key.a).localeCompare(String(y.key.a)))).toEqual([
        { key: { a: 'core.local' }, count: 1, sums: { s: 2 } },
        { key: { a: 'core.noop' }, count: 2, sums: { s: 4 } },
      ]);
      const byRunner = await coll.group({}, { by: { r: { field: 'runner.name' } } });
      expect(byRunner).toEqual([{ key: { r: 'noop' }, count: 3, sums: {} }]);
      await expect(coll.find({}, { sort: { 'rule.name': 1 } })).rejects.toThrow(/stored compressed/);
    } finally {
      db.close();
    }
  });

  it('reads and updates rows written before compression (no z column)', async () => {
    const file = path.join(dir, 'old.db');
    const old = new SqliteDatabase(file, { check: false });
    const rec = execution('5f802cff72bb8df643474020');
    const { id, ...rest } = rec;
    old.db.exec('CREATE TABLE executions (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)');
    old.db.prepare('INSERT INTO executions (id, doc) VALUES (?, ?)').run(id, JSON.stringify(rest));
    old.close();
    const db = new SqliteDatabase(file, { check: false });
    try {
      const coll = db.collection<ExecutionRecord>(spec);
      expect(JSON.stringify(await coll.get(id))).toBe(JSON.stringify(rec));
      expect(await coll.count({ 'action.ref': 'core.echo', status: 'requested' })).toBe(1);
      await coll.updateOne({ id }, { $set: { status: 'running' } });
      expect(JSON.stringify(await coll.get(id))).toBe(JSON.stringify({ ...rec, status: 'running' }));
    } finally {
      db.close();
    }
  });

  it('learns a dictionary from its records, and reads every row back after a restart', async () => {
    const file = path.join(dir, 'learn.db');
    const written: ExecutionRecord[] = [];
    let db = new SqliteDatabase(file, { check: false });
    try {
      const coll = db.collection<ExecutionRecord>(spec);
      // Undone as a whole (its last record is a duplicate): a dictionary learned inside it is never used.
      const batch = Array.from({ length: 30 }, (_, i) =>
        execution(`6f802cff72bb8df6434741${String(i).padStart(2, '0')}`),
      );
      await expect(coll.insertMany([...batch, batch[0]])).rejects.toThrow(/already exists/);
      expect(db.db.prepare('SELECT count(*) AS n FROM squall_dictionaries').get()).toEqual({ n: 0 });
      for (let i = 0; i < 40; i++) {
        const rec = execution(`5f802cff72bb8df6434741${String(i).padStart(2, '0')}`);
        rec.parameters = { password: `hunter2-${i}` };
        written.push(rec);
        await coll.insert(rec);
      }
      for (let i = 40; i < 60; i++) {
        const rec = execution(`5f802cff72bb8df6434741${String(i).padStart(2, '0')}`);
        written.push(rec);
        await coll.insert(rec);
      }
    } finally {
      db.close();
    }
    db = new SqliteDatabase(file, { check: false });
    try {
      const coll = db.collection<ExecutionRecord>(spec);
      const rows = db.db.prepare('SELECT z FROM executions ORDER BY rowid').all() as { z: Buffer }[];
      // Parameters (free-form, deleted with their record) are not kept in a dictionary.
      const dicts = db.db.prepare('SELECT dict FROM squall_dictionaries').all() as { dict: Buffer }[];
      expect(dicts.length).toBeGreaterThan(0);
      for (const { dict } of dicts) expect(dict.toString()).not.toContain('hunter2');
      const learned = rows.filter((r) => r.z[0] === 2);
      expect(learned.length).toBeGreaterThan(0);
      expect(Math.max(...learned.map((r) => r.z.length))).toBeLessThan(
        Math.min(...rows.filter((r) => r.z[0] === 1).map((r) => r.z.length)),
      );
      const back = await coll.find({}, { sort: { id: 1 } });
      expect(back.map((r) => JSON.stringify(r))).toEqual(written.map((r) => JSON.stringify(r)));
    } finally {
      db.close();
    }
  });

  it('reads a row exactly as Squall eed7031 (the first release that compressed) wrote it', async () => {
    // The doc and z columns of this record as written at eed7031 (built-in dictionary), byte for
    // byte: any later change of how blobs are deflated must still read them back the same.
    const rec = execution('5f802cff72bb8df64347400d');
    const doc =
      '{"action":{"ref":"core.echo"},"status":"requested","start_timestamp":"2026-12-06T00:39:01.788Z",' +
      '"context":{"user":"stanley"},"log":[{"status":"requested","timestamp":"2026-12-06T00:39:01.788Z"}],"children":[],"rule":{"ref":"pk.hook"}}';
    const z = Buffer.from(
      'Aa3VTW7CMBAF4KugqAuQRpHH2IlhzS2AhSexSxURW4QFXXD3ipDmpyZNI3VrRbY1z9/Lfs8AQYAEBRtABoiA/Aj9Hgndm+zk2tDrc5uV4TNuRvj99US9DFntnKkWpbuePsr3xTJzZ38xVWXyVfyqXgJrAenSOR+N2+wvPH4eum7qW/xZF/gbHaItPur574YHQhJCoc2GE9eaZLpOBFqyOmmH6Iu4eS/NfSezf26ppSQmlMwlI80UYToH18geagrd6NnzMEqrGM+sTTmRym0i1iIVjOUB0m46U9PsGfbF9sVI25h8MQ660zvP9TO0/7H9S74/zHd3Cunfovv9+AU=',
      'base64',
    );
    const db = new SqliteDatabase(path.join(dir, 'eed7031.db'), { check: false });
    try {
      const coll = db.collection<ExecutionRecord>(spec);
      db.db.prepare('INSERT INTO executions (id, doc, z) VALUES (?, ?, ?)').run(rec.id, doc, z);
      expect(JSON.stringify(await coll.get(rec.id))).toBe(JSON.stringify(rec));
      expect(JSON.stringify(await coll.findOne({ 'rule.name': 'hook' }))).toBe(JSON.stringify(rec));
    } finally {
      db.close();
    }
  });

  it('reads back after a restart a record whose compressed part inflates past one output buffer', async () => {
    const file = path.join(dir, 'large.db');
    const rec = execution('5f802cff72bb8df643474030');
    // ~20 KB of parameters: the inflated text spans several of the inflate's 2 KiB output chunks.
    rec.parameters = { blob: createHash('sha512').update('x').digest('hex').repeat(160) };
    let db = new SqliteDatabase(file, { check: false });
    try {
      await db.collection<ExecutionRecord>(spec).insert(rec);
    } finally {
      db.close();
    }
    db = new SqliteDatabase(file, { check: false });
    try {
      expect(JSON.stringify(await db.collection<ExecutionRecord>(spec).get(rec.id))).toBe(
        JSON.stringify(rec),
      );
    } finally {
      db.close();
    }
  });

  it('keeps every published dictionary as it was (rows written with it must stay readable)', () => {
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);
    expect(Object.fromEntries(Object.entries(COMPACT_DICTIONARIES).map(([k, v]) => [k, sha(v)]))).toEqual({
      1: '12f581d9ad199d4a',
    });
  });
});
