import type {
  AgendaBackend,
  JobParameters,
  JobRepository,
  JobsOverview,
  JobsQueryOptions,
  JobsResult,
} from 'agenda';
import { computeJobState, toJobId } from 'agenda';
import type { EmbeddedDatabase } from '../store/index.js';
import { newId } from '../ids.js';
import type { NedbDatastore } from '../store/embedded/nedb.js';

type Doc = Record<string, unknown>;

const NULLABLE_FIELDS = [
  'lockedAt',
  'lastFinishedAt',
  'failedAt',
  'failCount',
  'failReason',
  'repeatTimezone',
  'lastRunAt',
  'repeatInterval',
  'repeatAt',
  'disabled',
  'progress',
  'debounceStartedAt',
  'fork',
  'startDate',
  'endDate',
  'skipDays',
  'lastModifiedBy',
] as const;

function toJob(doc: Doc): JobParameters {
  const out: Record<string, unknown> = { ...doc, _id: toJobId(String(doc._id)) };
  for (const f of NULLABLE_FIELDS) if (out[f] === null) out[f] = undefined;
  return out as unknown as JobParameters;
}

function nameFilter(options: { name?: string; names?: string[]; notNames?: string[] }): Doc {
  if (options.name) return { name: options.name };
  if (options.names?.length) return { name: { $in: options.names } };
  if (options.notNames?.length) return { name: { $nin: options.notNames } };
  return {};
}

function removeFilter(options: {
  id?: unknown;
  ids?: unknown[];
  name?: string;
  names?: string[];
  notNames?: string[];
  data?: unknown;
}): Doc {
  const q: Doc = { ...nameFilter(options) };
  if (options.id) q._id = String(options.id);
  else if (options.ids?.length) q._id = { $in: options.ids.map(String) };
  if (options.data !== undefined) q.data = options.data;
  return q;
}

/**
 * Agenda's job repository on the embedded store. It mirrors @agendajs/mongo-backend's semantics
 * (lock by lockedAt, single and unique jobs); atomicity comes from nedb's serial executor plus a
 * compare-and-set retry, which is sound because the embedded store has a single process.
 */
export class EmbeddedJobRepository implements JobRepository {
  private jobs!: NedbDatastore<Doc>;

  constructor(private readonly database: EmbeddedDatabase) {}

  async connect(): Promise<void> {
    this.jobs = await this.database.datastore({
      name: 'agenda_jobs',
      indexes: [{ fields: { name: 1 } }, { fields: { nextRunAt: 1 } }],
    });
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const q: Doc = { ...nameFilter(options) };
    if (options.id) q._id = options.id;
    else if (options.ids?.length) q._id = { $in: options.ids };
    if (options.includeDisabled === false) q.disabled = { $ne: true };
    let docs = (await this.jobs.findAsync(q).sort({ nextRunAt: -1, lastRunAt: -1 })) as Doc[];
    const now = new Date();
    let jobs = docs.map((d) => {
      const job = toJob(d);
      return { ...job, state: computeJobState(job, now) };
    });
    if (options.state) jobs = jobs.filter((j) => j.state === options.state);
    if (options.search)
      jobs = jobs.filter(
        (j) => j.name.includes(options.search!) || JSON.stringify(j.data ?? '').includes(options.search!),
      );
    const total = jobs.length;
    if (options.skip) jobs = jobs.slice(options.skip);
    if (options.limit) jobs = jobs.slice(0, options.limit);
    docs = [];
    return { jobs, total } as JobsResult;
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    const { jobs } = await this.queryJobs();
    const byName = new Map<string, JobsOverview>();
    for (const job of jobs) {
      const o = byName.get(job.name) ?? {
        name: job.name,
        total: 0,
        running: 0,
        scheduled: 0,
        queued: 0,
        completed: 0,
        failed: 0,
        repeating: 0,
        paused: 0,
      };
      o.total++;
      (o as unknown as Record<string, number>)[job.state]++;
      byName.set(job.name, o);
    }
    return [...byName.values()];
  }

  async getDistinctJobNames(): Promise<string[]> {
    const docs = (await this.jobs.findAsync({}, { name: 1 })) as Doc[];
    return [...new Set(docs.map((d) => String(d.name)))];
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    const doc = (await this.jobs.findOneAsync({ _id: id })) as Doc | null;
    return doc ? toJob(doc) : null;
  }

  async getQueueSize(): Promise<number> {
    return this.jobs.countAsync({ nextRunAt: { $ne: null, $lt: new Date() } });
  }

  async removeJobs(options: Parameters<JobRepository['removeJobs']>[0]): Promise<number> {
    return this.jobs.removeAsync(removeFilter(options as never), { multi: true });
  }

  async disableJobs(options: Parameters<JobRepository['disableJobs']>[0]): Promise<number> {
    return (
      await this.jobs.updateAsync(
        removeFilter(options as never),
        { $set: { disabled: true } },
        { multi: true },
      )
    ).numAffected;
  }

  async enableJobs(options: Parameters<JobRepository['enableJobs']>[0]): Promise<number> {
    return (
      await this.jobs.updateAsync(
        removeFilter(options as never),
        { $set: { disabled: false } },
        { multi: true },
      )
    ).numAffected;
  }

  async purgeAllJobs(): Promise<number> {
    return this.jobs.removeAsync({}, { multi: true });
  }

