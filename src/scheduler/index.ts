import { Agenda, InMemoryNotificationChannel, type Job, type NotificationChannel } from 'agenda';
import type { Logger } from '../log/index.js';
import { type Store, outsideStoreGroup } from '../store/index.js';
import { memoiseDebugColors } from './debug-loggers.js';
import { EmbeddedAgendaBackend } from './embedded-jobs.js';
import { JobQueueView, ferretdbJobsDb } from './ferretdb-jobs.js';
import { LocalJobs } from './local-jobs.js';
import { LockKeeper } from './lock-keeper.js';
import { nextJobHereFirst } from './next-job.js';
import { oneLockAtATime } from './one-lock-at-a-time.js';
import { fewerOneTimeSaves } from './one-time-saves.js';

export { EmbeddedAgendaBackend, EmbeddedJobRepository } from './embedded-jobs.js';

const JOBS_COLLECTION = 'agenda_jobs';
const DEFAULT_PROCESS_EVERY_MS = 5000;
/**
 * Short, and renewed while a job runs (keepLockWhileRunning). Agenda's lock check sleeps half the
 * lifetime and keeps the finished run (its Job, promise chain and timer, ~2.4 KB) until it wakes:
 * at the 10 min Agenda default every run of the last 5 minutes stayed in memory (a heap that grew
 * by ~2.4 KB per webhook, 145 MB at 200 webhooks/s).
 */
const DEFAULT_LOCK_LIFETIME_MS = 30_000;

export type JobHandler<D> = (data: D, job: Job<D>) => Promise<void>;

export interface DefineOptions {
  /** How many of these jobs this process runs at once. */
  concurrency?: number;
  /** After this long, a job locked by a process that died is taken by another process. */
  lockLifetimeMs?: number;
  /**
   * How many of these jobs this process locks at once. Unlimited, one process takes the whole
   * queue while others idle, and a killed one holds it all until the lock lifetime runs out.
   */
  lockLimit?: number;
  priority?: 'lowest' | 'low' | 'normal' | 'high' | 'highest';
  /**
   * A repeating job whose run is skipped while an earlier run of it is still going in this
   * process. Agenda starts the next run once it gives up on one, but cannot stop the earlier
   * run's promise: on a slow store, sweeps piled up and slowed the store further.
   */
  skipWhileRunning?: boolean;
}

export interface SchedulerOptions {
  store: Store;
  logger: Logger;
  processEveryMs?: number;
  maxConcurrency?: number;
  lockLifetimeMs?: number;
  /** Cross-process notifications (Redis); defaults to in-process notifications. */
  notificationChannel?: NotificationChannel;
  /** Names this process in job locks (lastModifiedBy). */
  workerName?: string;
}

/**
 * A job created inside a store transaction is processed outside it: its handler's writes are
 * acknowledged on disk, not merely run (the in-memory channel calls the processor at once).
 */
function outsideGroups(channel: NotificationChannel): NotificationChannel {
  const publish = channel.publish.bind(channel);
  channel.publish = (notification) => outsideStoreGroup(() => publish(notification));
  return channel;
}

/**
 * Agenda on either store. Every durable background step (running an execution, advancing a
 * workflow, firing a timer, expiring an inquiry) is an Agenda job defined through here, so it
 * survives restarts and, on MongoDB, is shared between processes.
 */
export class Scheduler {
  readonly agenda: Agenda;
  private started = false;
  private readonly locks: LockKeeper;

  constructor(private readonly options: SchedulerOptions) {
    memoiseDebugColors();
    this.locks = new LockKeeper(options.logger);
    const { store } = options;
    const ferretdb = store.kind === 'mongo' && store.mongo!.ferretdb;
    const backend =
      store.kind === 'mongo'
        ? store.mongo!.agendaBackend(JOBS_COLLECTION, ferretdb ? ferretdbJobsDb : undefined)
        : new EmbeddedAgendaBackend(store.embedded!);
    const notificationChannel = options.notificationChannel ?? new InMemoryNotificationChannel();
    // Each save a round trip on MongoDB; on the embedded store a read, a parse, a serialize and
    // a row write with its two indexes (two of the four job writes of each webhook's jobs).
    const lockedHere = fewerOneTimeSaves(backend.repository);
    if (ferretdb) {
      const jobs = store.mongo!.db.collection(JOBS_COLLECTION);
      // Half a poll: the names of one poll share one read.
      const freshMs = (options.processEveryMs ?? DEFAULT_PROCESS_EVERY_MS) / 2;
      new JobQueueView(() => jobs, freshMs).attach(backend.repository, notificationChannel);
    }
    oneLockAtATime(backend.repository);
    // On the embedded store a lock is a row write in this process, and jobs are not shared.
    if (store.kind === 'mongo') this.local = new LocalJobs(backend.repository, notificationChannel);
    nextJobHereFirst(backend.repository, this.local, lockedHere);
    outsideGroups(notificationChannel);
    this.agenda = new Agenda({
      backend,
      // New jobs start at once through the channel; polling only catches what it missed.
      notificationChannel,
      processEvery: options.processEveryMs ?? DEFAULT_PROCESS_EVERY_MS,
      maxConcurrency: options.maxConcurrency ?? 50,
      defaultLockLifetime: options.lockLifetimeMs ?? DEFAULT_LOCK_LIFETIME_MS,
      // A one-time job that succeeded is deleted: kept, every finished run stayed in the job
      // collection and each poll for the next job scanned all of them (the embedded store has
      // no index that serves that query), so dispatch slowed down as history grew.
      removeOnComplete: true,
      name: options.workerName,
    } as never);
    this.agenda.on('error', (err: Error) => {
      if (this.isLateLockCheck(err))
        options.logger.debug({ err }, 'scheduler: lock check after the run ended');
      else options.logger.error({ err }, 'scheduler error');
    });
  }

