import type { ClientSession, Collection as MongoCollection, Document as MongoDocument } from 'mongodb';
// sift is MongoDB's query language in JS (mongoose's own matcher); CJS, hence `.default`.
import sift from 'sift';
import { ConflictError } from '../../errors.js';
import { SerialPerKey } from '../../serial.js';
import { Codec } from '../codec.js';
import { retryingTransient as retrying } from '../transient.js';
import { GroupReducer, groupFields } from '../group.js';
import type { Collection, CollectionSpec, Filter, FindOptions, StoredRecord, Update } from '../types.js';
import type { GroupRow, GroupSpec, SortSpec } from '../types.js';

type Doc = Record<string, unknown>;

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}

/**
 * `{_id: "x", status: "running"}` as `{_id: "x"}` plus the rest of the filter, or undefined when
 * the filter does not name one record by a string id.
 */
export function splitById(filter: Doc): { id: string; rest: Doc } | undefined {
  const { _id: id, ...rest } = filter;
  if (typeof id !== 'string' || Object.keys(rest).length === 0) return undefined;
  return { id, rest };
}

/**
 * FerretDB carries out a write to one document as a read, then a write by `_id`, so two writes to
 * the same document at once can both pass a guard (`{_id, owner}`) or lose one another's `$push`.
 * In this process they are made to take turns, per document; every store of the process shares
 * the turns, since tests run several in one process.
 */
const documentTurns = new SerialPerKey<string>();

export interface MongoCollectionOptions {
  /**
   * The server is FerretDB. Its $group has neither $substrBytes nor a working $sum of a field, so
   * a group with a prefix or a sum is folded here from a cursor over the fields it reads.
   */
  ferretdb?: boolean;
  /**
   * The server is FerretDB. It answers from an index only a filter that is exactly
   * `{_id: "<string>"}`; any other filter — `{_id, status}` included — reads and decodes every
   * document of the collection, so an execution's three guarded status updates cost O(all
   * executions) each. There, such filters read the one record by `_id` and check the rest here.
   * This is no weaker than FerretDB itself: its findAndModify is a read then a write, not atomic
   * (see README, "Pointing Squall at MongoDB"); whatever must happen once takes a claim.
   */
  idLookups?: boolean;
  /**
   * FerretDB: one session named by every call. Without one the driver makes, checks out and ends
   * an implicit session for each operation (its lsid), ~0.09 ms of CPU per round trip here, for a
   * server on which sessions carry nothing: a standalone FerretDB has no retryable writes (the
   * driver numbers no write of the session, so concurrent calls cannot clash), no transactions,
   * and causal consistency is off. Never on MongoDB: there retryable writes number each write
   * of a session, and concurrent writes under one lsid would be refused as out of order.
   */
  session?: ClientSession;
}

/** One collection on MongoDB, through the driver behind a mongoose model. */
export class MongoRepoCollection<T extends StoredRecord> implements Collection<T> {
  readonly name: string;
  private readonly codec: Codec;

  constructor(
    readonly spec: CollectionSpec,
    private readonly coll: MongoCollection<MongoDocument>,
    private readonly options: MongoCollectionOptions = {},
  ) {
    this.name = spec.name;
    this.codec = new Codec(spec);
    this.s = options.session ? { session: options.session } : {};
  }

  /** The options every driver call carries: the process's session on FerretDB. */
  private readonly s: { session?: ClientSession };

  /** With `idLookups`: the one stored document an `{_id, …}` filter selects, or null; else undefined. */
  private async byId(filter: Doc): Promise<Doc | null | undefined> {
    const split = this.options.idLookups ? splitById(filter) : undefined;
    if (!split) return undefined;
    const doc = (await retrying(() => this.coll.findOne({ _id: split.id as never }, this.s))) as Doc | null;
    return doc && sift.default(split.rest)(doc) ? doc : null;
  }

