import { chmodSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConflictError } from '../errors.js';
import { COLLECTIONS, type CollectionKey } from './collections.js';
import type { MongoDatabase } from './mongo/index.js';
import type * as R from './records.js';
import type { Collection, StoredRecord } from './types.js';
import { CONTENT_COLLECTIONS, ContentCache } from './content-cache.js';

export * from './types.js';
export { GroupReducer, reduceGroups } from './group.js';
export type * from './records.js';
export { COLLECTIONS } from './collections.js';
export { CONTENT_COLLECTIONS, ContentCache, copyAnswer } from './content-cache.js';
export { isTransient, retryingTransient } from './transient.js';
export { beforeLeavingProcess } from './egress.js';
export type { AnnounceContentChange, ContentCollectionKey, ContentFreshness } from './content-cache.js';
export type { CollectionKey } from './collections.js';
export { EmbeddedDatabase } from './embedded/index.js';
export { SqliteDatabase, STORE_FILE } from './sqlite/index.js';
export { JOBS_TABLE, PUT_JOB_SQL, createJobsTable, jobModel, jobRow } from './sqlite/index.js';
import { SqliteDatabase, STORE_FILE, importNedbIfPresent, type MigrationProgress } from './sqlite/index.js';
export { importNedb, readNedbFile, NEDB_DIR, NEDB_KEPT_DIR } from './sqlite/index.js';
export type { MigrationProgress, MigrationResult, DamagedLine } from './sqlite/index.js';
// Loaded by openStore for a mongodb:// url only: mongoose and its driver are ~20 MB of memory.
export type { MongoDatabase } from './mongo/index.js';

export type StoreKind = 'embedded' | 'mongo';

/** Every repository Squall uses, on one of the two stores. */
export interface Store {
  readonly kind: StoreKind;
  readonly packs: Collection<R.PackRecord>;
  readonly actions: Collection<R.ActionRecord>;
  readonly runnerTypes: Collection<R.RunnerTypeRecord>;
  readonly triggerTypes: Collection<R.TriggerTypeRecord>;
  readonly triggers: Collection<R.TriggerRecord>;
  readonly triggerInstances: Collection<R.TriggerInstanceRecord>;
  readonly rules: Collection<R.RuleRecord>;
  readonly ruleEnforcements: Collection<R.RuleEnforcementRecord>;
  readonly executions: Collection<R.ExecutionRecord>;
  readonly executionOutput: Collection<R.ExecutionOutputRecord>;
  readonly workflows: Collection<R.WorkflowStateRecord>;
  readonly inquiries: Collection<R.InquiryRecord>;
  readonly aliases: Collection<R.AliasRecord>;
  readonly policies: Collection<R.PolicyRecord>;
  readonly sensors: Collection<R.SensorRecord>;
  readonly kvPairs: Collection<R.KeyValuePairRecord>;
  readonly users: Collection<R.UserRecord>;
  readonly apiKeys: Collection<R.ApiKeyRecord>;
  readonly tokens: Collection<R.TokenRecord>;
  readonly traces: Collection<R.TraceRecord>;
  readonly audit: Collection<R.AuditRecord>;
  readonly liveExecutions: Collection<R.LiveExecutionRecord>;
  readonly traceComponents: Collection<R.TraceComponentRecord>;
  readonly pendingInstances: Collection<R.PendingInstanceRecord>;
  readonly chatLinks: Collection<R.ChatLinkRecord>;
  readonly chatLinkRequests: Collection<R.ChatLinkRequestRecord>;
  readonly chatChoices: Collection<R.ChatChoiceRecord>;
  readonly workers: Collection<R.JobTestRecord>;
  readonly contentVersions: Collection<R.JobTestRecord>;
  readonly testRecords: Collection<R.JobTestRecord>;
  readonly claims: Collection<R.ClaimRecord>;
  /**
   * Takes a one-time claim on `key` for `owner`. Exactly one caller, across every process, gets
   * true for a given key: it is a unique insert, which both stores (and FerretDB) make atomic.
   * `at`: its claimed_at (default now), for a caller that derives ids from it.
   */
  claim(key: string, owner: string, at?: string): Promise<boolean>;
  /** Gives back a claim; only its owner's release has an effect. */
  release(key: string, owner: string): Promise<boolean>;
  /**
   * Resolves once every write issued so far is on disk; rejects if the disk failed. The embedded
   * store resolves each write at commit (visible, kept by a crash of the process) and fsyncs here:
   * await it before anything leaves the process (an API answer, an action with a side effect, a
   * chat post, an event to a client or another process). Immediate on MongoDB.
   */
  sync(): Promise<void>;
  /**
   * Acknowledges the writes `fn` makes together: the records of one step, such as an execution's
   * status and its register entry, or a trigger instance, its trace entry and its job. On the
   * embedded store they are issued in order without waiting for the commit (one commit), the
   * result resolves once all are committed, and the events `fn` publishes go out only then.
   * Runs `fn` as is on MongoDB.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Answers to content reads (actions, rules, trigger types…) kept in this process; off until the
   * service enables it with a way to hear of every other process's writes.
   */
  readonly contentCache: ContentCache;
  /** The underlying database, for Agenda's job repository. */
  readonly embedded?: SqliteDatabase;
  readonly mongo?: MongoDatabase;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** mongodb://… selects MongoDB; otherwise the embedded store under dataDir. */
  mongoUrl?: string;
  dataDir: string;
  /** The embedded store's page cache in MiB (its memory, whatever the history holds). */
  cacheMb?: number;
  /** Check the embedded store's file for damage when opening it (default true). */
  check?: boolean;
  /** How long the check of a large embedded store waits, so that it does not slow start-up. */
  checkDelayMs?: number;
  /** Told how an import of an old (nedb) data directory advances. */
  onMigrationProgress?: (progress: MigrationProgress) => void;
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.mongoUrl) {
    const { MongoDatabase } = await import('./mongo/index.js');
    const mongo = await MongoDatabase.connect(options.mongoUrl);
    const collections = await mongo.openAll();
    return withClaims({
      kind: 'mongo',
      ...(collections as unknown as StoreCollections),
      mongo,
      sync: () => Promise.resolve(),
      transaction: (fn) => fn(),
      close: () => mongo.close(),
    });
  }
  secureDataDir(options.dataDir);
  const embedded = new SqliteDatabase(path.join(options.dataDir, STORE_FILE), {
    cacheMb: options.cacheMb,
    check: options.check,
    checkDelayMs: options.checkDelayMs,
  });
  try {
    const collections = embedded.openAll();
    await importNedbIfPresent(options.dataDir, embedded, options.onMigrationProgress);
    return withClaims({
      kind: 'embedded',
      ...(collections as unknown as StoreCollections),
      embedded,
      sync: () => embedded.sync(),
      transaction: (fn) => embedded.transaction(fn),
      close: async () => embedded.close(),
    });
  } catch (err) {
    embedded.close();
    throw err;
  }
}

