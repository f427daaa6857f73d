import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type BetterSqlite3 from 'better-sqlite3';
import { SquallError } from '../../errors.js';
import type { CollectionSpec } from '../types.js';
import { LruMap } from '../../lru-map.js';

type Doc = Record<string, unknown>;

/**
 * Built-in preset dictionaries of the compressed part of a row (see Compactor), by the blob's first
 * byte. A blob is inflated with the dictionary it was deflated with, so a published dictionary
 * never changes (test/unit/store/compact.test.ts pins each one): a better one is added under a new
 * id. Deflate finds its matches in the dictionary as in text already seen, so the keys and the
 * values records repeat (refs, runner names, the trace tag's prefix) cost a few bits each.
 */
const DICTIONARIES: Record<number, Buffer> = {
  1: Buffer.from(
    [
      '{"payload":"{\\"headers\\":{\\"content-type\\":\\"application/json\\",\\"content-length\\":\\"',
      '\\",\\"host\\":\\"127.0.0.1:\\",\\"user-agent\\":\\"\\",\\"accept\\":\\"*/*\\",\\"connection\\":\\"keep-alive\\"},',
      '\\"body\\":{}}","trace_context":{"trace_id":"","trace_tag":"trigger_instance-"}}',
      '{"action":{"ref":"core.local","name":"local","pack":"core","runner_type":"local-shell-cmd",',
      '"uid":"action:core:local","description":"","entry_point":"","enabled":true,"parameters":{"cmd":{"type":"string",',
      '"description":"","required":true},"timeout":{"type":"integer","default":60}},"metadata_file":"actions/"},',
      '"runner":{"name":"orquesta","runner_module":"","description":"","enabled":true,"runner_parameters":{}},',
      '"context":{"user":"stanley","pack":"core","parent":{"execution_id":"","user":"stanley","pack":"",',
      '"orquesta":{"workflow_execution_id":"","task_execution_id":"","task_name":"","task_id":"","task_route":0}},',
      '"rule":{"id":"","ref":"","name":""},"trigger_instance":{"id":"","name":null},',
      '"trace_context":{"trace_id":"","trace_tag":"trigger_instance-"}},"web_url":"http://127.0.0.1:9101/#/history/",',
      '"rule":{"ref":"","id":"","uid":"rule:","name":"","pack":""},"trigger":{"ref":"core.","type":"core.st2.webhook",',
      '"parameters":{"url":""}},"trigger_type":{"ref":"core.st2.webhook"},"trigger_instance":{"id":"","trigger":"core.",',
      '"occurrence_time":"2026-12-01T00:00:00.000Z"}}',
    ].join(''),
  ),
};

/** The built-in dictionary rows are written with until the collection has learned one. */
const STATIC = 1;
/** The blob's first byte for a learned dictionary; its id (uint32, big-endian) follows. */
const LEARNED = 2;
/**
 * A collection learns a dictionary from its own records once it has compressed this many in the
 * process (its rule and action names, descriptions and trigger refs, which no built-in dictionary
 * knows: an execution's copies deflate to ~75 bytes instead of ~245), and learns again after
 * RELEARN_AFTER more, so that it follows what the records hold now.
 */
const LEARN_AFTER = 20;
const RELEARN_AFTER = 10_000;
/**
 * A learned dictionary is the built-in one followed by the latest records, of which it keeps the
 * end (the window is 4 KiB): a few records, so that one odd record (a sensor's instance among
 * webhooks') does not make it.
 */
const LEARN_FROM = 3;
const LEARNED_MAX_BYTES = 3 * 1024;
/**
 * The inflated text of the blobs last written or read, by record id: an execution is read again
 * several times while it runs (each status update reads it first), and a hit skips the inflate.
 */
const TEXT_CACHE = 256;

/**
 * A window of 4 KiB (the dictionary fits in it) instead of zlib's 32 KiB: most of a deflate's
 * time here is setting up its state, which the window and memLevel size (20 µs against 42 µs for
 * a 1 KB part, for the same bytes out). The output buffer (chunkSize) is sized for a blob (~80–130
 * bytes) or a text (~0.3–1.2 KB) instead of Node's 16 KiB: under 4 KiB Node takes it from its
 * buffer pool instead of allocating one per call, ~4 µs of a ~16 µs deflate (bench/README.md,
 * w/disk3). The compressed bytes are the same whatever chunkSize is: only how they come out.
 */
