import { MongoBackend } from '@agendajs/mongo-backend';
import mongoose, { type Connection, type mongo } from 'mongoose';
import { COLLECTIONS, type CollectionKey } from '../collections.js';
import type { Collection, CollectionSpec, StoredRecord } from '../types.js';
import { MongoRepoCollection, type MongoCollectionOptions } from './collection.js';

/** True when a FerretDB/SQLite `explain` answer plans a full table scan (SQLite's `SCAN <table>`). */
export function planScansTable(explained: unknown): boolean {
  const lines = (explained as { queryPlanner?: { Plan?: unknown } } | undefined)?.queryPlanner?.Plan;
  return Array.isArray(lines) && lines.some((l) => /\bdetail=SCAN\b/.test(String(l)));
}

/**
 * MongoDB through mongoose: one model per collection declares the indexes its queries need;
 * reads and writes go through the model's driver collection so filters and updates keep
 * MongoDB's exact semantics (shared with the embedded store).
 */
export class MongoDatabase {
  private constructor(
    readonly connection: Connection,
    /** The server is FerretDB (it names its version in buildInfo): see MongoCollectionOptions. */
    readonly ferretdb: boolean,
    /** On FerretDB, the one session every store call of this process names (MongoCollectionOptions). */
    private readonly session?: mongo.ClientSession,
  ) {}

  /** The database's name (the URL's path; the driver's default when it has none). */
  get database(): string {
    return this.connection.name;
  }

  static async connect(url: string): Promise<MongoDatabase> {
    const connection = mongoose.createConnection(url, { serverSelectionTimeoutMS: 10_000, autoIndex: false });
    await connection.asPromise();
    const info = await connection.db!.admin().command({ buildInfo: 1 });
    const ferretdb = 'ferretdbVersion' in info;
    // Not causal: FerretDB gossips no cluster time, and reads never waited for one before.
    const session = ferretdb ? connection.getClient().startSession({ causalConsistency: false }) : undefined;
    return new MongoDatabase(connection, ferretdb, session);
  }

  private model(spec: CollectionSpec) {
    const existing = this.connection.models[spec.name];
    if (existing) return existing;
    const schema = new mongoose.Schema(
      { _id: String },
      { strict: false, versionKey: false, collection: spec.name, autoIndex: false },
    );
    for (const index of spec.indexes) {
      schema.index(index.fields, { unique: index.unique ?? false, sparse: index.sparse ?? false });
    }
    return this.connection.model(spec.name, schema);
  }

  async collection<T extends StoredRecord>(spec: CollectionSpec): Promise<Collection<T>> {
    const model = this.model(spec);
    await model.createIndexes();
    const options: MongoCollectionOptions = {
      idLookups: this.ferretdb,
      ferretdb: this.ferretdb,
      // mongoose's own driver, typed apart from the top-level mongodb package (as the collection).
      session: this.session as never,
    };
    return new MongoRepoCollection<T>(spec, model.collection as never, options);
  }

  /**
   * Opens every collection, making its indexes (each a round trip, a no-op when they exist) for
   * all collections at once: one by one they were a second or more of every start on FerretDB.
   */
  async openAll(): Promise<Record<CollectionKey, Collection<StoredRecord>>> {
    const entries = await Promise.all(
      Object.entries(COLLECTIONS).map(
        async ([key, spec]) => [key, await this.collection(spec as CollectionSpec)] as const,
      ),
    );
    return Object.fromEntries(entries) as Record<CollectionKey, Collection<StoredRecord>>;
  }

  /**
   * FerretDB 1.24 on SQLite looks documents up by `_id` with an expression its own `_id` index
   * does not match, so every read, update and delete by id reads the whole collection: each
   * operation slows down as history grows. True when the server's query plan for a lookup by id
   * is a table scan (a fixed FerretDB answers SEARCH … USING INDEX; MongoDB is never asked).
   */
  async scansById(): Promise<boolean> {
    if (!this.ferretdb) return false;
    const plan = await this.connection
      .db!.command({ explain: { find: 'claims', filter: { _id: 'probe' } }, verbosity: 'queryPlanner' })
      .catch(() => undefined);
    return planScansTable(plan);
  }

  /** The raw driver database, for Agenda's Mongo backend. */
  get db() {
    return this.connection.db!;
  }

  /**
   * Agenda's job repository in `collection` (on a database `wrapDb` may adapt). Made here, not by the scheduler, so that the MongoDB
   * driver is loaded only by a process on MongoDB (openStore loads this module for a mongodb:// url).
   */
  agendaBackend(
    collection: string,
    wrapDb?: (db: mongoose.mongo.Db, session?: mongo.ClientSession) => mongoose.mongo.Db,
  ): MongoBackend {
    return new MongoBackend({
      mongo: (wrapDb ? wrapDb(this.db, this.session) : this.db) as never,
      collection,
    });
  }

  async close(): Promise<void> {
    await this.session?.endSession();
    await this.connection.close();
  }
}
