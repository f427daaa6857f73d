import type { Collection, Filter, FindOptions, GroupRow, GroupSpec, StoredRecord, Update } from './types.js';
import { LruMap } from '../lru-map.js';

/**
 * The collections holding content: what packs register and the API edits, read by ref on every
 * event (an action, its runner type, a trigger and its type, the rules, policies, aliases).
 */
export const CONTENT_COLLECTIONS = [
  'packs',
  'actions',
  'runnerTypes',
  'triggerTypes',
  'triggers',
  'rules',
  'policies',
  'aliases',
  'sensors',
] as const;
export type ContentCollectionKey = (typeof CONTENT_COLLECTIONS)[number];

/** Answers kept per collection; the oldest goes first (content is small, queries repeat). */
const MAX_ENTRIES = 1000;
/** A `find` answer longer than this is not kept: a whole listing costs memory for little reuse. */
const MAX_FIND_LENGTH = 100;

/**
 * Tells the other processes that this one wrote to a content collection. The write resolves only
 * once this has resolved, so whoever acted on the write (an API client) finds every process's
 * cache already told when it sends the next event.
 */
export type AnnounceContentChange = (collection: ContentCollectionKey) => Promise<void>;

/**
 * Asks the store whether content changed since the last call (true: forget everything kept).
 * Used where no channel tells this process of other processes' writes: it is asked before a
 * cached answer is served, at most once per `everyMs`, so another process's write is seen
 * within that time and a busy process pays one read per period, not one per content lookup.
 */
export interface ContentFreshness {
  changed(): Promise<boolean>;
  everyMs: number;
}

/**
 * Per-process answers to content reads. Off until enabled: a process only caches when it hears of
 * every write (alone on its embedded store, or with the Redis bus when scaled out); without a
 * channel, another process's write could never reach its cache.
 */
export class ContentCache {
  private readonly collections = new Map<ContentCollectionKey, CachedCollection<StoredRecord>>();
  private announce?: AnnounceContentChange;
  /** How this process's writes are told to the others (kept while the cache is off). */
  get announcer(): AnnounceContentChange | undefined {
    return this.announce;
  }
  private on = false;
  private freshness?: ContentFreshness;
  private checkedAt = 0;
  private checking?: Promise<void>;
  hits = 0;
  misses = 0;

  get enabled(): boolean {
    return this.on;
  }

  /**
   * Starts caching; `announce` carries this process's writes to the others, and `freshness`
   * (when nothing tells this process of theirs) finds out about their writes.
   */
  enable(announce?: AnnounceContentChange, freshness?: ContentFreshness): void {
    this.announce = announce;
    this.freshness = freshness;
    this.checkedAt = 0;
    this.invalidate();
    this.on = true;
  }

