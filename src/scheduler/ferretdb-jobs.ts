import type { JobRepository, NotificationChannel } from 'agenda';
import type { mongo } from 'mongoose';
// sift is MongoDB's query language in JS (mongoose's own matcher); CJS, hence `.default`.
import sift from 'sift';

// The driver mongoose carries: the store's connection is made by it.
type Db = mongo.Db;
type Collection<T extends Document> = mongo.Collection<T>;
type Document = mongo.Document;
type Doc = Record<string, unknown>;

/**
 * FerretDB 1.x on SQLite answers from an index only a filter that is exactly `{_id: …}`; any
 * other filter reads and decodes every document of the collection in Go. Agenda's Mongo backend
 * saves a job's state with `{_id, name}` (twice per run), so on FerretDB each save read the whole
 * job collection, i.e. the whole queue. Here such a write reads the one job by `_id`, checks the
 * rest of the filter in JS and writes by `_id`. No weaker than FerretDB itself, whose
 * findAndModify is a read then a write, not atomic.
 */
function byIdFirst(coll: Collection<Document>): Collection<Document> {
  const split = (filter: unknown): { id: unknown; rest: Doc } | undefined => {
    if (!filter || typeof filter !== 'object') return undefined;
    const { _id: id, ...rest } = filter as Doc;
    if (id === undefined || (typeof id === 'object' && id !== null && !('_bsontype' in id))) return undefined;
    return Object.keys(rest).length ? { id, rest } : undefined;
  };
  const matching = async (filter: unknown): Promise<Doc | null | undefined> => {
    const s = split(filter);
    if (!s) return undefined;
    const doc = (await coll.findOne({ _id: s.id } as Document)) as Doc | null;
    return doc && sift.default(s.rest)(doc) ? doc : null;
  };
  const updateOne: Collection<Document>['updateOne'] = async (filter, update, options) => {
    const one = options?.upsert ? undefined : await matching(filter);
    if (one === undefined) return coll.updateOne(filter, update, options);
    if (one === null)
      return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null };
    return coll.updateOne({ _id: one._id } as Document, update, options);
  };
  const findOneAndUpdate = (async (filter: Document, update: Document, options?: Doc) => {
    const one = options?.upsert ? undefined : await matching(filter);
    if (one === undefined) return coll.findOneAndUpdate(filter, update, options ?? {});
    if (one === null) return null;
    return coll.findOneAndUpdate({ _id: one._id } as Document, update, options ?? {});
  }) as Collection<Document>['findOneAndUpdate'];
  return new Proxy(coll, {
    get(target, prop) {
      if (prop === 'updateOne') return updateOne;
      if (prop === 'findOneAndUpdate') return findOneAndUpdate;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The database as Agenda's Mongo backend sees it on FerretDB: its job collection writes by `_id` first. */
export function ferretdbJobsDb(db: Db): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'collection')
        return (name: string, options?: Doc) => byIdFirst(target.collection(name, options));
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface JobState {
  name?: string;
  nextRunAt?: Date | null;
  lockedAt?: Date | null;
  disabled?: boolean;
}

/** What Agenda's lock query selects (`getNextJobToRun`), evaluated on a job's state. */
export function isDue(job: JobState, name: string, nextScanAt: Date, lockDeadline: Date): boolean {
  if (job.name !== name || job.disabled === true) return false;
  if (job.lockedAt == null) return job.nextRunAt != null && job.nextRunAt <= nextScanAt;
  return job.lockedAt <= lockDeadline;
}

/**
 * Agenda polls by asking the store, for every defined job name, for the next job of that name to
 * lock: on FerretDB each such question reads and sorts every job in Go, ten of them per poll with
 * nothing to do. Here one read of every job's state (name, times, lock) per poll answers "nothing
 * due" for the names that have nothing due, and only the others ask the store. A name this
 * process has since created, saved or unlocked a job of, or been notified of, always asks the
 * store until the next read; what another process did without a notification is seen at the next
 * poll, as before.
 */
export class DueJobsSnapshot {
  private seq = 0;
  private readonly changedAt = new Map<string, number>();
  private allChangedAt = 0;
  private snapshot?: { seq: number; at: number; jobs: Promise<JobState[]> };

  constructor(
    private readonly jobs: () => Collection<Document>,
    /** How long one read serves: the names of one poll ask at once. */
    private readonly freshMs = 250,
  ) {}

  /** Marks a name (or, without one, every name) changed by this process since the last read. */
  changed(name: string | undefined): void {
    if (name) this.changedAt.set(name, ++this.seq);
    else this.allChangedAt = ++this.seq;
  }

  private changedSince(name: string, seq: number): boolean {
    return Math.max(this.changedAt.get(name) ?? 0, this.allChangedAt) > seq;
  }

  private read(): { seq: number; jobs: Promise<JobState[]> } {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at > this.freshMs) {
      const jobs = this.jobs()
        .find({}, { projection: { name: 1, nextRunAt: 1, lockedAt: 1, disabled: 1 } })
        .toArray() as Promise<JobState[]>;
      this.snapshot = { seq: this.seq, at: now, jobs };
      // A failed read is not kept: the next question reads again.
      const taken = this.snapshot;
      jobs.catch(() => {
        if (this.snapshot === taken) this.snapshot = undefined;
      });
    }
    return this.snapshot;
  }

  /** False when no job of `name` can be due: the store need not be asked. */
  async mayHaveDue(name: string, nextScanAt: Date, lockDeadline: Date): Promise<boolean> {
    const { seq, jobs } = this.read();
    if (this.changedSince(name, seq)) return true;
    return (await jobs).some((j) => isDue(j, name, nextScanAt, lockDeadline));
  }

  /**
   * Makes `repository` and `channel` keep this snapshot honest and consult it before each lock
   * query. A write marks its name once it completed: a read begun after that includes it.
   */
  attach(repository: JobRepository, channel: NotificationChannel): void {
    const after = <T>(name: string | undefined, write: Promise<T>): Promise<T> =>
      write.finally(() => this.changed(name));
    const next = repository.getNextJobToRun.bind(repository);
    repository.getNextJobToRun = async (jobName, nextScanAt, lockDeadline, ...rest) =>
      (await this.mayHaveDue(jobName, nextScanAt, lockDeadline))
        ? next(jobName, nextScanAt, lockDeadline, ...rest)
        : undefined;
    const saveJob = repository.saveJob.bind(repository);
    repository.saveJob = (job, ...rest) => after(job.name, saveJob(job, ...rest));
    const saveJobState = repository.saveJobState.bind(repository);
    repository.saveJobState = (job, ...rest) => after(job.name, saveJobState(job, ...rest));
    const unlockJob = repository.unlockJob.bind(repository);
    repository.unlockJob = (job) => after(job.name, unlockJob(job));
    const unlockJobs = repository.unlockJobs.bind(repository);
    repository.unlockJobs = (ids) => after(undefined, unlockJobs(ids));
    const subscribe = channel.subscribe.bind(channel);
    channel.subscribe = (handler) =>
      subscribe((notification) => {
        this.changed(notification.jobName);
        return handler(notification);
      });
  }
}
