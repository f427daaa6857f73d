import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { ConflictError, SquallError } from '../../errors.js';
import { newId } from '../../ids.js';
import { Codec, textMayHoldEscapedKeys, updateMayEscapeKeys } from '../codec.js';
import { guardRanges } from '../embedded/index.js';
import { GroupReducer } from '../group.js';
import type { Collection, CollectionSpec, Filter, FindOptions, StoredRecord, Update } from '../types.js';
import type { GroupRow, GroupSpec } from '../types.js';
import { Compactor } from './compact.js';
import type { SqliteDatabase } from './database.js';
import { fieldExpr, indexedFields, jsonPath, orderBy, plan } from './query.js';

type Doc = Record<string, unknown>;

/**
 * nedb's matcher and update operators: the semantics the embedded store has always had (MongoDB's,
 * with ranges guarded against null), now applied to records read from SQLite.
 */
const require = createRequire(import.meta.url);
const model = require('@seald-io/nedb/lib/model.js') as {
  match(doc: Doc, query: Doc): boolean;
  modify(doc: Doc, update: Doc): Doc;
  deepCopy(doc: Doc, strictKeys?: boolean): Doc;
  getDotValue(doc: Doc, field: string): unknown;
  checkObject(doc: Doc): void;
};

interface Row {
  id: string;
  doc: string;
  /** The compressed fields (compact.ts); null when the row has none. */
  z: Buffer | null;
}