  async saveJob<DATA = unknown>(
    job: JobParameters<DATA>,
    options?: { lastModifiedBy?: string },
  ): Promise<JobParameters<DATA>> {
    const { _id, unique, uniqueOpts, ...props } = job;
    const fields: Doc = { ...props, lastModifiedBy: options?.lastModifiedBy ?? null };
    for (const f of NULLABLE_FIELDS) if (fields[f] === undefined) fields[f] = null;
    if (_id) {
      const res = await this.jobs.updateAsync(
        // _id last: nedb reads candidates from the last indexed plain field (here: one record).
        { name: props.name, _id: String(_id) },
        { $set: fields },
        { returnUpdatedDocs: true },
      );
      return res.affectedDocuments ? (toJob(res.affectedDocuments as Doc) as JobParameters<DATA>) : job;
    }
    if (props.type === 'single') {
      const existing = (await this.jobs.findOneAsync({ name: props.name, type: 'single' })) as Doc | null;
      if (existing) {
        const now = new Date();
        // A past nextRunAt on the existing job is kept, as Agenda's Mongo backend does.
        if (props.nextRunAt && props.nextRunAt <= now) delete fields.nextRunAt;
        const res = await this.jobs.updateAsync(
          { _id: existing._id },
          { $set: fields },
          { returnUpdatedDocs: true },
        );
        return toJob(res.affectedDocuments as Doc) as JobParameters<DATA>;
      }
    } else if (unique) {
      const query: Doc = { ...(unique as Doc), name: props.name };
      const existing = (await this.jobs.findOneAsync(query)) as Doc | null;
      if (existing) {
        if (uniqueOpts?.insertOnly) return toJob(existing) as JobParameters<DATA>;
        const res = await this.jobs.updateAsync(
          { _id: existing._id },
          { $set: fields },
          { returnUpdatedDocs: true },
        );
        return toJob(res.affectedDocuments as Doc) as JobParameters<DATA>;
      }
    }
    const inserted = (await this.jobs.insertAsync({ ...fields, _id: newId() })) as Doc;
    return toJob(inserted) as JobParameters<DATA>;
  }

  async saveJobState(job: JobParameters, options?: { lastModifiedBy?: string }): Promise<void> {
    if (!job._id) throw new Error('Cannot save job state without job ID');
    const $set = {
      lockedAt: job.lockedAt ? new Date(job.lockedAt) : null,
      nextRunAt: job.nextRunAt ? new Date(job.nextRunAt) : null,
      lastRunAt: job.lastRunAt ? new Date(job.lastRunAt) : null,
      progress: job.progress ?? null,
      failReason: job.failReason ?? null,
      failCount: job.failCount ?? null,
      failedAt: job.failedAt ? new Date(job.failedAt) : null,
      lastFinishedAt: job.lastFinishedAt ? new Date(job.lastFinishedAt) : null,
      lastModifiedBy: options?.lastModifiedBy ?? null,
    };
    const res = await this.jobs.updateAsync({ name: job.name, _id: String(job._id) }, { $set });
    if (res.numAffected !== 1) {
      throw new Error(
        `job ${job._id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`,
      );
    }
  }

  async lockJob(
    job: JobParameters,
    options?: { lastModifiedBy?: string },
  ): Promise<JobParameters | undefined> {
    if (!job._id) return undefined;
    const res = await this.jobs.updateAsync(
      {
        name: job.name,
        lockedAt: null,
        nextRunAt: job.nextRunAt,
        disabled: { $ne: true },
        _id: String(job._id),
      },
      { $set: { lockedAt: new Date(), lastModifiedBy: options?.lastModifiedBy ?? null } },
      { returnUpdatedDocs: true },
    );
    return res.numAffected > 0 && res.affectedDocuments ? toJob(res.affectedDocuments as Doc) : undefined;
  }

  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return;
    await this.jobs.updateAsync(
      { _id: String(job._id), nextRunAt: { $ne: null } },
      { $set: { lockedAt: null } },
    );
  }

  async unlockJobs(jobIds: string[]): Promise<void> {
    await this.jobs.updateAsync(
      { _id: { $in: jobIds.map(String) } },
      { $set: { lockedAt: null } },
      { multi: true },
    );
  }

  async getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options?: { lastModifiedBy?: string },
  ): Promise<JobParameters | undefined> {
    const where = {
      name: jobName,
      disabled: { $ne: true },
      // $ne: null because nedb, unlike MongoDB, lets null satisfy range comparisons.
      $or: [
        { lockedAt: null, nextRunAt: { $ne: null, $lte: nextScanAt } },
        { lockedAt: { $ne: null, $lte: lockDeadline } },
      ],
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      const [candidate] = (await this.jobs
        .findAsync(where)
        .sort({ nextRunAt: 1, priority: -1 })
        .limit(1)) as Doc[];
      if (!candidate) return undefined;
      const res = await this.jobs.updateAsync(
        { ...where, _id: candidate._id },
        { $set: { lockedAt: now ?? new Date(), lastModifiedBy: options?.lastModifiedBy ?? null } },
        { returnUpdatedDocs: true },
      );
      if (res.numAffected > 0 && res.affectedDocuments) return toJob(res.affectedDocuments as Doc);
    }
    return undefined;
  }
}

export class EmbeddedAgendaBackend implements AgendaBackend {
  readonly name = 'Squall embedded store';
  readonly repository: EmbeddedJobRepository;
  readonly ownsConnection = false;

  constructor(database: EmbeddedDatabase) {
    this.repository = new EmbeddedJobRepository(database);
  }

  async connect(): Promise<void> {
    await this.repository.connect();
  }

  async disconnect(): Promise<void> {
    // The store owns the files; closing the store closes them.
  }
}
