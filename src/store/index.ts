import path from 'node:path';
import { ConflictError } from '../errors.js';
import { COLLECTIONS, type CollectionKey } from './collections.js';
import { EmbeddedDatabase } from './embedded/index.js';
import { MongoDatabase } from './mongo/index.js';
import type * as R from './records.js';
import type { Collection, StoredRecord } from './types.js';

export * from './types.js';
export type * from './records.js';
export { COLLECTIONS } from './collections.js';
export type { CollectionKey } from './collections.js';
export { EmbeddedDatabase } from './embedded/index.js';
export { MongoDatabase, planScansTable } from './mongo/index.js';

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
  readonly workers: Collection<R.JobTestRecord>;
  readonly testRecords: Collection<R.JobTestRecord>;
  readonly claims: Collection<R.ClaimRecord>;
  /**
   * Takes a one-time claim on `key` for `owner`. Exactly one caller, across every process, gets
   * true for a given key: it is a unique insert, which both stores (and FerretDB) make atomic.
   */
  claim(key: string, owner: string): Promise<boolean>;
  /** Gives back a claim; only its owner's release has an effect. */
  release(key: string, owner: string): Promise<boolean>;
  /** The underlying database, for Agenda's job repository. */
  readonly embedded?: EmbeddedDatabase;
  readonly mongo?: MongoDatabase;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** mongodb://… selects MongoDB; otherwise the embedded store under dataDir. */
  mongoUrl?: string;
  dataDir: string;
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.mongoUrl) {
    const mongo = await MongoDatabase.connect(options.mongoUrl);
    const collections = await mongo.openAll();
    return withClaims({
      kind: 'mongo',
      ...(collections as unknown as StoreCollections),
      mongo,
      close: () => mongo.close(),
    });
  }
  const embedded = new EmbeddedDatabase(path.join(options.dataDir, 'db'));
  const collections = await embedded.openAll();
  return withClaims({
    kind: 'embedded',
    ...(collections as unknown as StoreCollections),
    embedded,
    close: () => embedded.close(),
  });
}

type StoreCollections = Omit<Store, 'kind' | 'close' | 'claim' | 'release' | 'embedded' | 'mongo'>;

function withClaims(store: Omit<Store, 'claim' | 'release'>): Store {
  return {
    ...store,
    async release(key: string, owner: string): Promise<boolean> {
      return store.claims.deleteOne({ id: key, owner });
    },
    async claim(key: string, owner: string): Promise<boolean> {
      try {
        await store.claims.insert({ id: key, owner, claimed_at: new Date().toISOString() });
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
