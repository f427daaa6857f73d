import type { JobRepository } from 'agenda';

interface SavedState {
  _id?: unknown;
  lockedAt?: Date | null;
  nextRunAt?: Date | null;
  repeatInterval?: unknown;
  repeatAt?: unknown;
}

const oneTime = (job: SavedState) => !job.repeatInterval && !job.repeatAt;

/**
 * Agenda runs a job as: lock, save its state (lastRunAt; a one-time job's nextRunAt cleared), run,
 * save its state (unlocked), and a one-time job that succeeded is then removed. On MongoDB each is
 * a round trip, six per job with its insert; on the embedded store each reads, parses, serializes
 * and rewrites the job's row. Two of them change nothing anyone reads:
 * - The save as a one-time job starts: the lock already keeps every other process off it until
 *   the lock lifetime lapses (then Agenda's query takes it over, whatever its nextRunAt), and this
 *   process unlocks only jobs it has not started. Skipped; a touch and the save at the end write
 *   the whole state, as before.
 * - The save at the end of a run that is removed at once: held until the end of this turn of the
 *   event loop (Agenda removes a succeeded one-time job in the same turn), dropped if the removal
 *   comes, written if not (a failed run, a kept job) or if the removal fails.
 * A repeating job's saves are all written (the first sets its next run).
 */
export function fewerOneTimeSaves(repository: JobRepository): (job: { _id?: unknown }) => void {
  const lockJob = repository.lockJob.bind(repository);
  const saveJobState = repository.saveJobState.bind(repository);
  const removeJobs = repository.removeJobs.bind(repository);
  /** Jobs this process locked and has not saved since: the next save is the run's first. */
  const locked = new Set<string>();
  /** End-of-run saves held for a removal, by job id. */
  const held = new Map<string, () => Promise<void>>();
  const lockedHere = <J extends { _id?: unknown } | undefined>(job: J): J => {
    if (job?._id !== undefined) locked.add(String(job._id));
    return job;
  };
  repository.lockJob = async (...args) => lockedHere(await lockJob(...args));
  const unlockJob = repository.unlockJob.bind(repository);
  const unlockJobs = repository.unlockJobs.bind(repository);
  repository.unlockJob = async (job) => {
    if (job._id !== undefined) locked.delete(String(job._id));
    return unlockJob(job);
  };
  repository.unlockJobs = async (ids) => {
    for (const id of ids) locked.delete(String(id));
    return unlockJobs(ids);
  };
  repository.saveJobState = async (job, options) => {
    const state = job as SavedState;
    const id = state._id === undefined ? undefined : String(state._id);
    const starting = id !== undefined && locked.delete(id);
    if (id === undefined || !oneTime(state)) return saveJobState(job, options);
    if (starting && state.lockedAt && !state.nextRunAt) return;
    if (state.lockedAt) return saveJobState(job, options);
    const write = () => saveJobState(job, options);
    held.set(id, write);
    setImmediate(() => {
      if (held.get(id) !== write) return;
      held.delete(id);
      // Agenda ignores a failed end-of-run save too.
      write().catch(() => undefined);
    });
  };
  repository.removeJobs = async (options) => {
    const id = options.id !== undefined && !options.ids && !options.name ? String(options.id) : undefined;
    const write = id !== undefined ? held.get(id) : undefined;
    if (id !== undefined) held.delete(id);
    try {
      return await removeJobs(options);
    } catch (err) {
      if (write) await write().catch(() => undefined);
      throw err;
    }
  };
  // A job locked through getNextJobToRun, by the store or by LocalJobs, is announced here
  // (nextJobHereFirst).
  return lockedHere;
}
