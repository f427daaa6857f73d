import { AsyncLocalStorage } from 'node:async_hooks';
import type { JobNotification, JobParameters, JobRepository, NotificationChannel } from 'agenda';

/**
 * A job this process creates and would lock at once itself (it defines the job and has room for
 * it) goes through Agenda as: insert, a notification to every process, then — here, first — the
 * lock's read and write by `_id`. On MongoDB each is a round trip, and on FerretDB the others'
 * lock attempts are two more each. Such a job is inserted already locked by this process
 * (`lockedAt` set, as Agenda's own lock leaves it), announced to this process's job processor
 * alone, and handed to it by the next lock question for its name without asking the store
 * (nextJobHereFirst).
 *
 * Durability is the same as for a job locked by Agenda's query: should this process die before or
 * while running it, the lock lapses after the job's lock lifetime and another process takes the
 * job over (Agenda's query selects expired locks, whatever else the job holds); jobs still
 * waiting here when the scheduler stops are unlocked for others (`release`).
 */
export class LocalJobs {
  /**
   * The job save `create` is making. Everything that follows from it inherits the context — the
   * notification, the run of the job and the jobs its handler creates — so it counts once.
   */
  private readonly creating = new AsyncLocalStorage<{ name: string; used: boolean }>();
  /** Jobs inserted locked here and not yet handed to the job processor, by name. */
  private readonly waiting = new Map<string, JobParameters[]>();
  /**
   * Ids of the jobs inserted locked here whose notification is not sent yet: nobody else may
   * lock them, even once the job processor has taken them (a poll can come first).
   */
  private readonly unannounced = new Set<string>();
  /** Released: jobs are no longer locked here (until `open`). */
  private closed = false;

  constructor(
    private readonly repository: JobRepository,
    channel: NotificationChannel,
  ) {
    const saveJob = repository.saveJob.bind(repository);
    repository.saveJob = async (job, options) => {
      const creating = this.creating.getStore();
      const fresh = creating && !creating.used && creating.name === job.name && job._id === undefined;
      if (!fresh || job.unique || job.lockedAt) return saveJob(job, options);
      creating.used = true;
      const saved = await saveJob({ ...job, lockedAt: new Date() }, options);
      if (this.closed) {
        // The scheduler stopped taking jobs while this one was inserted.
        await repository.unlockJobs([saved._id!]);
        return { ...saved, lockedAt: undefined };
      }
      this.unannounced.add(String(saved._id));
      const list = this.waiting.get(saved.name) ?? [];
      list.push(saved);
      this.waiting.set(saved.name, list);
      return saved;
    };
    const publish = channel.publish.bind(channel);
    const deliverHere = (channel as unknown as { notifyHandlers(n: JobNotification): Promise<void> })
      .notifyHandlers;
    channel.publish = async (notification) => {
      if (!this.unannounced.delete(String(notification.jobId))) return publish(notification);
      // Nobody else may lock it: telling them would only cost each a lock attempt.
      await deliverHere.call(channel, notification);
    };
  }

  /** Jobs may be locked here again (the scheduler started). */
  open(): void {
    this.closed = false;
  }

  /**
   * Runs `create` (one Agenda save of a new `name` job): with `here`, the job it inserts is locked
   * by this process; without, it is not, whatever context the caller runs in.
   */
  create<R>(name: string, here: boolean, create: () => Promise<R>): Promise<R> {
    return here ? this.creating.run({ name, used: false }, create) : this.creating.exit(create);
  }

  /** How many jobs of `name` wait here for the job processor. */
  waitingCount(name: string): number {
    return this.waiting.get(name)?.length ?? 0;
  }

  /**
   * Hands the oldest job of `name` waiting here to the job processor (nextJobHereFirst asks here
   * before the store).
   */
  take(name: string): JobParameters | undefined {
    const list = this.waiting.get(name);
    const job = list?.shift();
    if (list && list.length === 0) this.waiting.delete(name);
    return job;
  }

  /** Unlocks the jobs still waiting here (the scheduler stops taking jobs), for any process to run. */
  async release(): Promise<void> {
    this.closed = true;
    const ids = [...this.waiting.values()].flat().map((j) => j._id!);
    this.waiting.clear();
    this.unannounced.clear();
    if (ids.length) await this.repository.unlockJobs(ids);
  }
}
