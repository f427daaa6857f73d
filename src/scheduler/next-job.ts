import type { JobParameters, JobRepository } from 'agenda';
import type { LocalJobs } from './local-jobs.js';

/**
 * The one wrapper of Agenda's getNextJobToRun that the scheduler's own bookkeeping needs, put on
 * last (outermost, over oneLockAtATime and the FerretDB view) so that its order is the one below:
 * 1. a job this process inserted locked (LocalJobs) is handed over first, without asking the store
 *    and without queueing behind a lock question in flight for the name: its notification reaches
 *    this process's handlers before any other lock question could take a job out of order;
 * 2. else the store's lock question;
 * 3. whichever job comes is locked here, which fewerOneTimeSaves is told (its run's first save is
 *    skipped).
 */
export function nextJobHereFirst(
  repository: JobRepository,
  local: LocalJobs | undefined,
  lockedHere: (job: JobParameters) => void,
): void {
  const next = repository.getNextJobToRun.bind(repository);
  repository.getNextJobToRun = async (jobName, ...rest) => {
    const job = local?.take(jobName) ?? (await next(jobName, ...rest));
    if (job) lockedHere(job);
    return job;
  };
}