  /**
   * With `idLookups`, a filter that is only `{_id: {$in: [strings]}}` (lease holders, a few
   * names): one read by `_id` each, at once, instead of FerretDB reading the whole collection
   * (the claims collection holds every webhook delivery id: seconds per read late in a burst).
   */
  private async byIds(filter: Doc, options: FindOptions): Promise<T[] | undefined> {
    if (!this.options.idLookups || options.sort || Object.keys(filter).length !== 1) return undefined;
    const ids = (filter._id as { $in?: unknown } | undefined)?.$in;
    const only = filter._id && Object.keys(filter._id as Doc).length === 1;
    if (!only || !Array.isArray(ids) || ids.length > 100 || !ids.every((id) => typeof id === 'string'))
      return undefined;
    const docs = await Promise.all(
      [...new Set(ids as string[])].map((id) =>
        retrying(() => this.coll.findOne({ _id: id as never }, this.s)),
      ),
    );
    const found = docs.filter((d) => d !== null) as Doc[];
    const limited = options.limit !== undefined && options.limit > 0 ? found.slice(0, options.limit) : found;
    return limited.map((d) => this.codec.decode<T>(d) as T);
  }

  /** With `idLookups`: runs a write to the document `_id` names after the other writes to it here. */
  private inTurn<R>(id: unknown, write: () => Promise<R>): Promise<R> {
    if (!this.options.idLookups || typeof id !== 'string') return write();
    return documentTurns.run(`${this.coll.dbName}.${this.coll.collectionName}:${id}`, write);
  }

  private conflict(err: unknown, id?: unknown): never {
    if (isDuplicateKey(err)) {
      throw new ConflictError(`a ${this.name} record with the same unique key already exists`, {
        collection: this.name,
        id,
      });
    }
    throw err;
  }

  async insert(doc: T): Promise<T> {
    try {
      const encoded = this.codec.encode(doc as unknown as Doc);
      await this.inTurn(doc.id, () => retrying(() => this.coll.insertOne(encoded, this.s)));
    } catch (err) {
      this.conflict(err, doc.id);
    }
    return doc;
  }

  async insertMany(docs: T[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      const encoded = docs.map((d) => this.codec.encode(d as unknown as Doc));
      await retrying(() => this.coll.insertMany(encoded, { ordered: true, ...this.s }));
    } catch (err) {
      this.conflict(err);
    }
  }

  async get(id: string): Promise<T | null> {
    return this.codec.decode<T>(
      (await retrying(() => this.coll.findOne({ _id: id as never }, this.s))) as Doc | null,
    );
  }

