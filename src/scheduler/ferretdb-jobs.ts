import type { JobRepository, NotificationChannel } from 'agenda';
import type { mongo } from 'mongoose';
// sift is MongoDB's query language in JS (mongoose's own matcher); CJS, hence `.default`.
import sift from 'sift';
import { retryingTransient } from '../store/index.js';

// The driver mongoose carries: the store's connection is made by it.
type Db = mongo.Db;
type Collection<T extends Document> = mongo.Collection<T>;
type ClientSession = mongo.ClientSession;
type Document = mongo.Document;
type Doc = Record<string, unknown>;

/** The job collection's promise-returning calls Agenda makes, tried again on a transient error. */
const RETRIED = [
  'insertOne',
  'insertMany',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOne',
  'findOneAndDelete',
  'countDocuments',
  'bulkWrite',
] as const;

/** Where each job-collection call Agenda and this module make takes its options. */
const OPTIONS_AT: Record<string, number> = {
  insertOne: 1,
  insertMany: 1,
  updateOne: 2,
  updateMany: 2,
  replaceOne: 2,
  deleteOne: 1,
  deleteMany: 1,
  find: 1,
  findOne: 1,
  findOneAndDelete: 1,
  findOneAndUpdate: 2,
  countDocuments: 1,
  bulkWrite: 1,
};

/**
 * The job collection as Agenda's Mongo backend uses it on FerretDB, one wrapper for three things:
 *
 * - Every call names `session` when there is one (the store's, MongoCollectionOptions.session).
 * - A write by `_id` first. FerretDB 1.x on SQLite answers from an index only a filter that is
 *   exactly `{_id: …}`; any other filter reads and decodes every document of the collection in Go.
 *   Agenda saves a job's state with `{_id, name}` (twice per run), so on FerretDB each save read
 *   the whole job collection, i.e. the whole queue. Here such a write reads the one job by `_id`,
 *   checks the rest of the filter in JS and writes by `_id` (a filter of only `_id` and `name` is
 *   written by `_id` at once). No weaker than FerretDB itself, whose findAndModify is a read then a
 *   write, not atomic.
 * - Agenda saves, locks and removes jobs in the background, and a save that failed with a transient
 *   SQLITE_BUSY left a job locked that no run would ever finish: its calls are tried again.
 */
function jobCollection(coll: Collection<Document>, session?: ClientSession): Collection<Document> {
  /** Calls the collection's `name`, naming the session in its options. */
  const call = (name: string, args: unknown[]): unknown => {
    const f = Reflect.get(coll, name, coll) as (...a: unknown[]) => unknown;
    const at = OPTIONS_AT[name];
    if (!session || at === undefined) return f.apply(coll, args);
    const withSession = [...args];
    while (withSession.length < at) withSession.push(undefined);
    withSession[at] = { ...(withSession[at] as Doc | undefined), session };
    return f.apply(coll, withSession);
  };
  const split = (filter: unknown): { id: unknown; rest: Doc } | undefined => {
    if (!filter || typeof filter !== 'object') return undefined;
    const { _id: id, ...rest } = filter as Doc;
    if (id === undefined || (typeof id === 'object' && id !== null && !('_bsontype' in id))) return undefined;
    return Object.keys(rest).length ? { id, rest } : undefined;
  };
  const onlyName = (rest: Doc) => Object.keys(rest).length === 1 && typeof rest.name === 'string';
  const matching = async (filter: unknown): Promise<Doc | null | undefined> => {
    const s = split(filter);
    if (!s) return undefined;
    // `{_id, name}` (Agenda's job-state saves, twice per run): a job's name never changes and its
    // `_id` is unique, so the job with that `_id` is the one; no read needed before the write.
    if (onlyName(s.rest)) return { _id: s.id };
    const doc = (await call('findOne', [{ _id: s.id }])) as Doc | null;
    return doc && sift.default(s.rest)(doc) ? doc : null;
  };
  /** `updateOne` or `findOneAndUpdate` by `_id` first; `none` is the answer when nothing matches. */
  const byIdFirst =
    (name: 'updateOne' | 'findOneAndUpdate', none: unknown) =>
    async (filter: unknown, update: unknown, options?: Doc): Promise<unknown> => {
      const opts = name === 'findOneAndUpdate' ? (options ?? {}) : options;
      const one = options?.upsert ? undefined : await matching(filter);
      if (one === undefined) return call(name, [filter, update, opts]);
      if (one === null) return none;
      return call(name, [{ _id: one._id }, update, opts]);
    };
  const retried =
    (f: (...args: unknown[]) => unknown) =>
    (...args: unknown[]): Promise<unknown> =>
      retryingTransient(async () => f(...args));
  const overrides: Record<string, unknown> = {
    updateOne: retried(
      byIdFirst('updateOne', {
        acknowledged: true,
        matchedCount: 0,
        modifiedCount: 0,
        upsertedCount: 0,
        upsertedId: null,
      }) as (...args: unknown[]) => unknown,
    ),
    findOneAndUpdate: retried(byIdFirst('findOneAndUpdate', null) as (...args: unknown[]) => unknown),
  };
  for (const name of RETRIED)
    if (typeof coll[name] === 'function') overrides[name] = retried((...args) => call(name, args));
  return new Proxy(coll, {
    get(target, prop) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop];
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof prop === 'string' && session && OPTIONS_AT[prop] !== undefined)
        return (...args: unknown[]) => call(prop, args);
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/**
 * The database as Agenda's Mongo backend sees it on FerretDB: its job collection writes by `_id`
 * first, and names the store's session when there is one.
 */
export function ferretdbJobsDb(db: Db, session?: ClientSession): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'collection')
        return (name: string, options?: Doc) => jobCollection(target.collection(name, options), session);
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface JobState {
  _id?: unknown;
  name?: string;
  nextRunAt?: Date | null;
  lockedAt?: Date | null;
  disabled?: boolean;
  priority?: number;
}

