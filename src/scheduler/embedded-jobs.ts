import type BetterSqlite3 from 'better-sqlite3';
import type {
  AgendaBackend,
  JobParameters,
  JobRepository,
  JobsOverview,
  JobsQueryOptions,
  JobsResult,
} from 'agenda';
import { computeJobState, toJobId } from 'agenda';
import {
  JOBS_TABLE,
  PUT_JOB_SQL,
  createJobsTable,
  jobModel as model,
  jobRow,
  type SqliteDatabase,
} from '../store/index.js';
import { newId } from '../ids.js';

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

interface Row {
  doc: string;
}

interface Selector {
  id?: unknown;
  ids?: unknown[];
  name?: string;
  names?: string[];
  notNames?: string[];
  data?: unknown;
}

/** WHERE for a selection of jobs by id and name (`data` is matched afterwards). */
function selectorSql(options: Selector): { where: string; params: Array<string | number> } {
  const terms: string[] = [];
  const params: Array<string | number> = [];
  if (options.name) {
    terms.push('name = ?');
    params.push(options.name);
  } else if (options.names?.length) {
    terms.push(`name IN (${options.names.map(() => '?').join(',')})`);
    params.push(...options.names);
  } else if (options.notNames?.length) {
    terms.push(`name NOT IN (${options.notNames.map(() => '?').join(',')})`);
    params.push(...options.notNames);
  }
  if (options.id) {
    terms.push('id = ?');
    params.push(String(options.id));
  } else if (options.ids?.length) {
    terms.push(`id IN (${options.ids.map(() => '?').join(',')})`);
    params.push(...options.ids.map(String));
  }
  return { where: terms.length ? terms.join(' AND ') : '1', params };
}

/**
 * Agenda's job repository on the embedded store (SQLite). It mirrors @agendajs/mongo-backend's
 * semantics (lock by lockedAt, single and unique jobs). Each job is a row whose columns hold what
 * the scheduler filters and orders by, beside the whole job; a lock is a select and an update in
 * one synchronous transaction, so it is atomic by construction.
 *
 * A new job is acknowledged once it is on disk. Locks, run states and the removal of a finished
 * job are written in order but not waited for (writeInOrder): the next acknowledged write carries
 * them to disk, and a crash that loses one only makes a job run again, which every job handler
 * takes (each claims its step), and frees a dead process's lock at once instead of after its lifetime.
 */
/** A write that reads, then changes one job row at most: it needs no savepoint (writeOne). */
const SINGLE = { single: true } as const;

