import { describe, expect, it } from 'vitest';
import { planTicks, type CatchUpPolicy } from '../../../src/triggers/timers/index.js';

const MIN = 60_000;
const every = (period: number) => (after: number) => (Math.floor(after / period) + 1) * period;

/** A 1-minute timer that was due at minute 0 and is run at minute 10 + 30 s (10 ticks missed). */
function afterOutage(policy: CatchUpPolicy, limit = 100) {
  return planTicks({ due: 0, now: 10 * MIN + 30_000, next: every(MIN), policy, graceMs: 45_000, limit });
}

describe('timer catch-up policy', () => {
  it('on time: fires the due tick and waits for the next', () => {
    const plan = planTicks({
      due: 5 * MIN,
      now: 5 * MIN + 40,
      next: every(MIN),
      policy: 'skip',
      graceMs: 15_000,
      limit: 10,
    });
    expect(plan).toEqual({ fire: [5 * MIN], missed: 0, dropped: 0, next: 6 * MIN });
  });

  it('skip (default): drops the ticks missed beyond the grace, fires the ones within it', () => {
    const plan = afterOutage('skip');
    // minutes 0..9 are more than 45 s late; minute 10 is 30 s late, within the grace
    expect(plan.fire).toEqual([10 * MIN]);
    expect(plan.missed).toBe(10);
    expect(plan.dropped).toBe(10);
    expect(plan.next).toBe(11 * MIN);
  });

  it('once: one instance for all missed ticks, stamped with the latest of them', () => {
    const plan = afterOutage('once');
    expect(plan.fire).toEqual([9 * MIN, 10 * MIN]);
    expect(plan.missed).toBe(10);
    expect(plan.dropped).toBe(9);
  });

  it('all: every missed tick, oldest first, up to the limit (the most recent ones)', () => {
    expect(afterOutage('all').fire).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((m) => m * MIN));
    const limited = afterOutage('all', 3);
    expect(limited.fire).toEqual([7 * MIN, 8 * MIN, 9 * MIN, 10 * MIN]);
    expect(limited.dropped).toBe(7);
  });

  it('a timer with no further tick (a DateTimer) ends after its catch-up', () => {
    const once = (after: number) => (after < 1000 ? 1000 : null);
    const skipped = planTicks({
      due: 1000,
      now: 10 * MIN,
      next: once,
      policy: 'skip',
      graceMs: 1000,
      limit: 10,
    });
    expect(skipped).toEqual({ fire: [], missed: 1, dropped: 1, next: null });
    const caught = planTicks({
      due: 1000,
      now: 10 * MIN,
      next: once,
      policy: 'once',
      graceMs: 1000,
      limit: 10,
    });
    expect(caught.fire).toEqual([1000]);
  });

  it('a very long outage of a per-second timer resumes at the grace window', () => {
    const plan = planTicks({
      due: 0,
      now: 86_400_000 * 30,
      next: every(1000),
      policy: 'skip',
      graceMs: 2000,
      limit: 10,
    });
    expect(plan.fire).toEqual([86_400_000 * 30 - 2000, 86_400_000 * 30 - 1000, 86_400_000 * 30]);
    expect(plan.next).toBe(86_400_000 * 30 + 1000);
  });
});