function isUniqueViolation(err: unknown): boolean {
  const code = String((err as { code?: string })?.code ?? '');
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * The row of a document: its id, and the rest as JSON. `_id` is hidden from JSON.stringify by an
 * undefined value for the call (a property holding undefined is left out) rather than by copying
 * the document without it; the text is the same, and the document is as it was after.
 */
function toRow(doc: Doc, compactor: Compactor, reuse?: Buffer | null): [string, string, Buffer | null] {
  const id = doc._id;
  if (id === undefined) return [String(id), ...compactor.split(doc, String(id), reuse)];
  doc._id = undefined;
  try {
    return [String(id), ...compactor.split(doc, String(id), reuse)];
  } finally {
    doc._id = id;
  }
}

const OWN = Object.prototype.hasOwnProperty;

/** Whether `key` is the only own key of `doc`. */
function onlyKey(doc: Doc, key: string): boolean {
  for (const k in doc) if (OWN.call(doc, k) && k !== key) return false;
  return true;
}

const isModifier = (v: unknown): v is Doc => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The elements of a `$push` of `{$each: [...]}` and nothing else, which modifyOwned applies itself. */
function pushedEach(v: unknown): unknown[] | undefined {
  if (!isModifier(v) || !OWN.call(v, '$each') || Object.keys(v).length !== 1) return undefined;
  return Array.isArray(v.$each) ? (v.$each as unknown[]) : undefined;
}

/**
 * `model.modify` for the common update of a document just parsed from its row (so this call owns
 * it): top-level `$set`, `$unset` and plain `$push` onto an array, applied in place. nedb's modify
 * deep-copies the whole record and then walks all of it for bad keys (~2% of a webhook's CPU: an
 * execution is updated three times); here only the values written are checked, which is all that
 * changed. Anything else (dotted paths, `_id`, `$each`/`$slice`, other operators) goes to nedb as
 * before.
 */
export function modifyOwned(doc: Doc, update: Doc): Doc {
  for (const op in update) {
    if (!OWN.call(update, op)) continue;
    if (op !== '$set' && op !== '$unset' && op !== '$push') return model.modify(doc, update);
    const fields = update[op];
    if (typeof fields !== 'object' || fields === null) return model.modify(doc, update);
    for (const k in fields as Doc) {
      if (!OWN.call(fields, k)) continue;
      if (k === '_id' || k.includes('.') || k.startsWith('$')) return model.modify(doc, update);
      if (op === '$push') {
        const v = (fields as Doc)[k];
        const cur = doc[k];
        if (cur !== undefined && !Array.isArray(cur)) return model.modify(doc, update);
        // `{$each: [...]}` alone pushes its elements; any other modifier goes to nedb.
        if (isModifier(v) && (OWN.call(v, '$each') || OWN.call(v, '$slice')) && !pushedEach(v))
          return model.modify(doc, update);
      }
    }
  }
  for (const op in update) {
    if (!OWN.call(update, op)) continue;
    const fields = update[op] as Doc;
    for (const k in fields) {
      if (!OWN.call(fields, k)) continue;
      const v = fields[k];
      if (op === '$unset') {
        delete doc[k];
        continue;
      }
      const each = op === '$push' ? pushedEach(v) : undefined;
      model.checkObject((each ?? v) as Doc);
      if (op === '$set') doc[k] = v;
      else if (each) ((doc[k] ??= []) as unknown[]).push(...each);
      else ((doc[k] ??= []) as unknown[]).push(v);
    }
  }
  return doc;
}

/** MongoDB-style projection of a stored document (as nedb's cursor applies it). */
function project(doc: Doc, projection: Record<string, 0 | 1> | undefined): Doc {
  if (!projection || Object.keys(projection).length === 0) return doc;
  const { _id: keepId, ...rest } = projection;
  const keys = Object.keys(rest);
  let out: Doc;
  if (keys.length === 0 || rest[keys[0]] === 0) {
    out = { ...doc };
    for (const k of keys) out = model.modify(out, { $unset: { [k]: true } });
  } else {
    const $set: Doc = {};
    for (const k of keys) {
      const v = model.getDotValue(doc, k);
      if (v !== undefined) $set[k] = v;
    }
    out = model.modify({}, { $set });
  }
  if (keepId === 0) delete out._id;
  else out._id = doc._id;
  return out;
}

/** One collection as a table of (id, JSON document), with an index per declared index. */
export class SqliteCollection<T extends StoredRecord> implements Collection<T> {
  readonly name: string;
  private readonly codec: Codec;
  private readonly indexed: Set<string>;
  private readonly table: string;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly compactor: Compactor;
  /**
   * The blob each document read from a compressed row came with: an update that writes none of
   * the compressed fields stores it again as it is (no deflate).
   */
  private readonly blobs = new WeakMap<Doc, Buffer>();
  /** The documents read from rows whose text holds no escaped key: decoded without looking for one. */
  private readonly unescaped = new WeakSet<Doc>();

  constructor(
    readonly spec: CollectionSpec,
    private readonly database: SqliteDatabase,
  ) {
    this.name = spec.name;
    this.codec = new Codec(spec);
    this.indexed = indexedFields(spec);
    this.table = `"${spec.name.replace(/"/g, '""')}"`;
    this.compactor = new Compactor(spec, database.dictionaries);
  }

  private fromRow(row: Row): Doc {
    if (!row.z) {
      const doc = { _id: row.id, ...(JSON.parse(row.doc) as Doc) };
      if (!textMayHoldEscapedKeys(row.doc)) this.unescaped.add(doc);
      return doc;
    }
    const doc = this.compactor.merge(JSON.parse(row.doc) as Doc, row.z, row.id);
    this.blobs.set(doc, row.z);
    if (!textMayHoldEscapedKeys(row.doc) && !textMayHoldEscapedKeys(this.compactor.text(row.z, row.id)))
      this.unescaped.add(doc);
    return doc;
  }

  /** A sort or group by a field SQL cannot see (inside a compressed field) is refused, not misordered. */
  private sqlField(path: string): void {
    if (!this.compactor.covers(path))
      throw new SquallError(
        'STORE_FIELD_COMPRESSED',
        `field "${path}" of ${this.name} is stored compressed and cannot be sorted on (index it, or leave it out of "compressed")`,
        { collection: this.name, field: path },
      );
  }

  private statement(sql: string): BetterSqlite3.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.database.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private conflict(err: unknown, id?: unknown): never {
    if (isUniqueViolation(err)) {
      throw new ConflictError(`a ${this.name} record with the same key already exists`, {
        collection: this.name,
        id,
      });
    }
    throw err;
  }

  /** The rows (`columns`) an exact WHERE selects, in order, after skip and limit. */
  private page(
    columns: string,
    where: string,
    params: unknown[],
    order: string,
    options: FindOptions,
  ): unknown[] {
    const limit = options.limit !== undefined && options.limit >= 0 ? options.limit : undefined;
    const skip = options.skip ?? 0;
    const sql = `SELECT ${columns} FROM ${this.table} WHERE ${where} ORDER BY ${order}${
      limit !== undefined ? ' LIMIT ? OFFSET ?' : skip ? ' LIMIT -1 OFFSET ?' : ''
    }`;
    const bound = limit !== undefined ? [...params, limit, skip] : skip ? [...params, skip] : params;
    return this.statement(sql).all(...bound);
  }

  /** The stored documents matching an encoded filter, in order, after skip and limit. */
  private select(filter: Doc, options: FindOptions = {}): Doc[] {
    const guarded = guardRanges(filter);
    const { where, params, exact } = plan(guarded, this.indexed);
    const sort = this.codec.sort(options.sort);
    for (const k of Object.keys(sort ?? {})) this.sqlField(k);
    const order = orderBy(sort);
    const limit = options.limit !== undefined && options.limit >= 0 ? options.limit : undefined;
    const skip = options.skip ?? 0;
    if (exact)
      return (this.page('id, doc, z', where, params, order, options) as Row[]).map((r) => this.fromRow(r));
    const out: Doc[] = [];
    if (limit === 0) return out;
    let skipped = 0;
    const sql = `SELECT id, doc, z FROM ${this.table} WHERE ${where} ORDER BY ${order}`;
    for (const row of this.statement(sql).iterate(...params) as IterableIterator<Row>) {
      const doc = this.fromRow(row);
      if (!model.match(doc, guarded)) continue;
      if (skipped < skip) {
        skipped++;
        continue;
      }
      out.push(doc);
      if (limit !== undefined && out.length >= limit) break;
    }
    return out;
  }

  /**
   * The one document a filter naming a string `_id` can match: read by the primary key alone, then
   * matched here, as select() matches any filter SQL cannot express. The filter's other fields (an
   * update's expected status) are not pushed into SQL, where each would parse the document's JSON
   * text once more in json_extract. Undefined when the filter names no string `_id`.
   */
  private byId(filter: Doc): Doc | null | undefined {
    const id = filter._id;
    if (typeof id !== 'string') return undefined;
    const row = this.statement(`SELECT id, doc, z FROM ${this.table} WHERE id = ?`).get(id) as
      Row | undefined;
    if (!row) return null;
    const doc = this.fromRow(row);
    for (const k in filter) {
      if (k !== '_id') return model.match(doc, guardRanges(filter)) ? doc : null;
    }
    return doc;
  }

  /** The first document a filter matches, in insertion order. */
  private first(filter: Doc): Doc | null {
    const doc = this.byId(filter);
    return doc !== undefined ? doc : (this.select(filter, { limit: 1 })[0] ?? null);
  }

  private decode(doc: Doc): T {
    return this.codec.decode<T>(doc, !this.unescaped.has(doc)) as T;
  }

  /**
   * Inserts a document. The codec has escaped every key of an encoded record (no dot, no leading
   * `$`), so only a document built from a filter (an upsert) is checked against nedb's key rules.
   */
  private insertRow(doc: Doc, fromFilter = false): void {
    if (fromFilter) model.checkObject(doc);
    try {
      this.statement(`INSERT INTO ${this.table} (id, doc, z) VALUES (?, ?, ?)`).run(
        ...toRow(doc, this.compactor),
      );
    } catch (err) {
      this.conflict(err, doc._id);
    }
  }

  /** `reuse`: the row's blob, when the update wrote no compressed field. */
  private updateRow(doc: Doc, reuse?: Buffer | null): void {
    try {
      const [id, text, z] = toRow(doc, this.compactor, reuse);
      this.statement(`UPDATE ${this.table} SET doc = ?, z = ? WHERE id = ?`).run(text, z, id);
    } catch (err) {
      this.conflict(err, doc._id);
    }
  }

  insert(doc: T): Promise<T> {
    const encoded = this.codec.encode(doc as unknown as Doc, true);
    return this.database.writeOne(() => {
      this.insertRow(encoded);
      return doc;
    });
  }

  insertMany(docs: T[]): Promise<void> {
    if (docs.length === 0) return Promise.resolve();
    const encoded = docs.map((d) => this.codec.encode(d as unknown as Doc, true));
    return this.database.write(() => {
      for (const doc of encoded) this.insertRow(doc);
    });
  }

  get(id: string): Promise<T | null> {
    return this.database.read(() => {
      const row = this.statement(`SELECT id, doc, z FROM ${this.table} WHERE id = ?`).get(id) as
        Row | undefined;
      return row ? this.decode(this.fromRow(row)) : null;
    });
  }

  async findOne(filter: Filter, options: FindOptions = {}): Promise<T | null> {
    const rows = await this.find(filter, { ...options, limit: 1 });
    return rows[0] ?? null;
  }

  find(filter: Filter = {}, options: FindOptions = {}): Promise<T[]> {
    return this.database.read(() => {
      const projection = this.codec.projection(options.projection);
      const query = this.codec.filter(filter);
      const fields = this.columnsOnly(projection);
      const picked = fields && this.selectFields(query, options, fields);
      if (picked) return picked.map((d) => this.decode(d));
      return this.select(query, options).map((d) => this.decode(project(d, projection)));
    });
  }

  /**
   * The fields of a projection SQL can hand over alone: top-level names kept (no dots, none
   * compressed), `_id` not dropped. Else undefined: the whole record is read and projected here.
   */
  private columnsOnly(projection: Record<string, 0 | 1> | undefined): string[] | undefined {
    if (!projection) return undefined;
    const { _id: keepId, ...rest } = projection;
    const keys = Object.keys(rest);
    if (keepId === 0 || keys.length === 0) return undefined;
    for (const k of keys)
      if (rest[k] !== 1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || !this.compactor.covers(k)) return undefined;
    return keys;
  }

  /**
   * The projected documents of an exact (all-SQL) filter, each field read by SQL from the row's
   * JSON: no row parsed or inflated whole (a workflow's children by `parent`, read at each show of
   * it, would otherwise decode every child). Undefined when the filter is not exact.
   */
  private selectFields(filter: Doc, options: FindOptions, fields: string[]): Doc[] | undefined {
    const guarded = guardRanges(filter);
    const { where, params, exact } = plan(guarded, this.indexed);
    if (!exact) return undefined;
    const sort = this.codec.sort(options.sort);
    for (const k of Object.keys(sort ?? {})) this.sqlField(k);
    // `doc -> path` is the field as JSON text ('null' for a stored null), NULL when it is missing.
    const columns = fields.map((f, i) => `doc -> ${jsonPath(f)} AS f${i}`).join(', ');
    const rows = this.page(`id, ${columns}`, where, params, orderBy(sort), options);
    return (rows as Array<Record<string, string | null>>).map((r) => {
      const doc: Doc = {};
      fields.forEach((f, i) => {
        const v = r[`f${i}`];
        if (v !== null && v !== undefined) doc[f] = JSON.parse(v);
      });
      doc._id = r.id;
      return doc;
    });
  }

  count(filter: Filter = {}): Promise<number> {
    return this.database.read(() => {
      const guarded = guardRanges(this.codec.filter(filter));
      const { where, params, exact } = plan(guarded, this.indexed);
      if (exact) {
        return (
          this.statement(`SELECT count(*) AS n FROM ${this.table} WHERE ${where}`).get(...params) as {
            n: number;
          }
        ).n;
      }
      return this.select(guarded).length;
    });
  }

  /**
   * One GROUP BY over the rows the filter selects. A filter SQL cannot express exactly (unindexed
   * fields, regexes) is matched row by row here and folded into groups as it goes.
   */
  async group(filter: Filter, spec: GroupSpec): Promise<GroupRow[]> {
    const guarded = guardRanges(this.codec.filter(filter));
    const { where, params, exact } = plan(guarded, this.indexed);
    // A field inside a compressed one is not in SQL's view of the row: grouped here instead.
    const fields = [...Object.values(spec.by).map((b) => b.field), ...Object.values(spec.sum ?? {})];
    if (!exact || !fields.every((f) => this.compactor.covers(f))) {
      return this.database.read(() => {
        const reducer = new GroupReducer(spec);
        const sql = `SELECT id, doc, z FROM ${this.table} WHERE ${where}`;
        for (const row of this.statement(sql).iterate(...params) as IterableIterator<Row>) {
          const doc = this.fromRow(row);
          if (model.match(doc, guarded)) reducer.add(doc);
        }
        return reducer.rows();
      });
    }
    const keys = Object.entries(spec.by);
    const sums = Object.entries(spec.sum ?? {});
    // `doc -> path` is the field as JSON text (so true stays true, not 1); NULL when missing.
    const keyExprs = keys.map(([, { field, prefix }]) => {
      const value = fieldExpr(field);
      const json = field === '_id' ? 'json_quote(id)' : `doc -> ${jsonPath(field)}`;
      return prefix === undefined
        ? json
        : `CASE WHEN typeof(${value}) = 'text' THEN json_quote(substr(${value}, 1, ${Math.trunc(prefix)})) ELSE ${json} END`;
    });
    const sumExprs = sums.map(
      ([, field]) =>
        `total(CASE WHEN json_type(doc, ${jsonPath(field)}) IN ('integer', 'real') THEN ${fieldExpr(field)} END)`,
    );
    const columns = [
      ...keyExprs.map((e, i) => `${e} AS k${i}`),
      'count(*) AS n',
      ...sumExprs.map((e, i) => `${e} AS s${i}`),
    ];
    const groupBy = keys.length ? ` GROUP BY ${keys.map((_, i) => `k${i}`).join(', ')}` : '';
    const sql = `SELECT ${columns.join(', ')} FROM ${this.table} WHERE ${where}${groupBy}`;
    const rows = (await this.database.readAside(sql, params)) as Record<string, string | number | null>[];
    return rows
      .filter((r) => Number(r.n) > 0)
      .map((r) => ({
        key: Object.fromEntries(
          keys.map(([name], i) => {
            const v = r[`k${i}`] === null ? null : (JSON.parse(String(r[`k${i}`])) as unknown);
            return [name, typeof v === 'object' ? null : (v as string | number | boolean)];
          }),
        ),
        count: Number(r.n),
        sums: Object.fromEntries(sums.map(([name], i) => [name, Number(r[`s${i}`])])),
      }));
  }

  async updateOne(filter: Filter, update: Update, options: { upsert?: boolean } = {}): Promise<T | null> {
    const query = this.codec.filter(filter);
    const encoded = this.codec.update(update) as Doc;
    // One change, the op's last step (what it returns is decoded first): no savepoint needed.
    return this.database.writeOne(() => {
      const current = this.first(query);
      if (current) {
        const reuse = this.compactor.touches(encoded) ? undefined : this.blobs.get(current);
        const plain = this.unescaped.has(current) && !updateMayEscapeKeys(encoded);
        const next = modifyOwned(current, encoded);
        const record = this.codec.decode<T>(next, !(plain && next === current)) as T;
        this.updateRow(next, reuse);
        return record;
      }
      if (!options.upsert) return null;
      const base = model.deepCopy(query, true);
      const next = model.modify(base, encoded);
      next._id ??= newId();
      const record = this.decode(next);
      this.insertRow(next, true);
      return record;
    });
  }

  async updateMany(filter: Filter, update: Update): Promise<number> {
    const query = this.codec.filter(filter);
    const encoded = this.codec.update(update) as Doc;
    return this.database.write(() => {
      const matched = this.select(query);
      const reuse = !this.compactor.touches(encoded);
      for (const doc of matched) {
        const blob = reuse ? this.blobs.get(doc) : undefined;
        this.updateRow(modifyOwned(doc, encoded), blob);
      }
      return matched.length;
    });
  }

  replace(doc: T): Promise<T> {
    const encoded = this.codec.encode(doc as unknown as Doc, true);
    return this.database.writeOne(() => {
      try {
        this.statement(
          `INSERT INTO ${this.table} (id, doc, z) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, z = excluded.z`,
        ).run(...toRow(encoded, this.compactor));
      } catch (err) {
        this.conflict(err, doc.id);
      }
      return doc;
    });
  }

  deleteOne(filter: Filter): Promise<boolean> {
    const query = this.codec.filter(filter);
    return this.database.writeOne(() => {
      // By its id alone (a live execution's or pending instance's row, dropped once done): one
      // DELETE; reading the row first would parse and inflate a record only to throw it away.
      if (typeof query._id === 'string' && onlyKey(query, '_id'))
        return this.statement(`DELETE FROM ${this.table} WHERE id = ?`).run(query._id).changes > 0;
      const doc = this.first(query);
      if (!doc) return false;
      this.statement(`DELETE FROM ${this.table} WHERE id = ?`).run(String(doc._id));
      return true;
    });
  }

  deleteMany(filter: Filter): Promise<number> {
    const query = this.codec.filter(filter);
    return this.database.write(() => {
      const ids = this.select(query).map((d) => String(d._id));
      const del = this.statement(`DELETE FROM ${this.table} WHERE id = ?`);
      for (const id of ids) del.run(id);
      return ids.length;
    });
  }
}