  /** When each job name's last run in this process ended, and how many runs of it are going. */
  private readonly lastEnded = new Map<string, number>();
  private readonly going = new Map<string, number>();

  /**
   * Agenda clears a job's lock as its run ends, then saves; its lock check can wake in between
   * and report "no lockedAt date found" for a run that already finished. That is not a failure.
   */
  private isLateLockCheck(err: Error): boolean {
    const name = /^execution of '(.+)' canceled, no lockedAt date found/.exec(err.message)?.[1];
    if (!name || (this.going.get(name) ?? 0) > 0) return false;
    return Date.now() - (this.lastEnded.get(name) ?? 0) < 60_000;
  }

  define<D>(name: string, handler: JobHandler<D>, options: DefineOptions = {}): void {
    const logger = this.options.logger;
    const lockLifetimeMs = options.lockLifetimeMs ?? this.options.lockLifetimeMs ?? DEFAULT_LOCK_LIFETIME_MS;
    this.agenda.define<D>(
      name,
      async (job: Job<D>) => {
        const running = this.going.get(name) ?? 0;
        if (options.skipWhileRunning && running > 0) {
          logger.warn({ job: name }, 'job skipped: its previous run is still going');
          return;
        }
        this.going.set(name, running + 1);
        // A short lock lifetime means "taken over soon after its process dies", not "cancelled
        // when a run is slow": Agenda cancels a run whose lock is older than the lifetime, so a
        // slow store made every sweep fail. The lock is renewed while this process runs the job.
        const release = this.locks.hold(job as Job<unknown>, lockLifetimeMs);
        try {
          await handler(job.attrs.data, job);
        } catch (err) {
          logger.error({ err, job: name, jobId: String(job.attrs._id) }, 'job failed');
          throw err;
        } finally {
          this.going.set(name, (this.going.get(name) ?? 1) - 1);
          this.lastEnded.set(name, Date.now());
          release();
        }
      },
      // Only defined keys: an explicit undefined would override Agenda's defaults.
      Object.fromEntries(
        Object.entries({
          concurrency: options.concurrency,
          lockLifetime: options.lockLifetimeMs,
          lockLimit: options.lockLimit,
          priority: options.priority,
        }).filter(([, v]) => v !== undefined),
      ) as never,
    );
  }

  /** Runs a job as soon as a worker is free. */
  async now<D>(name: string, data: D): Promise<string> {
    const create = () => this.agenda.now(name, data as never);
    const job = await (this.local ? this.local.create(name, this.hasRoomFor(name), create) : create());
    return String(job.attrs._id);
  }

  /** On MongoDB: jobs this process inserts locked by itself, to run them without a lock round trip. */
  private readonly local?: LocalJobs;

  /**
   * This process's job processor is taking jobs and would lock one more `name` job at once: it
   * defines the name and is under its concurrency and lock limits (jobs waiting in LocalJobs
   * included). Else the job is left to whichever process locks it, as Agenda does.
   */
  private hasRoomFor(name: string): boolean {
    const definition = this.agenda.definitions[name] as
      { concurrency?: number; lockLimit?: number } | undefined;
    const processor = (this.agenda as unknown as { jobProcessor?: AgendaProcessor }).jobProcessor;
    if (!this.started || this.quiescing || !definition || !processor?.isRunning) return false;
    const waiting = this.local?.waitingCount(name) ?? 0;
    const locked = (processor.jobStatus?.[name]?.locked ?? 0) + waiting;
    if (locked >= (definition.concurrency ?? Infinity)) return false;
    if (definition.lockLimit && locked >= definition.lockLimit) return false;
    const total = processor.totalLockLimit ?? 0;
    return !total || (processor.lockedJobs?.length ?? 0) + waiting < total;
  }