  async findOne(filter: Filter, options: FindOptions = {}): Promise<T | null> {
    const rows = await this.find(filter, { ...options, limit: 1 });
    return rows[0] ?? null;
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<T[]> {
    if (!options.projection && !options.skip) {
      const one = await this.byId(this.codec.filter(filter));
      if (one !== undefined) return one ? [this.codec.decode<T>(one) as T] : [];
      const some = await this.byIds(this.codec.filter(filter), options);
      if (some) return some;
    }
    const docs = await retrying(() => {
      let cursor = this.coll.find(this.codec.filter(filter), {
        projection: this.codec.projection(options.projection),
        ...this.s,
      });
      const sort = this.codec.sort(options.sort);
      if (sort) cursor = cursor.sort(sort);
      if (options.skip) cursor = cursor.skip(options.skip);
      if (options.limit !== undefined && options.limit >= 0) cursor = cursor.limit(options.limit);
      return cursor.toArray();
    });
    return docs.map((d) => this.codec.decode<T>(d as Doc) as T);
  }

  async *batches(filter: Filter, options: { sort?: SortSpec; batchSize: number }): AsyncGenerator<T[]> {
    const sort = this.codec.sort(options.sort);
    const cursor = this.coll.find(this.codec.filter(filter), {
      batchSize: options.batchSize,
      ...(sort ? { sort } : {}),
      ...this.s,
    });
    try {
      while (await cursor.hasNext()) {
        const batch: T[] = [];
        do batch.push(this.codec.decode<T>((await cursor.next()) as Doc) as T);
        while (cursor.bufferedCount() > 0);
        yield batch;
      }
    } finally {
      // A consumer that stops early (its client went away) frees the server's cursor now.
      await cursor.close();
    }
  }

  async count(filter: Filter = {}): Promise<number> {
    const one = await this.byId(this.codec.filter(filter));
    if (one !== undefined) return one ? 1 : 0;
    return retrying(() => this.coll.countDocuments(this.codec.filter(filter), this.s));
  }

  async group(filter: Filter, spec: GroupSpec): Promise<GroupRow[]> {
    const match = this.codec.filter(filter);
    const keys = Object.entries(spec.by);
    const sums = Object.entries(spec.sum ?? {});
    if (this.options.ferretdb && (sums.length > 0 || keys.some(([, b]) => b.prefix !== undefined))) {
      return retrying(async () => {
        const reducer = new GroupReducer(spec);
        const projection = Object.fromEntries(groupFields(spec).map((f) => [f, 1]));
        for await (const doc of this.coll.find(match, { projection, ...this.s })) reducer.add(doc as Doc);
        return reducer.rows();
      });
    }
    const keyExpr = (field: string, prefix?: number) =>
      prefix === undefined
        ? `$${field}`
        : {
            $cond: [
              { $eq: [{ $type: `$${field}` }, 'string'] },
              { $substrBytes: [`$${field}`, 0, Math.trunc(prefix)] },
              `$${field}`,
            ],
          };
    const $group: Doc = {
      _id: Object.fromEntries(keys.map(([, b], i) => [`k${i}`, keyExpr(b.field, b.prefix)])),
      n: { $sum: 1 },
    };
    sums.forEach(([, field], i) => ($group[`s${i}`] = { $sum: `$${field}` }));
    const rows = (await retrying(() =>
      this.coll.aggregate([{ $match: match }, { $group }], this.s).toArray(),
    )) as Doc[];
    return rows.map((r) => {
      const id = (r._id ?? {}) as Doc;
      return {
        key: Object.fromEntries(
          keys.map(([name], i) => {
            const v = id[`k${i}`];
            return [name, ['string', 'number', 'boolean'].includes(typeof v) ? (v as string) : null];
          }),
        ),
        count: Number(r.n),
        sums: Object.fromEntries(sums.map(([name], i) => [name, Number(r[`s${i}`] ?? 0)])),
      };
    });
  }

  async updateOne(filter: Filter, update: Update, options: { upsert?: boolean } = {}): Promise<T | null> {
    const encoded = this.codec.filter(filter);
    return this.inTurn(encoded._id, async () => {
      const query = options.upsert ? encoded : await this.narrowed(encoded);
      if (!query) return null;
      try {
        const doc = await retrying(() =>
          this.coll.findOneAndUpdate(query, this.codec.update(update), {
            upsert: options.upsert ?? false,
            returnDocument: 'after',
            ...this.s,
          }),
        );
        return this.codec.decode<T>(doc as Doc | null);
      } catch (err) {
        return this.conflict(err);
      }
    });
  }

  async updateMany(filter: Filter, update: Update): Promise<number> {
    const query = await this.narrowed(this.codec.filter(filter));
    if (!query) return 0;
    const res = await retrying(() => this.coll.updateMany(query, this.codec.update(update), this.s));
    return res.modifiedCount;
  }

  async replace(doc: T): Promise<T> {
    const encoded = this.codec.encode(doc as unknown as Doc);
    try {
      await this.inTurn(doc.id, () =>
        retrying(() => this.coll.replaceOne({ _id: doc.id as never }, encoded, { upsert: true, ...this.s })),
      );
    } catch (err) {
      this.conflict(err, doc.id);
    }
    return doc;
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    const encoded = this.codec.filter(filter);
    return this.inTurn(encoded._id, async () => {
      const query = await this.narrowed(encoded);
      if (!query) return false;
      return (await retrying(() => this.coll.deleteOne(query, this.s))).deletedCount > 0;
    });
  }

  async deleteMany(filter: Filter): Promise<number> {
    const query = await this.narrowed(this.codec.filter(filter));
    if (!query) return 0;
    return (await retrying(() => this.coll.deleteMany(query, this.s))).deletedCount;
  }

  /**
   * The server-side filter for a write of the encoded `query`: `{_id}` once the record is checked
   * here, null when none matches.
   */
  private async narrowed(query: Doc): Promise<Doc | null> {
    const one = await this.byId(query);
    if (one === undefined) return query;
    return one ? { _id: one._id } : null;
  }
}