export class EmbeddedJobRepository implements JobRepository {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly database: SqliteDatabase) {}

  async connect(): Promise<void> {
    createJobsTable(this.database.db);
  }

  private statement(sql: string): BetterSqlite3.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.database.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private rows(where: string, params: unknown[], tail = ''): Doc[] {
    return (
      this.statement(`SELECT doc FROM ${JOBS_TABLE} WHERE ${where}${tail}`).all(...params) as Row[]
    ).map((r) => model.deserialize(r.doc));
  }

  /** Writes a job: its whole document and the columns derived from it. */
  private put(doc: Doc): void {
    this.statement(PUT_JOB_SQL).run(...jobRow(doc));
  }

  /** Applies `fields` to each selected job; the jobs as they are after. */
  private change(docs: Doc[], fields: Doc): Doc[] {
    return docs.map((doc) => {
      const next = { ...doc, ...fields };
      this.put(next);
      return next;
    });
  }

  private selected(options: Selector): Doc[] {
    const { where, params } = selectorSql(options);
    const docs = this.rows(where, params);
    return options.data === undefined ? docs : docs.filter((d) => model.match(d, { data: options.data }));
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const { where, params } = selectorSql(options as Selector);
    const extra = options.includeDisabled === false ? ' AND disabled = 0' : '';
    const docs = this.rows(where + extra, params, ' ORDER BY next_run_at DESC');
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
    return (this.statement(`SELECT DISTINCT name FROM ${JOBS_TABLE}`).all() as Array<{ name: string }>).map(
      (r) => r.name,
    );
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    const [doc] = this.rows('id = ?', [String(id)]);
    return doc ? toJob(doc) : null;
  }

  async getQueueSize(): Promise<number> {
    return (
      this.statement(
        `SELECT count(*) AS n FROM ${JOBS_TABLE} WHERE next_run_at IS NOT NULL AND next_run_at < ?`,
      ).get(Date.now()) as { n: number }
    ).n;
  }

  removeJobs(options: Parameters<JobRepository['removeJobs']>[0]): Promise<number> {
    const selector = options as Selector;
    if (selector.data === undefined) {
      // Selected by id and name alone (a finished one-time job's removal): one DELETE, no row read
      // and parsed first; SQLite undoes a failed statement whole, so it needs no savepoint.
      const { where, params } = selectorSql(selector);
      return this.database.writeInOrder(
        () => this.statement(`DELETE FROM ${JOBS_TABLE} WHERE ${where}`).run(...params).changes,
        SINGLE,
      );
    }
    return this.database.writeInOrder(() => {
      const docs = this.selected(selector);
      const del = this.statement(`DELETE FROM ${JOBS_TABLE} WHERE id = ?`);
      for (const d of docs) del.run(String(d._id));
      return docs.length;
    });
  }

  disableJobs(options: Parameters<JobRepository['disableJobs']>[0]): Promise<number> {
    return this.database.write(
      () => this.change(this.selected(options as Selector), { disabled: true }).length,
    );
  }

  enableJobs(options: Parameters<JobRepository['enableJobs']>[0]): Promise<number> {
    return this.database.write(
      () => this.change(this.selected(options as Selector), { disabled: false }).length,
    );
  }

  purgeAllJobs(): Promise<number> {
    return this.database.write(() => this.statement(`DELETE FROM ${JOBS_TABLE}`).run().changes);
  }

  saveJob<DATA = unknown>(
    job: JobParameters<DATA>,
    options?: { lastModifiedBy?: string },
  ): Promise<JobParameters<DATA>> {
    const { _id, unique, uniqueOpts, ...props } = job;
    const fields: Doc = { ...props, lastModifiedBy: options?.lastModifiedBy ?? null };
    for (const f of NULLABLE_FIELDS) if (fields[f] === undefined) fields[f] = null;
    // Every branch reads, then writes at most one job: no savepoint needed.
    return this.database.writeOne(() => {
      if (_id) {
        const [doc] = this.rows('id = ? AND name = ?', [String(_id), String(props.name)]);
        return (doc ? toJob(this.change([doc], fields)[0]) : job) as JobParameters<DATA>;
      }
      if (props.type === 'single') {
        const [existing] = this.rows("name = ? AND type = 'single'", [String(props.name)], ' LIMIT 1');
        if (existing) {
          // A past nextRunAt on the existing job is kept, as Agenda's Mongo backend does.
          if (props.nextRunAt && props.nextRunAt <= new Date()) delete fields.nextRunAt;
          return toJob(this.change([existing], fields)[0]) as JobParameters<DATA>;
        }
      } else if (unique) {
        const query: Doc = { ...(unique as Doc), name: props.name };
        const existing = this.rows('name = ?', [String(props.name)]).find((d) => model.match(d, query));
        if (existing) {
          if (uniqueOpts?.insertOnly) return toJob(existing) as JobParameters<DATA>;
          return toJob(this.change([existing], fields)[0]) as JobParameters<DATA>;
        }
      }
      const inserted = { ...fields, _id: newId() };
      this.put(inserted);
      return toJob(inserted) as JobParameters<DATA>;
    });
  }

  saveJobState(job: JobParameters, options?: { lastModifiedBy?: string }): Promise<void> {
    if (!job._id) return Promise.reject(new Error('Cannot save job state without job ID'));
    const fields = {
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
    return this.database.writeInOrder(() => {
      const docs = this.rows('id = ? AND name = ?', [String(job._id), job.name]);
      if (docs.length !== 1) {
        throw new Error(
          `job ${job._id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`,
        );
      }
      this.change(docs, fields);
    }, SINGLE);
  }

  lockJob(job: JobParameters, options?: { lastModifiedBy?: string }): Promise<JobParameters | undefined> {
    if (!job._id) return Promise.resolve(undefined);
    const next = job.nextRunAt ? new Date(job.nextRunAt).getTime() : null;
    return this.database.writeInOrder(() => {
      const [doc] = this.rows(
        'id = ? AND name = ? AND locked_at IS NULL AND disabled = 0 AND next_run_at IS ?',
        [String(job._id), job.name, next],
      );
      if (!doc) return undefined;
      return toJob(
        this.change([doc], { lockedAt: new Date(), lastModifiedBy: options?.lastModifiedBy ?? null })[0],
      );
    }, SINGLE);
  }

  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return;
    await this.database.writeInOrder(() => {
      this.change(this.rows('id = ? AND next_run_at IS NOT NULL', [String(job._id)]), { lockedAt: null });
    });
  }

  async unlockJobs(jobIds: string[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.database.writeInOrder(() => {
      this.change(this.selected({ ids: jobIds }), { lockedAt: null });
    });
  }

  getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options?: { lastModifiedBy?: string },
  ): Promise<JobParameters | undefined> {
    return this.database.writeInOrder(() => {
      const [doc] = this.rows(
        `name = ? AND disabled = 0 AND ((locked_at IS NULL AND next_run_at <= ?) OR locked_at <= ?)`,
        [jobName, nextScanAt.getTime(), lockDeadline.getTime()],
        ' ORDER BY next_run_at ASC, priority DESC LIMIT 1',
      );
      if (!doc) return undefined;
      return toJob(
        this.change([doc], {
          lockedAt: now ?? new Date(),
          lastModifiedBy: options?.lastModifiedBy ?? null,
        })[0],
      );
    }, SINGLE);
  }
}

export class EmbeddedAgendaBackend implements AgendaBackend {
  readonly name = 'Squall embedded store';
  readonly repository: EmbeddedJobRepository;
  readonly ownsConnection = false;

  constructor(database: SqliteDatabase) {
    this.repository = new EmbeddedJobRepository(database);
  }

  async connect(): Promise<void> {
    await this.repository.connect();
  }

  async disconnect(): Promise<void> {
    // The store owns the file; closing the store closes it.
  }
}