  /** @internal Resolves once what is kept is known to be no older than the freshness period. */
  fresh(): Promise<void> | undefined {
    const freshness = this.freshness;
    if (!freshness || Date.now() - this.checkedAt < freshness.everyMs) return undefined;
    this.checking ??= (async () => {
      try {
        const started = Date.now();
        if (await freshness.changed()) this.invalidate();
        this.checkedAt = started;
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  /** Stops caching (the channel that told this process of other writes is down). */
  disable(): void {
    this.on = false;
    this.invalidate();
  }

  /** Forgets what is kept for one collection (another process wrote to it), or for all. */
  invalidate(collection?: ContentCollectionKey): void {
    if (collection) this.collections.get(collection)?.forget();
    else for (const c of this.collections.values()) c.forget();
  }

  wrap<T extends StoredRecord>(key: ContentCollectionKey, inner: Collection<T>): Collection<T> {
    const cached = new CachedCollection<T>(inner, this, key);
    this.collections.set(key, cached as unknown as CachedCollection<StoredRecord>);
    return cached;
  }

  /** @internal */
  changed(key: ContentCollectionKey): Promise<void> {
    // Told even while off: the others may still be caching.
    return this.announce ? this.announce(key) : Promise.resolve();
  }
}

class CachedCollection<T extends StoredRecord> implements Collection<T> {
  private readonly answers = new LruMap<string, unknown>(MAX_ENTRIES);
  /**
   * Bumped by every write and invalidation: a read that started before one is not kept, so an
   * answer read while a write was under way never outlives it.
   */
  private generation = 0;

  constructor(
    private readonly inner: Collection<T>,
    private readonly cache: ContentCache,
    private readonly key: ContentCollectionKey,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  forget(): void {
    this.generation++;
    this.answers.clear();
  }

  get(id: string): Promise<T | null> {
    return this.read(`g${id}`, () => this.inner.get(id));
  }

  findOne(filter: Filter, options?: FindOptions): Promise<T | null> {
    return this.read(`o${JSON.stringify([filter, options])}`, () => this.inner.findOne(filter, options));
  }

  find(filter?: Filter, options?: FindOptions): Promise<T[]> {
    return this.read(`f${JSON.stringify([filter, options])}`, () => this.inner.find(filter, options));
  }

  count(filter?: Filter): Promise<number> {
    return this.read(`c${JSON.stringify(filter)}`, () => this.inner.count(filter));
  }

  group(filter: Filter, spec: GroupSpec): Promise<GroupRow[]> {
    return this.inner.group(filter, spec);
  }

  insert(doc: T): Promise<T> {
    return this.write(() => this.inner.insert(doc));
  }

  insertMany(docs: T[]): Promise<void> {
    return this.write(() => this.inner.insertMany(docs));
  }

  updateOne(filter: Filter, update: Update, options?: { upsert?: boolean }): Promise<T | null> {
    return this.write(() => this.inner.updateOne(filter, update, options));
  }

  updateMany(filter: Filter, update: Update): Promise<number> {
    return this.write(() => this.inner.updateMany(filter, update));
  }

  replace(doc: T): Promise<T> {
    return this.write(() => this.inner.replace(doc));
  }

  deleteOne(filter: Filter): Promise<boolean> {
    return this.write(() => this.inner.deleteOne(filter));
  }

  deleteMany(filter: Filter): Promise<number> {
    return this.write(() => this.inner.deleteMany(filter));
  }

  private async read<R>(key: string, load: () => Promise<R>): Promise<R> {
    if (!this.cache.enabled) return load();
    const checking = this.cache.fresh();
    if (checking) await checking;
    if (this.answers.has(key)) {
      this.cache.hits++;
      // Callers may change what they get: each gets its own copy, the kept one stays as read.
      return copyAnswer(this.answers.get(key)) as R;
    }
    this.cache.misses++;
    const started = this.generation;
    const answer = await load();
    if (started === this.generation && this.cache.enabled && keepable(answer)) {
      this.answers.set(key, copyAnswer(answer));
    }
    return answer;
  }

  private async write<R>(op: () => Promise<R>): Promise<R> {
    this.forget();
    let result: R;
    try {
      result = await op();
    } catch (err) {
      // Part of a failed write may have landed: forget and tell anyway, then report the failure.
      this.forget();
      await this.cache.changed(this.key).catch(() => undefined);
      throw err;
    }
    this.forget();
    await this.cache.changed(this.key);
    return result;
  }
}

/** Thrown by copyPlain at a value that is not plain data (left to structuredClone). */
const NOT_PLAIN = Symbol('not plain data');

function copyPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function' || typeof value === 'symbol') throw NOT_PLAIN;
    return value;
  }
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyPlain(value[i]);
    return out;
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (Object.getPrototypeOf(value) !== Object.prototype) throw NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) out[k] = copyPlain((value as Record<string, unknown>)[k]);
  return out;
}

/**
 * A deep copy of a cached answer: records are plain data (objects, arrays, strings, numbers,
 * Dates), which a walk copies several times faster than structuredClone, whose serialisation was
 * ~3% of a webhook's CPU (nine content reads per event). Anything else is left to structuredClone.
 */
export function copyAnswer<R>(value: R): R {
  try {
    return copyPlain(value) as R;
  } catch (err) {
    if (err !== NOT_PLAIN) throw err;
    return structuredClone(value);
  }
}

function keepable(answer: unknown): boolean {
  return !Array.isArray(answer) || answer.length <= MAX_FIND_LENGTH;
}