/**
 * The data directory holds the records, keys and results: readable by Squall's user only. Made
 * 0700 when created, and tightened when an older Squall left it open to others.
 */
export function secureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

type StoreCollections = Omit<
  Store,
  'kind' | 'close' | 'claim' | 'release' | 'embedded' | 'mongo' | 'sync' | 'transaction' | 'contentCache'
>;

function withClaims(store: Omit<Store, 'claim' | 'release' | 'contentCache'>): Store {
  const contentCache = new ContentCache();
  const cached: Partial<Record<string, Collection<StoredRecord>>> = {};
  for (const key of CONTENT_COLLECTIONS)
    cached[key] = contentCache.wrap(key, store[key] as unknown as Collection<StoredRecord>);
  return {
    ...store,
    ...(cached as unknown as Pick<Store, (typeof CONTENT_COLLECTIONS)[number]>),
    contentCache,
    async release(key: string, owner: string): Promise<boolean> {
      return store.claims.deleteOne({ id: key, owner });
    },
    async claim(key: string, owner: string, at: string = new Date().toISOString()): Promise<boolean> {
      try {
        await store.claims.insert({ id: key, owner, claimed_at: at });
        return true;
      } catch (err) {
        if (err instanceof ConflictError) return false;
        throw err;
      }
    },
  };
}

/** Keeps TypeScript honest that Store lists every collection. */
export type MissingCollections = Exclude<CollectionKey, keyof Store>;
const _allListed: MissingCollections extends never ? true : false = true;
void _allListed;
void COLLECTIONS;
export type { StoredRecord };
export { breakStaleClaim, claimIsStale, claimOrTakeOver, claimWorker } from './claims.js';
export { outsideStoreGroup, whenDurable } from './scope.js';
export { doOnce, resumeClaimedWork } from './claims.js';
export { storedIds } from './legacy-ids.js';
export type { KeyedId, StoredId } from './legacy-ids.js';
export type { ClaimedWork } from './claims.js';