const ZLIB = { windowBits: 12, memLevel: 5, level: 6, chunkSize: 512 } as const;
const INFLATE = { windowBits: ZLIB.windowBits, chunkSize: 2048 } as const;

function corrupt(table: string, id: string, err: unknown): SquallError {
  return new SquallError(
    'STORE_CORRUPT',
    `the compressed part of ${table} record ${id} cannot be read (${String((err as Error)?.message ?? err)})`,
    { table, id },
  );
}

/**
 * Dictionaries learned from records, in the store file itself (table squall_dictionaries), never
 * changed or deleted: each is at most 3 KiB, and a new one is written once per RELEARN_AFTER
 * compressed records at most.
 */
export class Dictionaries {
  private readonly byId = new Map<number, Buffer>();
  private readonly selectOne: BetterSqlite3.Statement;
  private readonly selectLatest: BetterSqlite3.Statement;
  private readonly insertOne: BetterSqlite3.Statement;

  /** `commits`: the store's count of committed transactions. */
  constructor(
    db: BetterSqlite3.Database,
    readonly commits: () => number,
  ) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS squall_dictionaries (id INTEGER PRIMARY KEY, collection TEXT NOT NULL, dict BLOB NOT NULL)',
    );
    this.selectOne = db.prepare('SELECT dict FROM squall_dictionaries WHERE id = ?');
    this.selectLatest = db.prepare(
      'SELECT id, dict FROM squall_dictionaries WHERE collection = ? ORDER BY id DESC LIMIT 1',
    );
    this.insertOne = db.prepare('INSERT INTO squall_dictionaries (collection, dict) VALUES (?, ?)');
  }

  /** A dictionary by id, when its row exists (committed, or written by an op that was not undone). */
  get(id: number): Buffer | undefined {
    let dict = this.byId.get(id);
    if (!dict) {
      dict = (this.selectOne.get(id) as { dict: Buffer } | undefined)?.dict;
      if (dict) this.byId.set(id, dict);
    }
    return dict;
  }

  latest(collection: string): { id: number; dict: Buffer } | undefined {
    const row = this.selectLatest.get(collection) as { id: number; dict: Buffer } | undefined;
    if (row) this.byId.set(row.id, row.dict);
    return row;
  }

  /** Writes a dictionary (inside the caller's write op) and returns its id; not cached until read back. */
  add(collection: string, dict: Buffer): number {
    return Number(this.insertOne.run(collection, dict).lastInsertRowid);
  }
}

/**
 * How a collection with `compressed` fields keeps its rows in SQLite: the `doc` column holds the
 * record's JSON with each compressed field's value replaced by a stub, and the `z` column those
 * fields' values, deflated with a preset dictionary. The stub keeps what SQL reads: the field's
 * indexed subpaths (an execution's `action.ref`), so every index, filter, sort and GROUP BY that
 * SQL runs sees the same values, and the key itself, so the record read back has its keys in the
 * order they were written (its JSON, and so every answer, is byte for byte the same). Rows
 * without a `z` (written before, or with nothing to compress) are read as they are.
 */
export class Compactor {
  private readonly fields: Set<string>;
  /** Per compressed field, the subpaths SQL reads (indexes), kept in its stub. */
  private readonly kept = new Map<string, string[][]>();
  /** The dictionary new blobs are deflated with, once learned (else the built-in one). */
  private learned?: { id: number; dict: Buffer; header: Buffer };
  /**
   * A dictionary written but not yet seen to have stayed (its op or its transaction may be
   * undone), and the store's commit count when it was written.
   */
  private pending?: { id: number; commits: number };
  private deflated = 0;
  private readonly recent: string[] = [];
  private readonly opaque: Set<string>;
  private readonly texts = new LruMap<string, { z: Buffer; text: string }>(TEXT_CACHE);