/** What Agenda's lock query selects (`getNextJobToRun`), evaluated on a job's state. */
export function isDue(job: JobState, name: string, nextScanAt: Date, lockDeadline: Date): boolean {
  if (job.name !== name || job.disabled === true) return false;
  if (job.lockedAt == null) return job.nextRunAt != null && job.nextRunAt <= nextScanAt;
  return job.lockedAt <= lockDeadline;
}

/** Agenda's lock order: the earliest `nextRunAt` first (none before any), then the highest priority. */
function lockOrder(a: JobState, b: JobState): number {
  const at = (j: JobState) => (j.nextRunAt ? j.nextRunAt.getTime() : -Infinity);
  return at(a) - at(b) || (b.priority ?? 0) - (a.priority ?? 0);
}

/**
 * Agenda asks the store for the next job of a name to lock once per defined name on every poll
 * and twice per job run (the job, then "no more"); on FerretDB each such question reads, decodes
 * and sorts the whole job collection in Go, so with a backlog every lock cost O(backlog) and a
 * burst O(backlog²). Here the process keeps a view of every job's state (name, times, lock,
 * priority): read from the store at most once per `freshMs` and kept current with what this
 * process writes and is notified of. A lock picks its candidates from the view and locks one by
 * `_id` (read by `_id`, checked, written by `_id`: FerretDB's own findAndModify is no more atomic),
 * so a poll with nothing due sends nothing and a lock costs a read and a write by `_id`. A job another
 * process created without a notification is seen at the next read, one poll later at most; a job
 * whose lock expired is locked by Agenda's own query.
 */
export class JobQueueView {
  private jobs = new Map<string, JobState>();
  private readAt = -Infinity;
  private reading?: Promise<void>;
  /** Changes this process made, in order, replayed over a read begun before them. */
  private changes: Array<{ seq: number; id?: string; state?: JobState | null }> = [];
  private seq = 0;

  constructor(
    private readonly collection: () => Collection<Document>,
    private readonly freshMs: number,
  ) {}

  /** Records this process's change to a job (`null`: removed; no id: anything may have changed). */
  private change(id: string | undefined, state?: JobState | null): void {
    const entry = { seq: ++this.seq, id, state };
    this.apply(entry);
    if (this.reading) this.changes.push(entry);
    if (id === undefined) this.readAt = -Infinity;
  }

