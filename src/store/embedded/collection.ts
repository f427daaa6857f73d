import { NedbDatastore } from './nedb.js';
import { ConflictError } from '../../errors.js';
import { Codec } from '../codec.js';
import { groupFields, reduceGroups } from '../group.js';
import type { Collection, CollectionSpec, Filter, FindOptions, StoredRecord, Update } from '../types.js';
import type { GroupRow, GroupSpec } from '../types.js';

type Doc = Record<string, unknown>;

const RANGE_OPERATORS = ['$lt', '$lte', '$gt', '$gte'];

/**
 * nedb compares with JavaScript's operators, so null satisfies `$lte: 5` (null coerces to 0);
 * MongoDB never matches null or a missing field with a range. Guarding keeps the stores alike.
 */
export function guardRanges(filter: Doc): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(filter)) {
    if ((k === '$or' || k === '$and') && Array.isArray(v)) out[k] = v.map((f) => guardRanges(f as Doc));
    else if (
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      !(v instanceof Date) &&
      !(v instanceof RegExp)
    ) {
      const ops = v as Doc;
      out[k] =
        Object.keys(ops).some((op) => RANGE_OPERATORS.includes(op)) && !('$ne' in ops)
          ? { ...ops, $ne: null }
          : ops;
    } else out[k] = v;
  }
  return out;
}

/**
 * nedb takes its candidates from the LAST field of a filter that has an index and a plain value,
 * then matches every candidate. `{_id, status}` therefore scanned every record with that status;
 * with `_id` moved to the end it reads the one record. Key order means nothing to the match.
 */
export function idLast(filter: Doc): Doc {
  if (!('_id' in filter) || typeof filter._id !== 'string') return filter;
  const { _id, ...rest } = filter;
  return { ...rest, _id };
}

/** The filter nedb is given: MongoDB's range semantics, and the cheapest index chosen. */
function nedbFilter(filter: Doc): Doc {
  return idLast(guardRanges(filter));
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { errorType?: string })?.errorType === 'uniqueViolated';
}

/**
 * One collection on nedb. nedb runs every operation of a datastore through one serial executor,
 * so a filtered update is an atomic compare-and-set within this process; the embedded store is
 * single-process by design.
 */
export class EmbeddedCollection<T extends StoredRecord> implements Collection<T> {
  readonly name: string;
  private readonly codec: Codec;

  constructor(
    readonly spec: CollectionSpec,
    private readonly db: NedbDatastore<Doc>,
  ) {
    this.name = spec.name;
    this.codec = new Codec(spec);
  }

  private conflict(err: unknown, doc?: Doc): never {
    if (isUniqueViolation(err)) {
      throw new ConflictError(
        `a ${this.name} record with the same ${(err as { key?: string }).key ?? 'key'} already exists`,
        {
          collection: this.name,
          id: doc?._id,
        },
      );
    }
    throw err;
  }

  async insert(doc: T): Promise<T> {
    const encoded = this.codec.encode(doc as unknown as Doc);
    try {
      await this.db.insertAsync(encoded);
    } catch (err) {
      this.conflict(err, encoded);
    }
    return doc;
  }

  async insertMany(docs: T[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.db.insertAsync(docs.map((d) => this.codec.encode(d as unknown as Doc)));
    } catch (err) {
      this.conflict(err);
    }
  }

  async get(id: string): Promise<T | null> {
    return this.codec.decode<T>(await this.db.findOneAsync({ _id: id }));
  }

  async findOne(filter: Filter, options: FindOptions = {}): Promise<T | null> {
    const rows = await this.find(filter, { ...options, limit: 1 });
    return rows[0] ?? null;
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<T[]> {
    let cursor = this.db.findAsync(
      nedbFilter(this.codec.filter(filter)),
      this.codec.projection(options.projection) ?? {},
    );
    const sort = this.codec.sort(options.sort);
    if (sort) cursor = cursor.sort(sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit !== undefined && options.limit >= 0) cursor = cursor.limit(options.limit);
    const docs = await cursor;
    return docs.map((d: Doc) => this.codec.decode<T>(d) as T);
  }

  async count(filter: Filter = {}): Promise<number> {
    return this.db.countAsync(nedbFilter(this.codec.filter(filter)));
  }

  /** nedb has no grouping: the matching records' grouped fields are read and folded here. */
  async group(filter: Filter, spec: GroupSpec): Promise<GroupRow[]> {
    const projection = Object.fromEntries(groupFields(spec).map((f) => [f, 1 as const]));
    const docs = (await this.db.findAsync(nedbFilter(this.codec.filter(filter)), projection)) as Doc[];
    return reduceGroups(docs, spec);
  }

  async updateOne(filter: Filter, update: Update, options: { upsert?: boolean } = {}): Promise<T | null> {
    try {
      const res = await this.db.updateAsync(
        nedbFilter(this.codec.filter(filter)),
        this.codec.update(update),
        {
          upsert: options.upsert ?? false,
          returnUpdatedDocs: true,
          multi: false,
        },
      );
      const doc = res.affectedDocuments as Doc | null;
      return res.numAffected > 0 && doc ? this.codec.decode<T>(doc) : null;
    } catch (err) {
      return this.conflict(err);
    }
  }

  async updateMany(filter: Filter, update: Update): Promise<number> {
    const res = await this.db.updateAsync(nedbFilter(this.codec.filter(filter)), this.codec.update(update), {
      multi: true,
    });
    return res.numAffected;
  }

  async replace(doc: T): Promise<T> {
    const encoded = this.codec.encode(doc as unknown as Doc);
    try {
      await this.db.updateAsync({ _id: doc.id }, encoded, { upsert: true });
    } catch (err) {
      this.conflict(err, encoded);
    }
    return doc;
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    return (await this.db.removeAsync(nedbFilter(this.codec.filter(filter)), { multi: false })) > 0;
  }

  async deleteMany(filter: Filter): Promise<number> {
    return this.db.removeAsync(nedbFilter(this.codec.filter(filter)), { multi: true });
  }
}