  constructor(
    readonly spec: CollectionSpec,
    private readonly dictionaries: Dictionaries,
  ) {
    this.fields = new Set(spec.compressed ?? []);
    this.opaque = new Set(spec.opaque ?? []);
    for (const index of spec.indexes) {
      if (index.multikey) continue;
      for (const path of Object.keys(index.fields)) {
        const [top, ...rest] = path.split('.');
        if (!this.fields.has(top)) continue;
        if (rest.length === 0)
          throw new Error(
            `${spec.name}: the indexed field "${top}" cannot be compressed (only fields below it)`,
          );
        const list = this.kept.get(top) ?? [];
        list.push(rest);
        this.kept.set(top, list);
      }
    }
    if (this.fields.size > 0) {
      const latest = dictionaries.latest(spec.name);
      if (latest) this.adopt(latest.id, latest.dict);
    }
  }

  private adopt(id: number, dict: Buffer): void {
    const header = Buffer.alloc(5);
    header[0] = LEARNED;
    header.writeUInt32BE(id, 1);
    this.learned = { id, dict, header };
    this.deflated = 0;
  }

  /**
   * Counts a deflated record and learns a dictionary when due. Runs inside a write op: the
   * dictionary's row is written in the op's transaction, and adopted only once that transaction
   * is committed and the row is still there, so no blob ever names a dictionary that an undone op
   * took back with it (the WAL keeps commits in order: the dictionary is on disk before any row
   * deflated with it).
   */
  private learn(places: number[], moved: Doc): void {
    this.deflated++;
    const due = this.learned ? RELEARN_AFTER : LEARN_AFTER;
    if (!this.pending && this.deflated > due - LEARN_FROM) {
      // A dictionary outlives the records it was learned from, so it is not made of their
      // free-form values (parameters, payloads): a user deleting a record deletes those.
      const sample: Doc = {};
      for (const k in moved) if (!this.opaque.has(k)) sample[k] = moved[k];
      this.recent.push(JSON.stringify([places, sample]));
      if (this.recent.length > LEARN_FROM) this.recent.shift();
    }
    if (this.pending) {
      if (this.dictionaries.commits() <= this.pending.commits) return;
      const dict = this.dictionaries.get(this.pending.id);
      if (dict) this.adopt(this.pending.id, dict);
      else this.deflated = 0;
      this.pending = undefined;
      return;
    }
    if (this.deflated < due) return;
    const dict = Buffer.concat([DICTIONARIES[STATIC], Buffer.from(this.recent.join(''))]);
    const id = this.dictionaries.add(
      this.spec.name,
      dict.subarray(Math.max(0, dict.length - LEARNED_MAX_BYTES)),
    );
    this.pending = { id, commits: this.dictionaries.commits() };
  }

  get active(): boolean {
    return this.fields.size > 0;
  }

  /** Whether SQL sees this stored path's value in the `doc` column (else it is in the blob). */
  covers(path: string): boolean {
    const [top, ...rest] = path.split('.');
    if (!this.fields.has(top)) return true;
    const sub = rest.join('.');
    return (this.kept.get(top) ?? []).some((p) => p.join('.') === sub);
  }

  /**
   * Whether an update (already encoded) may change what the blob holds: a compressed field, or
   * the place of one among the record's keys (a key removed before it). A key set anew goes last,
   * after every place the blob names.
   */
  touches(update: Doc): boolean {
    for (const op in update) {
      const fields = update[op];
      if (op === '$unset' || op === '$rename' || fields === null || typeof fields !== 'object') return true;
      for (const k in fields as Doc) {
        if (this.fields.has(k.split('.')[0])) return true;
        if ((fields as Doc)[k] === undefined) return true;
      }
    }
    return false;
  }

  /** What `doc` keeps of a compressed field: its indexed subpaths; undefined when it has none. */
  private stub(field: string, value: unknown): unknown {
    const paths = this.kept.get(field);
    if (!paths) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return 0;
    const out: Doc = {};
    for (const p of paths) {
      let from: unknown = value;
      for (const seg of p) from = from !== null && typeof from === 'object' ? (from as Doc)[seg] : undefined;
      if (from === undefined) continue;
      let to = out;
      for (const seg of p.slice(0, -1)) to = (to[seg] ??= {}) as Doc;
      to[p[p.length - 1]] = from;
    }
    return out;
  }