  /** Runs a job at a given time. */
  async at<D>(when: Date, name: string, data: D): Promise<string> {
    const job = await this.agenda.schedule(when, name, data as never);
    return String(job.attrs._id);
  }

  /** A repeating job; `unique` keeps one job per key even when called again. */
  async every<D>(
    interval: string | number,
    name: string,
    data: D,
    unique?: Record<string, unknown>,
  ): Promise<void> {
    const job = this.agenda.create(name, data as never);
    job.repeatEvery(interval as never, { skipImmediate: true } as never);
    if (unique) job.unique(unique as never);
    await job.save();
  }

  /**
   * The data of the `name` jobs that will still run by themselves: waiting for their time, or
   * locked since `lockedSince` (ms epoch). A job locked earlier may belong to a process that died,
   * and Agenda only frees it after the lock lifetime.
   */
  async liveJobData<D>(name: string, lockedSince: number): Promise<D[]> {
    const { jobs } = await this.agenda.queryJobs({ name });
    return jobs
      .filter((j) =>
        j.lockedAt
          ? new Date(j.lockedAt as unknown as string).getTime() >= lockedSince
          : Boolean(j.nextRunAt),
      )
      .map((j) => j.data as D);
  }

  async cancel(query: { name?: string; data?: unknown }): Promise<number> {
    const removed = await this.agenda.cancel(query as never);
    // The embedded repository does not wait for removals to reach the disk; this caller does.
    // A plain sync, not beforeLeavingProcess(): nothing leaves the process here. Resolving is the
    // scheduler's word that the job will not run, even after a power cut, whatever the caller
    // does next (execution cancel records the execution canceled on the strength of it).
    await this.options.store.sync();
    return removed;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.local?.open();
    await this.agenda.start();
    this.started = true;
  }

  /**
   * Stops taking jobs and waits for the running ones to finish, up to `graceMs`. Jobs still
   * running then are `overdue()`'s to end (the executions service kills its actions), and get
   * `settleMs` more to record how they ended. Returns how many still run. `alsoRunning` counts
   * work that is not a job and is waited for as jobs are (runs started without a job).
   */
  async quiesce(options: {
    graceMs: number;
    overdue?: () => Promise<void>;
    settleMs?: number;
    alsoRunning?: () => number;
  }): Promise<number> {
    if (!this.started || this.quiescing) return this.runningCount();
    this.quiescing = new AbortController();
    // Agenda's drain stops intake at once but can miss the end of the last job and then wait out
    // its whole timeout (an idle server took 10 s to stop with 0 jobs running): the running count
    // is watched here, and the drain is ended by this signal.
    this.drained = this.agenda.drain({ signal: this.quiescing.signal });
    // Locked here for a run that will not start now: others may take them at once.
    await this.local
      ?.release()
      .catch((err: unknown) => this.options.logger.warn({ err }, 'scheduler: could not unlock waiting jobs'));
    let running = await this.whileRunning(options.graceMs, options.alsoRunning);
    if (running > 0 && options.overdue) {
      await options.overdue();
      running = await this.whileRunning(options.settleMs ?? 10_000, options.alsoRunning);
    }
    return running;
  }

  /** Stops the scheduler (quiescing first if that was not done); jobs still running are handed back unlocked. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.started) return;
    const running = await this.quiesce({ graceMs });
    this.started = false;
    this.quiescing?.abort();
    await this.drained;
    if (running > 0) {
      this.options.logger.warn({ running }, 'jobs still running at shutdown; handed back');
      await this.agenda.stop();
    }
  }

  private quiescing?: AbortController;
  private drained?: Promise<unknown>;

  /** Waits until no job runs here or `ms` passed; returns how many still run. */
  private async whileRunning(ms: number, alsoRunning?: () => number): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const running = this.runningCount() + (alsoRunning?.() ?? 0);
      if (running === 0 || Date.now() >= deadline) return running;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private runningCount(): number {
    // Agenda exposes the count only through an async status call that throws once drained.
    const processor = (this.agenda as unknown as { jobProcessor?: { runningJobs?: unknown[] } }).jobProcessor;
    return processor?.runningJobs?.length ?? 0;
  }
}
/** What hasRoomFor reads of Agenda's job processor (not part of Agenda's typed surface). */
interface AgendaProcessor {
  isRunning?: boolean;
  jobStatus?: Record<string, { locked?: number } | undefined>;
  lockedJobs?: unknown[];
  totalLockLimit?: number;
}

export { RedisNotificationChannel } from './redis-channel.js';
