import type { Job } from 'agenda';
import type { Logger } from '../log/index.js';

interface Held {
  job: Job<unknown>;
  /** A third of the job's lock lifetime: how often its lock is renewed while it runs. */
  every: number;
  /** When its lock is next renewed (ms epoch). */
  due: number;
  touching: boolean;
}

/**
 * Renews the locks of the jobs this process is running, every third of each job's lock lifetime,
 * through one timer for all of them. Most runs end long before their first renewal: a timer of
 * their own (a setInterval per run, one per webhook) was made and cleared for nothing. The one
 * timer is armed for the earliest renewal due and left to lapse when no run is left, so runs that
 * start and end in between cost no timer at all.
 */
export class LockKeeper {
  private readonly held = new Set<Held>();
  private timer?: NodeJS.Timeout;
  /** When the armed timer fires (ms epoch); Infinity when none is armed. */
  private timerAt = Infinity;

  constructor(private readonly logger: Logger) {}

  /** Keeps `job`'s lock while it runs; the returned function ends that (the run ended). */
  hold(job: Job<unknown>, lockLifetimeMs: number): () => void {
    const every = Math.max(100, Math.floor(lockLifetimeMs / 3));
    const held: Held = { job, every, due: Date.now() + every, touching: false };
    this.held.add(held);
    this.arm(held.due);
    return () => this.held.delete(held);
  }

  private arm(at: number): void {
    if (this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.renew(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private renew(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const held of this.held) {
      if (held.due <= now) {
        held.due = now + held.every;
        // A renewal still on its way (a slow store) is not sent again.
        if (!held.touching) this.touch(held);
      }
      next = Math.min(next, held.due);
    }
    if (next < Infinity) this.arm(next);
  }

  private touch(held: Held): void {
    held.touching = true;
    held.job
      .touch()
      .catch((err: unknown) =>
        this.logger.warn({ err, job: held.job.attrs.name }, 'could not renew a job lock'),
      )
      .finally(() => (held.touching = false));
  }
}