  /**
   * The `doc` text and `z` blob of a document (without its `_id`). The blob holds the compressed
   * fields and the place of each among the record's keys: `[[places], {field: value}]`. `reuse`
   * is the blob the row holds now, given when the caller knows the update did not change it
   * (touches()): no deflate then.
   */
  split(doc: Doc, id: string, reuse?: Buffer | null): [string, Buffer | null] {
    if (!this.active) return [JSON.stringify(doc), null];
    const shell: Doc = {};
    let moved: Doc | undefined;
    const places: number[] = [];
    let place = 0;
    for (const k in doc) {
      if (!Object.prototype.hasOwnProperty.call(doc, k) || k === '_id') continue;
      const v = doc[k];
      if (v === undefined) continue;
      if (this.fields.has(k)) {
        (moved ??= {})[k] = v;
        places.push(place);
        const stub = this.stub(k, v);
        if (stub !== undefined) shell[k] = stub;
      } else shell[k] = v;
      place++;
    }
    if (!moved) return [JSON.stringify(shell), null];
    if (reuse) return [JSON.stringify(shell), reuse];
    const text = JSON.stringify([places, moved]);
    this.learn(places, moved);
    const learned = this.learned;
    const z = learned
      ? Buffer.concat([learned.header, deflateRawSync(text, { ...ZLIB, dictionary: learned.dict })])
      : Buffer.concat([
          Buffer.of(STATIC),
          deflateRawSync(text, { ...ZLIB, dictionary: DICTIONARIES[STATIC] }),
        ]);
    this.remember(id, z, text);
    return [JSON.stringify(shell), z];
  }

  private remember(id: string, z: Buffer, text: string): void {
    this.texts.set(id, { z, text });
  }

  private inflate(z: Buffer, id: string): string {
    const cached = this.texts.get(id);
    if (cached && cached.z.equals(z)) return cached.text;
    const learned = z[0] === LEARNED;
    const dictId = learned ? z.readUInt32BE(1) : z[0];
    const dictionary = learned ? this.dictionaries.get(dictId) : DICTIONARIES[dictId];
    if (!dictionary) throw new Error(`unknown ${learned ? 'learned ' : ''}dictionary ${dictId}`);
    const body = z.subarray(learned ? 5 : 1);
    const text = inflateRawSync(body, { ...INFLATE, dictionary }).toString('utf8');
    this.remember(id, z, text);
    return text;
  }

  /** The JSON text of a blob's fields (as merge reads it; kept from the last write or read). */
  text(z: Buffer, id: string): string {
    try {
      return this.inflate(z, id);
    } catch (err) {
      throw corrupt(this.spec.name, id, err);
    }
  }

  /** The record of a row: its parsed `doc` with the blob's fields back, each at its place. */
  merge(shell: Doc, z: Buffer, id: string): Doc {
    let places: number[];
    let moved: Doc;
    try {
      [places, moved] = JSON.parse(this.inflate(z, id)) as [number[], Doc];
    } catch (err) {
      throw corrupt(this.spec.name, id, err);
    }
    const out: Doc = { _id: id };
    const movedKeys = Object.keys(moved);
    let m = 0;
    let place = 0;
    const take = () => {
      while (m < movedKeys.length && places[m] === place) {
        out[movedKeys[m]] = moved[movedKeys[m]];
        m++;
        place++;
      }
    };
    for (const k in shell) {
      if (this.fields.has(k)) continue;
      take();
      out[k] = shell[k];
      place++;
    }
    take();
    // Places past the end (none, unless the row was edited by hand): the fields go last.
    for (; m < movedKeys.length; m++) out[movedKeys[m]] = moved[movedKeys[m]];
    return out;
  }
}

/** For tests: the dictionaries in use, by id. */
export const COMPACT_DICTIONARIES: Readonly<Record<number, Buffer>> = DICTIONARIES;
