import { chmodSync, closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { SquallError } from '../../errors.js';
import { COLLECTIONS, type CollectionKey } from '../collections.js';
import { activeGroup, storeGroup, type StoreGroup } from '../scope.js';
import type { Collection, CollectionSpec, StoredRecord } from '../types.js';
import { SqliteCollection } from './collection.js';
import { Dictionaries } from './compact.js';
import { fieldExpr, indexExpr } from './query.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as typeof BetterSqlite3;

export type Sqlite = BetterSqlite3.Database;

/**
 * Commits nobody waits to see on disk (no answer, no effect) are fsync'd this long after the
 * first of them at the latest: the window a power cut can take, like a crash that much earlier.
 */
const LAZY_SYNC_MS = 50;

/** Up to this size the file is checked before the store opens (~0.1 s here); beyond, in the background. */
const CHECK_INLINE_BYTES = 64 * 1024 * 1024;

/** The file the embedded store keeps its records in, under the data directory. */
export const STORE_FILE = 'squall.db';

export interface SqliteOptions {
  /** Page cache per connection, in MiB: the store's memory, whatever the history holds. */
  cacheMb?: number;
  /** Run PRAGMA quick_check when opening (reads every page; see README for its cost). */
  check?: boolean;
  /** Files up to this size are checked before opening; larger ones on a worker thread. */
  checkInlineBytes?: number;
  /**
   * How long the worker thread's check of a large file waits before it starts: it reads every
   * page (~1 s of CPU per 100,000 executions stored), which would compete with start-up for the
   * CPU (default 0).
   */
  checkDelayMs?: number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** A sync() caller: waits for an fsync that covers commit number `seq`. */
interface SyncWaiter extends Waiter {
  seq: number;
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
 * Durability: a committed transaction is on disk once its WAL frames are fsync'd: SQLite replays
 * the WAL up to the last commit frame whose checksums hold (https://www.sqlite.org/wal.html,
 * https://www.sqlite.org/fileformat2.html#walformat). synchronous=FULL would fsync inside COMMIT,
 * blocking the event loop for the whole fsync (~4 ms here); instead SQLite runs with
 * synchronous=NORMAL (still safe from corruption; it syncs around checkpoints) and this class
 * fsyncs the WAL itself on libuv's thread pool.
 *
 * A commit is visible at COMMIT, durable before any effect. A write resolves once its transaction
 * is committed (in the WAL, so it survives kill -9: the kernel has the pages), not once it is
 * fsync'd. The WAL is one ordered log and a power cut keeps a prefix of its commits (SQLite stops
 * replaying at the first commit whose frames or checksums are incomplete), so losing the unsynced
 * tail is the same as a crash a moment earlier, which recovery already handles, as long as nothing
 * outside the process saw what was lost. So whatever leaves the process waits for sync() first,
 * which fsyncs every commit made so far: an API answer, an action with a side effect about to
 * start (a spawn, an SSH or HTTP call), a chat post, an event to another process or an SSE
 * client. One fsync then covers every internal step of a chain (trigger instance, enforcement,
 * execution, its statuses) instead of one fsync per step in its critical path. Commits nobody
 * syncs are fsync'd within LAZY_SYNC_MS anyway, so that the tail a power cut can take stays short.
 *
 * Writes are group-committed: the first write of an event-loop turn opens a transaction, every
 * write of that turn runs inside it (each in its own savepoint, so one failed write undoes only
 * itself), and the turn's end commits them. Commits made while an fsync runs share the next one.
 * If an fsync fails, sync() rejects from then on and the store refuses writes (the kernel may
 * have dropped the unwritten pages): nothing that may be lost is shown or acted on.
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
  /**
   * total_changes() at the last commit: a commit that changed nothing needs no fsync. Read once per
   * commit, not also at BEGIN: every change is made inside a turn's transaction, and one made
   * outside (a table created at start) only costs an fsync more.
   */
  private changesSeen = 0;
  private totalChanges!: BetterSqlite3.Statement;
  /** Deflate dictionaries learned from records (compact.ts). */
  readonly dictionaries!: Dictionaries;
  /**
   * PRAGMA quick_check over the whole file: done before opening when the file is small, otherwise
   * on a worker thread, so start-up does not grow with the history. Rejects with STORE_CORRUPT.
   */
  checked: Promise<void> = Promise.resolve();
  /** Transactions committed since the store opened (for benchmarks). */
  commits = 0;
  /** fsyncs of the WAL since the store opened (for benchmarks). */
  fsyncs = 0;
  /** The number of the last commit an fsync covered (commits are numbered by `commits`). */
  private synced = 0;
  /** The last commit the fsync running now for sync() callers covers; undefined when none runs. */
  private syncing?: number;
  /**
   * The last commit the lazy fsync running now covers (one started with nobody waiting); undefined
   * when none runs. A sync() caller whose commit it does not cover starts its own beside it.
   */
  private lazySyncing?: number;
  /** sync() callers waiting for an fsync, in the order of their commits. */
  private syncWaiters: SyncWaiter[] = [];
  /** The fsync of commits nobody waits for (LAZY_SYNC_MS); set while a commit is not fsync'd. */
  private lazyTimer?: NodeJS.Timeout;
  /** The lazy fsync came due while another ran: it follows that one. */
  private lazyDue = false;
  /**
   * The WAL's descriptors: [0] for the lazy fsync, [1] for sync() callers'. Two, because Linux
   * reports a failed write-back once per open file (errseq): of two fsyncs running on one
   * descriptor, the second to look could return success for pages the first saw fail.
   */
  private walFds?: [number, number];
  private failed?: Error;
  /** The worker thread of readAside(), started on first use. */
  private aside?: Worker;
  private readonly asideWaiting = new Map<
    number,
    { resolve(rows: unknown[]): void; reject(err: unknown): void }
  >();
  private asideNext = 0;
  /** How the WAL is fsync'd: replaced in tests to inject a failing disk. */
  fsync: (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void = fsync;

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
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma(`cache_size = ${-1024 * (options.cacheMb ?? 4)}`);
      this.db.pragma('temp_store = FILE');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = OFF');
      this.savepoint = this.db.transaction((op: () => unknown) => op());
      this.totalChanges = this.db.prepare('SELECT total_changes()').pluck();
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS squall_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)',
      );
      this.dictionaries = new Dictionaries(this.db, () => this.commits);
      // Reading the schema fails at once on a file that is not a database or has a damaged header.
      this.db.prepare('SELECT count(*) FROM sqlite_schema').get();
      if (options.check !== false)
        this.checked = this.check(options.checkInlineBytes ?? CHECK_INLINE_BYTES, options.checkDelayMs ?? 0);
    } catch (err) {
      if (isCorruption(err)) throw corruptStore(file, (err as Error).message);
      throw err;
    }
  }

  private check(inlineBytes: number, delayMs: number): Promise<void> {
    if (statSync(this.file).size <= inlineBytes) {
      const result = this.db.pragma('quick_check', { simple: true });
      if (result !== 'ok') throw corruptStore(this.file, String(result));
      return Promise.resolve();
    }
    if (delayMs <= 0) return this.checkAside();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.cancelCheck = undefined;
        this.checkAside().then(resolve, reject);
      }, delayMs);
      timer.unref();
      // Closed before the check started: there is nothing left to check.
      this.cancelCheck = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Drops a delayed check that has not started yet (at close). */
  private cancelCheck?: () => void;

  private checkAside(): Promise<void> {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const Database = require(workerData.module);
       const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
       try { parentPort.postMessage(db.pragma('quick_check', { simple: true })); }
       catch (err) { parentPort.postMessage(String(err && err.message || err)); }
       finally { db.close(); }`,
      { eval: true, workerData: { module: require.resolve('better-sqlite3'), file: this.file } },
    );
    worker.unref();
    return new Promise<void>((resolve, reject) => {
      worker.once('message', (result: unknown) =>
        result === 'ok' ? resolve() : reject(corruptStore(this.file, String(result))),
      );
      worker.once('error', reject);
    });
  }

  /** Creates the table and indexes of a collection (once). */
  ensureTable(spec: CollectionSpec): void {
    if (this.tables.has(spec.name)) return;
    const table = quoteName(spec.name);
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL, z BLOB)`,
    );
    // Tables made before compressed fields (compact.ts) get the column; their rows read as before.
    const columns = this.db.prepare(`SELECT name FROM pragma_table_info(?)`).all(spec.name) as {
      name: string;
    }[];
    if (!columns.some((c) => c.name === 'z')) this.db.exec(`ALTER TABLE ${table} ADD COLUMN z BLOB`);
    for (const index of spec.indexes) {
      if (index.multikey) continue;
      const fields = Object.keys(index.fields);
      const name = quoteName(`${spec.name}__${fields.join('__')}${index.presence ? '__presence' : ''}`);
      const exprs = fields.map((f, i) => `${indexExpr(index, f, i)}${index.fields[f] < 0 ? ' DESC' : ''}`);
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
   * Runs a read-only statement on a second connection, in a worker thread: an aggregate over a
   * large history (a dashboard's 30 days) takes seconds of SQLite's time, which on the main
   * connection would stall every request and job of the process. It sees committed writes only
   * (each write resolves once committed, so a caller's awaited writes are there).
   */
  readAside(sql: string, params: readonly (string | number)[]): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new Error(`the store ${this.file} is closed`));
    const worker = (this.aside ??= this.startAside());
    const id = this.asideNext++;
    worker.ref();
    return new Promise<unknown[]>((resolve, reject) => {
      this.asideWaiting.set(id, { resolve, reject });
      worker.postMessage({ id, sql, params });
    });
  }

  private startAside(): Worker {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const Database = require(workerData.module);
       const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
       db.pragma('cache_size = ' + workerData.cache);
       db.pragma('busy_timeout = 5000');
       parentPort.on('message', ({ id, sql, params }) => {
         try { parentPort.postMessage({ id, rows: db.prepare(sql).all(...params) }); }
         catch (err) { parentPort.postMessage({ id, error: String((err && err.message) || err), code: err && err.code }); }
       });`,
      {
        eval: true,
        workerData: {
          module: require.resolve('better-sqlite3'),
          file: this.file,
          cache: this.db.pragma('cache_size', { simple: true }),
        },
      },
    );
    const settle = () => {
      if (this.asideWaiting.size === 0) worker.unref();
    };
    worker.on('message', (m: { id: number; rows?: unknown[]; error?: string; code?: string }) => {
      const waiter = this.asideWaiting.get(m.id);
      this.asideWaiting.delete(m.id);
      settle();
      if (!waiter) return;
      if (m.error === undefined) return waiter.resolve(m.rows ?? []);
      const err = Object.assign(new Error(m.error), { code: m.code });
      waiter.reject(isCorruption(err) ? corruptStore(this.file, m.error) : err);
    });
    worker.on('error', (err) => {
      for (const w of this.asideWaiting.values()) w.reject(err);
      this.asideWaiting.clear();
      if (this.aside === worker) this.aside = undefined;
    });
    worker.unref();
    return worker;
  }

  /**
   * Runs a write now, inside this turn's transaction, and resolves once that transaction is
   * committed (visible, and kept by a crash of the process; on disk once sync() says so). A write
   * that throws is undone alone, and rejects at once.
   */
  write<T>(op: () => T): Promise<T> {
    return this.run(op, !activeGroup());
  }

  /**
   * write() for an op that makes at most one change, as its last statement (one INSERT, UPDATE
   * or DELETE, after any reads): SQLite undoes a failed statement by itself, so the op needs no
   * savepoint of its own (a SAVEPOINT and a RELEASE per write, ~2% of a webhook's CPU).
   */
  writeOne<T>(op: () => T): Promise<T> {
    return this.run(op, !activeGroup(), true);
  }

  /**
   * Runs a write now, inside this turn's transaction, and resolves as soon as it ran. It is
   * committed with its transaction, before any write issued after it (the WAL is one ordered log,
   * and each fsync covers every frame before it): for bookkeeping whose loss in a crash only
   * means a step is done again, such as the scheduler's job locks and states.
   * `single`: the op makes at most one change, as its last statement (see writeOne).
   */
  writeInOrder<T>(op: () => T, options: { single?: boolean } = {}): Promise<T> {
    return this.run(op, false, options.single);
  }

  private run<T>(op: () => T, acknowledge: boolean, single = false): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`the store ${this.file} is closed`));
    if (this.failed) return Promise.reject(this.failed);
    let result: T;
    try {
      this.begin();
      result = this.guard(single ? op : () => this.savepoint(op) as T);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!acknowledge) return Promise.resolve(result);
    return new Promise<T>((resolve, reject) => this.waiters.push({ resolve: () => resolve(result), reject }));
  }

  /**
   * Groups the writes `fn` makes: each resolves as soon as it ran, so `fn` runs on without waiting
   * for the commit, and the result resolves once all of them are committed. The writes are
   * committed in the order they were issued (a crash keeps a prefix of them, as if each had been
   * awaited); made in one event-loop turn, as store calls are, they share one commit. Work `fn`
   * only sets off (scheduled jobs: see outsideStoreGroup) is not part of the group, and the
   * events it publishes are delivered once its writes are committed (whenDurable); what carries
   * them out of the process syncs first.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (activeGroup()) return fn();
    const group: StoreGroup = { active: true, deferred: [] };
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await storeGroup.run(group, fn) };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      group.active = false;
    }
    // The writes that ran before a failure stay (this is not a rollback scope): they are
    // committed, and announced, like the others.
    await this.committed();
    for (const after of group.deferred) after();
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Resolves once every write issued so far is committed (see write()); rejects if that commit failed. */
  committed(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * Resolves once every write issued so far is on disk: one fsync of the WAL covers every commit
   * made before it starts. Rejects if that commit or fsync failed, and after any fsync failed
   * (commits acknowledged since the last good one may be lost). Await it before anything leaves
   * the process.
   */
  sync(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.open) return this.committed().then(() => this.sync());
    const seq = this.commits;
    if (this.synced >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.syncWaiters.push({ seq, resolve, reject });
      this.flush();
    });
  }

  /** Runs a write in its own savepoint (better-sqlite3 nests a transaction that way). */
  private savepoint!: (op: () => unknown) => unknown;

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
    if (!this.open) return;
    const waiters = this.waiters;
    this.waiters = [];
    this.open = false;
    let changed: boolean;
    try {
      const changes = this.totalChanges.get() as number;
      changed = changes !== this.changesSeen;
      this.changesSeen = changes;
      this.db.exec('COMMIT');
    } catch (err) {
      // The transaction is not in the WAL: every write of it fails, none is acknowledged.
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      const failure = isCorruption(err) ? corruptStore(this.file, (err as Error).message) : err;
      for (const w of waiters) w.reject(failure);
      return;
    }
    // A commit that changed nothing (a lock that found no job) needs no fsync.
    if (changed) {
      this.commits++;
      // Armed by the first commit not fsync'd, disarmed once an fsync covers every commit: a timer
      // left over from a commit an answer's fsync has since covered would fire in the middle of a
      // later request and make its answer wait behind it.
      this.lazyTimer ??= setTimeout(() => {
        this.lazyTimer = undefined;
        this.flush(true);
      }, LAZY_SYNC_MS).unref();
    }
    for (const w of waiters) w.resolve();
  }

  /** The WAL's descriptors (see walFds); on first use its directory entry is made durable too. */
  private wal(): [number, number] {
    if (this.walFds === undefined) {
      const fds: number[] = [];
      try {
        fds.push(openSync(`${this.file}-wal`, 'r'), openSync(`${this.file}-wal`, 'r'));
        const dir = openSync(path.dirname(this.file), 'r');
        try {
          fsyncSync(dir);
        } finally {
          closeSync(dir);
        }
      } catch (err) {
        for (const fd of fds) closeSync(fd);
        throw err;
      }
      this.walFds = [fds[0], fds[1]];
    }
    return this.walFds;
  }

  /**
   * Starts an fsync of the WAL for the commits sync() callers wait for, unless one for them is
   * running (its end starts the next: what commits meanwhile shares it) or the lazy one running
   * covers them. A lazy fsync that began before their commit does not hold them: theirs starts at
   * once beside it (the lazy one would otherwise put a second fsync in their wait). `lazy`: an
   * fsync of every commit not yet covered, once no fsync runs.
   */
  private flush(lazy = false): void {
    if (this.closed || this.failed) return;
    if (lazy) {
      if (this.syncing !== undefined || this.lazySyncing !== undefined) this.lazyDue = true;
      else if (this.synced < this.commits) this.startFsync(true);
      return;
    }
    if (this.syncing !== undefined) return;
    // Waiters are queued in the order of their commits: the last one needs the most.
    const needed = this.syncWaiters.at(-1)?.seq ?? 0;
    if (needed <= this.synced || (this.lazySyncing ?? 0) >= needed) return;
    this.startFsync(false);
  }

  /**
   * One fsync of the WAL: it covers every commit made before it starts (each COMMIT has written
   * its frames to the file by then). Two may run at once, on two descriptors; the kernel makes
   * each durable what was written before it began, whichever ends first.
   */
  private startFsync(lazy: boolean): void {
    const seq = this.commits;
    if (lazy) this.lazySyncing = seq;
    else this.syncing = seq;
    // Whatever the lazy fsync was due for, this one covers.
    this.lazyDue = false;
    let fd: number;
    try {
      fd = this.wal()[lazy ? 0 : 1];
    } catch (err) {
      if (lazy) this.lazySyncing = undefined;
      else this.syncing = undefined;
      this.fail(err);
      return;
    }
    this.fsync(fd, (err) => {
      if ((lazy ? this.lazySyncing : this.syncing) !== seq) return; // close() settled the waiters
      if (lazy) this.lazySyncing = undefined;
      else this.syncing = undefined;
      if (this.failed) return;
      if (err) return this.fail(err);
      this.fsyncs++;
      if (seq > this.synced) this.synced = seq;
      const waiting = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiting) {
        if (w.seq <= this.synced) w.resolve();
        else this.syncWaiters.push(w);
      }
      if (this.synced >= this.commits) {
        clearTimeout(this.lazyTimer);
        this.lazyTimer = undefined;
      }
      this.flush();
      if (this.lazyDue) this.flush(true);
    });
  }

  private fail(err: unknown): void {
    this.failed ??= new SquallError(
      'STORE_FSYNC_FAILED',
      `could not make writes to ${this.file}-wal durable (${String((err as Error)?.message ?? err)}). ` +
        'Writes since the last fsync may not be on disk: the store refuses writes until Squall restarts.',
      { file: this.file },
    );
    for (const w of this.syncWaiters.splice(0)) w.reject(this.failed);
  }

  close(): void {
    if (this.closed) return;
    this.cancelCheck?.();
    this.commit();
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    const pending = this.syncWaiters.splice(0);
    const unsynced = this.synced < this.commits;
    this.syncing = undefined;
    this.lazySyncing = undefined;
    this.closed = true;
    try {
      if (unsynced && !this.failed) {
        fsyncSync(this.wal()[1]);
        this.fsyncs++;
        this.synced = this.commits;
      }
      for (const w of pending) {
        if (this.failed) w.reject(this.failed);
        else w.resolve();
      }
    } catch (err) {
      this.fail(err);
      for (const w of pending) w.reject(this.failed);
    } finally {
      for (const fd of this.walFds ?? []) closeSync(fd);
      for (const w of this.asideWaiting.values()) w.reject(new Error(`the store ${this.file} is closed`));
      this.asideWaiting.clear();
      void this.aside?.terminate();
      this.db.close();
    }
  }
}