  private apply({ id, state }: { id?: string; state?: JobState | null }): void {
    if (id === undefined) return;
    if (state === null) this.jobs.delete(id);
    else if (state) this.jobs.set(id, { ...this.jobs.get(id), ...state });
  }

  /** Reads the store when the view is older than `freshMs` (one read, however slow). */
  private async fresh(): Promise<void> {
    if (Date.now() - this.readAt <= this.freshMs) return;
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    await this.reading;
  }

  private async read(): Promise<void> {
    const begun = Date.now();
    const since = this.seq;
    this.changes = [];
    const docs = (await this.collection()
      .find({}, { projection: { name: 1, nextRunAt: 1, lockedAt: 1, disabled: 1, priority: 1 } })
      .toArray()) as JobState[];
    const jobs = new Map<string, JobState>();
    for (const d of docs) jobs.set(String(d._id), d);
    this.jobs = jobs;
    const after = this.changes.filter((c) => c.seq > since);
    for (const c of after) this.apply(c);
    this.changes = [];
    // A change of unknown reach during the read: the next question reads again.
    if (!after.some((c) => c.id === undefined)) this.readAt = begun;
  }

  /**
   * Makes `repository` lock through this view, and keeps the view current with the
   * repository's writes and the channel's notifications.
   */
  attach(repository: JobRepository, channel: NotificationChannel): void {
    const next = repository.getNextJobToRun.bind(repository);
    const lockJob = repository.lockJob.bind(repository);
    repository.getNextJobToRun = async (jobName, nextScanAt, lockDeadline, now, options) => {
      await this.fresh();
      const due = [...this.jobs.entries()]
        .filter(([, j]) => isDue(j, jobName, nextScanAt, lockDeadline))
        .sort(([, a], [, b]) => lockOrder(a, b));
      for (const [id, job] of due) {
        // An expired lock (its process died): Agenda's own query takes it over.
        if (job.lockedAt != null) return next(jobName, nextScanAt, lockDeadline, now, options);
        const locked = await lockJob(
          { _id: job._id, name: jobName, nextRunAt: job.nextRunAt ?? null } as never,
          options,
        );
        if (locked) {
          this.change(id, { lockedAt: locked.lockedAt ?? new Date(), nextRunAt: locked.nextRunAt ?? null });
          return locked;
        }
        // Locked or changed by another process since the read: the next read tells.
        this.change(id, null);
      }
      return undefined;
    };
    const stateOf = (job: JobState): JobState => ({
      name: job.name,
      nextRunAt: job.nextRunAt ?? null,
      lockedAt: job.lockedAt ?? null,
      disabled: job.disabled,
      priority: job.priority,
      _id: job._id,
    });
    const saveJob = repository.saveJob.bind(repository);
    repository.saveJob = async (job, options) => {
      const saved = await saveJob(job, options);
      this.change(saved._id === undefined ? undefined : String(saved._id), stateOf(saved));
      return saved;
    };
    const saveJobState = repository.saveJobState.bind(repository);
    repository.saveJobState = async (job, options) => {
      await saveJobState(job, options);
      this.change(job._id === undefined ? undefined : String(job._id), stateOf(job));
    };
    const removeJobs = repository.removeJobs.bind(repository);
    repository.removeJobs = async (options) => {
      const removed = await removeJobs(options);
      const ids = options.id !== undefined ? [options.id] : options.ids;
      if (ids && !options.data) for (const id of ids) this.change(String(id), null);
      else this.change(undefined);
      return removed;
    };
    for (const method of ['unlockJob', 'unlockJobs', 'disableJobs', 'enableJobs', 'purgeAllJobs'] as const) {
      const original = (repository[method] as (...a: unknown[]) => Promise<unknown>).bind(repository);
      (repository as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        const result = await original(...args);
        this.change(undefined);
        return result;
      };
    }
    const subscribe = channel.subscribe.bind(channel);
    channel.subscribe = (handler) =>
      subscribe((notification) => {
        const id = String(notification.jobId);
        if (!this.jobs.has(id))
          this.change(id, {
            _id: id,
            name: notification.jobName,
            nextRunAt: notification.nextRunAt ? new Date(notification.nextRunAt) : null,
            lockedAt: null,
            priority: notification.priority,
          });
        return handler(notification);
      });
  }
}
