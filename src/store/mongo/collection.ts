import type { Collection as MongoCollection, Document as MongoDocument } from 'mongodb';
import { ConflictError } from '../../errors.js';
import { Codec } from '../codec.js';
import type { Collection, CollectionSpec, Filter, FindOptions, StoredRecord, Update } from '../types.js';

type Doc = Record<string, unknown>;

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}

/** One collection on MongoDB, through the driver behind a mongoose model. */
export class MongoRepoCollection<T extends StoredRecord> implements Collection<T> {
  readonly name: string;
  private readonly codec: Codec;

  constructor(
    readonly spec: CollectionSpec,
    private readonly coll: MongoCollection<MongoDocument>,
  ) {
    this.name = spec.name;
    this.codec = new Codec(spec);
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
      await this.coll.insertOne(this.codec.encode(doc as unknown as Doc));
    } catch (err) {
      this.conflict(err, doc.id);
    }
    return doc;
  }

  async insertMany(docs: T[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.coll.insertMany(
        docs.map((d) => this.codec.encode(d as unknown as Doc)),
        { ordered: true },
      );
    } catch (err) {
      this.conflict(err);
    }
  }

  async get(id: string): Promise<T | null> {
    return this.codec.decode<T>((await this.coll.findOne({ _id: id as never })) as Doc | null);
  }

  async findOne(filter: Filter, options: FindOptions = {}): Promise<T | null> {
    const rows = await this.find(filter, { ...options, limit: 1 });
    return rows[0] ?? null;
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<T[]> {
    let cursor = this.coll.find(this.codec.filter(filter), {
      projection: this.codec.projection(options.projection),
    });
    const sort = this.codec.sort(options.sort);
    if (sort) cursor = cursor.sort(sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit !== undefined && options.limit >= 0) cursor = cursor.limit(options.limit);
    const docs = await cursor.toArray();
    return docs.map((d) => this.codec.decode<T>(d as Doc) as T);
  }

  async count(filter: Filter = {}): Promise<number> {
    return this.coll.countDocuments(this.codec.filter(filter));
  }

  async updateOne(filter: Filter, update: Update, options: { upsert?: boolean } = {}): Promise<T | null> {
    try {
      const doc = await this.coll.findOneAndUpdate(this.codec.filter(filter), this.codec.update(update), {
        upsert: options.upsert ?? false,
        returnDocument: 'after',
      });
      return this.codec.decode<T>(doc as Doc | null);
    } catch (err) {
      return this.conflict(err);
    }
  }

  async updateMany(filter: Filter, update: Update): Promise<number> {
    const res = await this.coll.updateMany(this.codec.filter(filter), this.codec.update(update));
    return res.modifiedCount;
  }

  async replace(doc: T): Promise<T> {
    const encoded = this.codec.encode(doc as unknown as Doc);
    try {
      await this.coll.replaceOne({ _id: doc.id as never }, encoded, { upsert: true });
    } catch (err) {
      this.conflict(err, doc.id);
    }
    return doc;
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    return (await this.coll.deleteOne(this.codec.filter(filter))).deletedCount > 0;
  }

  async deleteMany(filter: Filter): Promise<number> {
    return (await this.coll.deleteMany(this.codec.filter(filter))).deletedCount;
  }
}
