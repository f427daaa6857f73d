import type { JobRepository } from 'agenda';
import { SerialPerKey } from '../serial.js';

/**
 * Makes a job repository's getNextJobToRun run one call at a time per job name in this process.
 *
 * Agenda fills its queue once per new-job notification, so under load many calls for one name
 * run at once. On the embedded store each found the same oldest candidate and all but one lost
 * the compare-and-set and retried (9627 lock updates for 1980 jobs in the webhook benchmark,
 * 1991 after). On FerretDB, whose findOneAndUpdate is not atomic, two concurrent calls could both
 * "lock" the same job, so it ran twice in one process. One at a time, each call finds a job
 * nobody in this process holds; between processes, the claims taken by the job handlers decide.
 */
export function oneLockAtATime(repository: JobRepository): void {
  const lockNext = repository.getNextJobToRun.bind(repository);
  const perName = new SerialPerKey();
  repository.getNextJobToRun = (jobName, ...rest) => perName.run(jobName, () => lockNext(jobName, ...rest));
}
