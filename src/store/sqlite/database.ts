import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { SquallError } from '../../errors.js';
import { COLLECTIONS, type CollectionKey } from '../collections.js';
import type { Collection, CollectionSpec, StoredRecord } from '../types.js';
import { SqliteCollection } from './collection.js';
import { fieldExpr } from './query.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as typeof BetterSqlite3;

export type Sqlite = BetterSqlite3.Database;

/** The file the embedded store keeps its records in, under the data directory. */
export const STORE_FILE = 'squall.db';

export interface SqliteOptions {
  /** Page cache per connection, in MiB: the store's memory, whatever the history holds. */
  cacheMb?: number;
  /** Run PRAGMA quick_check when opening (reads every page; see README for its cost). */
  check?: boolean;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQLite error that says the file is damaged, or not a database at all. */
export function isCorruption(err: unknown): boolean {
  const code = String((err as { code?: string })?.code ?? '');
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

export function corruptStore(file: string, detail: string): SquallError {
  return new SquallError(
    'STORE_CORRUPT',
    `the store file ${file} is damaged (${detail}). Squall did not modify it. Restore it from a backup, ` +
      `or move it aside and start again (sqlite3 "${file}" ".recover" can salvage what is readable).`,
    { file },
  );
}

/**
 * The embedded store: one SQLite file in WAL mode.
 *
 * Durability: synchronous=FULL makes SQLite fsync the WAL at every commit, so a committed
 * transaction survives a power cut (https://www.sqlite.org/pragma.html#pragma_synchronous,
 * https://www.sqlite.org/wal.html). Writes are group-committed: the first write of an event-loop
 * turn opens a transaction, every write of that turn runs inside it (each in its own savepoint,
 * so one failed write undoes only itself), and the turn's end commits them with one fsync. A
 * write's promise resolves only after that commit, so an acknowledged write is on disk, and
 * concurrent requests share the cost of the fsync.
 *
 * Atomicity: better-sqlite3 runs statements synchronously on the one connection, so the read and
 * the write of a conditional update happen with no other operation in between.
 */
export class SqliteDatabase {
  readonly db: Sqlite;
  private waiters: Waiter[] = [];
  private open = false;
  private readonly tables = new Set<string>();
  private closed = false;
  /** Set inside transaction(): writes resolve at once, and the commit waits for the scope. */
  private readonly scope = new AsyncLocalStorage<true>();
  private held = 0;
  /** Transactions committed since the store opened (for benchmarks). */
  commits = 0;

  constructor(
    readonly file: string,
    options: SqliteOptions = {},
  ) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // SQLite creates the -wal and -shm files with the main file's permissions.
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    else if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma(`cache_size = ${-1024 * (options.cacheMb ?? 16)}`);
      this.db.pragma('temp_store = FILE');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = OFF');
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS squall_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)',
      );
      if (options.check !== false) {
        const result = this.db.pragma('quick_check', { simple: true });
        if (result !== 'ok') throw corruptStore(file, String(result));
      }
    } catch (err) {
      if (isCorruption(err)) throw corruptStore(file, (err as Error).message);
      throw err;
    }
  }

  /** Creates the table and indexes of a collection (once). */
  ensureTable(spec: CollectionSpec): void {
    if (this.tables.has(spec.name)) return;
    const table = quoteName(spec.name);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)`);
    for (const index of spec.indexes) {
      if (index.multikey) continue;
      const fields = Object.keys(index.fields);
      const name = quoteName(`${spec.name}__${fields.join('__')}`);
      const exprs = fields.map((f) => `${fieldExpr(f)}${index.fields[f] < 0 ? ' DESC' : ''}`);
      const where = index.sparse
        ? ` WHERE ${fields.map((f) => `${fieldExpr(f)} IS NOT NULL`).join(' AND ')}`
        : '';
      this.db.exec(
        `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${name} ON ${table} (${exprs.join(', ')})${where}`,
      );
    }
    this.tables.add(spec.name);
  }

  collection<T extends StoredRecord>(spec: CollectionSpec): Collection<T> {
    this.ensureTable(spec);
    return new SqliteCollection<T>(spec, this);
  }

  openAll(): Record<CollectionKey, Collection<StoredRecord>> {
    const out = {} as Record<CollectionKey, Collection<StoredRecord>>;
    for (const [key, spec] of Object.entries(COLLECTIONS)) {
      out[key as CollectionKey] = this.collection(spec as CollectionSpec);
    }
    return out;
  }

  /** Runs a read now (it sees this process's writes, committed or about to be). */
  read<T>(op: () => T): Promise<T> {
    try {
      return Promise.resolve(this.guard(op));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Runs a write now, inside this turn's transaction, and resolves once that transaction is
   * committed to disk. A write that throws is undone alone, and rejects at once.
   */
  write<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`the store ${this.file} is closed`));
    let result: T;
    try {
      this.begin();
      result = this.guard(() => this.db.transaction(op)());
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.scope.getStore()) return Promise.resolve(result);
    return new Promise<T>((resolve, reject) => this.waiters.push({ resolve: () => resolve(result), reject }));
  }

  /**
   * Commits every write `fn` makes in one transaction with the writes around it: none of them is
   * on disk before all are, and the result resolves once they are. Inside, a write resolves as
   * soon as it ran, so `fn` runs on without giving other work a turn: keep it to store calls.
   * Not a rollback scope: a write that ran stays when a later one fails.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.scope.getStore()) return fn();
    this.held++;
    let result: T;
    try {
      result = await this.scope.run(true, fn);
    } finally {
      this.held--;
      if (this.held === 0 && this.open) setImmediate(() => this.commit());
    }
    await this.sync();
    return result;
  }

  /** Resolves once every write issued so far is committed to disk. */
  sync(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private guard<T>(op: () => T): T {
    try {
      return op();
    } catch (err) {
      if (isCorruption(err)) throw corruptStore(this.file, (err as Error).message);
      throw err;
    }
  }

  private begin(): void {
    if (this.open) return;
    this.db.exec('BEGIN IMMEDIATE');
    this.open = true;
    setImmediate(() => this.commit());
  }

  private commit(): void {
    if (!this.open || (this.held > 0 && !this.closed)) return;
    const waiters = this.waiters;
    this.waiters = [];
    this.open = false;
    try {
      this.db.exec('COMMIT');
      this.commits++;
    } catch (err) {
      // The transaction is not on disk: every write of it fails, none is acknowledged.
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      const failure = isCorruption(err) ? corruptStore(this.file, (err as Error).message) : err;
      for (const w of waiters) w.reject(failure);
      return;
    }
    for (const w of waiters) w.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.commit();
    this.db.close();
  }
}
