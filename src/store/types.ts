/**
 * The repository layer. Filters and updates have MongoDB's shape (a subset both nedb and MongoDB
 * understand), so the same domain code runs on the embedded store and on MongoDB.
 *
 * Supported filter operators: equality, $eq $ne $in $nin $lt $lte $gt $gte $exists $regex $or
 * $and, dotted paths. Updates: $set $unset $inc $push $pull $addToSet ($push and $addToSet take
 * `{$each: [...]}`, no other modifier). `id` is the primary key
 * (stored as `_id`). Timestamps are ISO-8601 strings in UTC, so they sort as text.
 */
export type Filter = Record<string, unknown>;

export interface Update {
  $set?: Record<string, unknown>;
  $unset?: Record<string, unknown>;
  $inc?: Record<string, number>;
  $push?: Record<string, unknown>;
  $pull?: Record<string, unknown>;
  $addToSet?: Record<string, unknown>;
}

export type SortSpec = Record<string, 1 | -1>;

export interface FindOptions {
  sort?: SortSpec;
  limit?: number;
  skip?: number;
  /** Fields to include (1) or exclude (0); never mix the two. */
  projection?: Record<string, 0 | 1>;
}

export interface StoredRecord {
  id: string;
}

export interface Collection<T extends StoredRecord> {
  readonly name: string;
  insert(doc: T): Promise<T>;
  insertMany(docs: T[]): Promise<void>;
  get(id: string): Promise<T | null>;
  findOne(filter: Filter, options?: FindOptions): Promise<T | null>;
  find(filter?: Filter, options?: FindOptions): Promise<T[]>;
  /**
   * The records matching `filter` in order through one cursor, a batch (about `batchSize`) at a
   * time, where the store has cursors (MongoDB). Where it is absent, page with find(): on
   * FerretDB each find reads and sorts every match, so paging a long result costs it once a page.
   */
  batches?(filter: Filter, options: { sort?: SortSpec; batchSize: number }): AsyncIterable<T[]>;
  count(filter?: Filter): Promise<number>;
  /** The records matching `filter`, counted per group (in no particular order). */
  group(filter: Filter, spec: GroupSpec): Promise<GroupRow[]>;
  /**
   * Applies `update` to the first document matching `filter` and returns it as it is after the
   * update, or null when nothing matched. Not a mutual-exclusion primitive: MongoDB makes it
   * atomic, but FerretDB 1.x applies it as read-modify-write, so two racers can both "win".
   * Use Store.claim() where only one process may proceed.
   */
  updateOne(filter: Filter, update: Update, options?: { upsert?: boolean }): Promise<T | null>;
  updateMany(filter: Filter, update: Update): Promise<number>;
  /** Replaces the whole document with this id (inserting it when absent). */
  replace(doc: T): Promise<T>;
  deleteOne(filter: Filter): Promise<boolean>;
  deleteMany(filter: Filter): Promise<number>;
}

export interface IndexSpec {
  fields: Record<string, 1 | -1>;
  unique?: boolean;
  sparse?: boolean;
  /**
   * The path crosses an array (`action_executions.object_id`): MongoDB indexes every element; the
   * embedded store, which indexes one scalar per record, matches such a field without its index.
   */
  multikey?: boolean;
  /**
   * The first field is indexed by whether it is there, not by its value: what `$exists` asks
   * (History's top-level executions: `parent` missing, newest first). MongoDB indexes the field.
   */
  presence?: boolean;
}

export interface CollectionSpec {
  name: string;
  indexes: IndexSpec[];
  /**
   * Free-form fields (results, parameters, payloads) kept as serialized JSON: any key is
   * allowed inside them, they cost nothing to copy, and they are never queried into.
   */
  opaque?: string[];
  /**
   * Top-level fields the embedded store keeps deflated (src/store/sqlite/compact.ts): large, read
   * with the record but never filtered, sorted or grouped on in SQL, except through an indexed
   * subpath (which stays readable). Other stores ignore it.
   */
  compressed?: string[];
}

/**
 * A count (and sums) per distinct combination of fields, computed where the records are (SQL
 * GROUP BY, MongoDB's $group): a dashboard's figures cost one query, not a read of every record.
 */
export interface GroupSpec {
  /**
   * Output key → the stored field it groups by (dotted paths allowed). `prefix` keeps only the
   * first n characters of a text value: an ISO-8601 time cut to 13 is its hour, to 10 its day.
   */
  by: Record<string, { field: string; prefix?: number }>;
  /** Output name → a numeric field summed over each group (records without a number add 0). */
  sum?: Record<string, string>;
}

export interface GroupRow {
  /** The group's value of each `by` key; null for records without the field. */
  key: Record<string, string | number | boolean | null>;
  count: number;
  sums: Record<string, number>;
}
