/**
 * What a timer does with ticks that came due while no process could fire them (downtime, a long
 * pause). A tick later than `graceMs` is "missed"; the policy (config `timers.catch_up`) decides:
 *
 * - `skip` (default, st2's behaviour): missed ticks are dropped; the timer resumes at its next tick.
 * - `once`: one trigger instance stands for all missed ticks, stamped with the latest of them.
 * - `all`: every missed tick fires (at most `limit`, the most recent ones; older ones are dropped).
 *
 * Ticks that are late by no more than `graceMs` are not missed: each of them fires.
 */
export type CatchUpPolicy = 'skip' | 'once' | 'all';
export const CATCH_UP_POLICIES: readonly CatchUpPolicy[] = ['skip', 'once', 'all'];

export interface TickPlanInput {
  /** The tick the timer was waiting for. */
  due: number;
  now: number;
  /** The first tick strictly after the one given, or null. */
  next: (afterMs: number) => number | null;
  policy: CatchUpPolicy;
  graceMs: number;
  /** Most missed ticks the `all` policy fires. */
  limit: number;
}

export interface TickPlan {
  /** Ticks to fire now, oldest first. */
  fire: number[];
  /** How many ticks were missed (beyond the grace), fired or not. */
  missed: number;
  /** Missed ticks not fired. */
  dropped: number;
  /** The tick to wait for next (after `now`), or null when the timer is over. */
  next: number | null;
}

/** Past this many ticks the scan jumps ahead; the counts then are lower bounds. */
const MAX_SCAN = 100_000;

export function planTicks(input: TickPlanInput): TickPlan {
  const { now, policy, graceMs } = input;
  const limit = Math.max(1, input.limit);
  const onTime: number[] = [];
  const missedKept: number[] = [];
  let missed = 0;
  let t: number | null = input.due;
  let scanned = 0;
  while (t !== null && t <= now) {
    if (now - t > graceMs) {
      missed++;
      if (policy === 'all') {
        missedKept.push(t);
        if (missedKept.length > limit) missedKept.shift();
      } else if (policy === 'once') {
        missedKept[0] = t;
      }
    } else {
      onTime.push(t);
    }
    if (++scanned >= MAX_SCAN && now - t > graceMs) {
      // A very long outage of a very frequent timer: resume at the grace window.
      t = input.next(now - graceMs - 1);
      continue;
    }
    t = input.next(t);
  }
  const fire = policy === 'skip' ? onTime : [...missedKept, ...onTime];
  return { fire, missed, dropped: missed - (policy === 'skip' ? 0 : missedKept.length), next: t };
}
