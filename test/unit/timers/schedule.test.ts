import { describe, expect, it } from 'vitest';
import {
  CRON_TIMER,
  DATE_TIMER,
  INTERVAL_TIMER,
  isoWeekOf,
  timerSchedule,
  weekdayOf,
} from '../../../src/triggers/timers/index.js';
import { SquallError } from '../../../src/errors.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The next `n` fire times after `from`. */
function nextTimes(
  type: string,
  parameters: Record<string, unknown>,
  from: string,
  n: number,
): Array<string | null> {
  const s = timerSchedule(type, parameters);
  const out: Array<string | null> = [];
  let t: number | null = at(from);
  for (let i = 0; i < n && t !== null; i++) {
    t = s.next(t);
    out.push(iso(t));
  }
  return out;
}

function errorOf(fn: () => unknown): SquallError {
  try {
    fn();
  } catch (err) {
    return err as SquallError;
  }
  throw new Error('expected an error');
}

describe('IntervalTimer', () => {
  it('ticks every delta units counted from its anchor, whatever time it is asked from', () => {
    const s = timerSchedule(INTERVAL_TIMER, { unit: 'minutes', delta: 5 });
    const anchor = at('2030-01-01T00:00:00Z');
    expect(iso(s.next(anchor, anchor))).toBe('2030-01-01T00:05:00.000Z');
    expect(iso(s.next(at('2030-01-01T00:07:12Z'), anchor))).toBe('2030-01-01T00:10:00.000Z');
    expect(iso(s.next(at('2030-01-01T00:10:00Z'), anchor))).toBe('2030-01-01T00:15:00.000Z');
    expect(iso(s.first(anchor))).toBe('2030-01-01T00:05:00.000Z');
  });

  it('supports every st2 unit', () => {
    const anchor = at('2030-01-01T00:00:00Z');
    const expected: Record<string, string> = {
      seconds: '2030-01-01T00:00:02.000Z',
      minutes: '2030-01-01T00:02:00.000Z',
      hours: '2030-01-01T02:00:00.000Z',
      days: '2030-01-03T00:00:00.000Z',
      weeks: '2030-01-15T00:00:00.000Z',
    };
    for (const [unit, want] of Object.entries(expected)) {
      expect(iso(timerSchedule(INTERVAL_TIMER, { unit, delta: 2 }).next(anchor, anchor))).toBe(want);
    }
  });

  it('rejects a bad unit or delta, naming the parameter', () => {
    const unit = errorOf(() => timerSchedule(INTERVAL_TIMER, { unit: 'fortnights', delta: 1 }));
    expect(unit.code).toBe('TIMER_PARAMETERS_INVALID');
    expect(unit.message).toContain('"unit"');
    const delta = errorOf(() => timerSchedule(INTERVAL_TIMER, { unit: 'seconds', delta: 0 }));
    expect(delta.message).toContain('"delta"');
    expect(delta.context.value).toBe(0);
  });
});

describe('DateTimer', () => {
  it('fires once, at a local time of its timezone', () => {
    const s = timerSchedule(DATE_TIMER, { date: '2030-01-31 09:00:00', timezone: 'Europe/Paris' });
    expect(iso(s.first(at('2030-01-01T00:00:00Z')))).toBe('2030-01-31T08:00:00.000Z');
    expect(s.next(at('2030-01-31T08:00:00Z'))).toBeNull();
  });

  it('reads a date without timezone as UTC and honours an explicit offset', () => {
    expect(iso(timerSchedule(DATE_TIMER, { date: '2030-06-01T12:30:00' }).first(0))).toBe(
      '2030-06-01T12:30:00.000Z',
    );
    expect(
      iso(timerSchedule(DATE_TIMER, { date: '2030-06-01 12:30:00+02:00', timezone: 'Asia/Tokyo' }).first(0)),
    ).toBe('2030-06-01T10:30:00.000Z');
  });

  it('does not fire for a date already past', () => {
    expect(timerSchedule(DATE_TIMER, { date: '2001-01-01 00:00:00' }).first(Date.now())).toBeNull();
  });

  it('rejects an unreadable date and an unknown timezone', () => {
    expect(errorOf(() => timerSchedule(DATE_TIMER, { date: 'tomorrow' })).message).toContain('"date"');
    const tz = errorOf(() => timerSchedule(DATE_TIMER, { date: '2030-01-01', timezone: 'Mars/Olympus' }));
    expect(tz.code).toBe('TIMER_TIMEZONE_INVALID');
    expect(tz.message).toContain('Mars/Olympus');
  });
});

describe('CronTimer (APScheduler semantics)', () => {
  it('numbers weekdays from Monday = 0, as st2 does', () => {
    // 2030-01-05 is a Saturday.
    expect(weekdayOf({ year: 2030, month: 1, day: 7 })).toBe(0);
    expect(nextTimes(CRON_TIMER, { day_of_week: 0, hour: 8 }, '2030-01-05T00:00:00Z', 2)).toEqual([
      '2030-01-07T08:00:00.000Z',
      '2030-01-14T08:00:00.000Z',
    ]);
    expect(nextTimes(CRON_TIMER, { day_of_week: 6, hour: 8 }, '2030-01-05T00:00:00Z', 1)).toEqual([
      '2030-01-06T08:00:00.000Z',
    ]);
  });

  it('understands weekday names and ranges: mon-fri skips the weekend', () => {
    expect(
      nextTimes(CRON_TIMER, { day_of_week: 'mon-fri', hour: 9, minute: 30 }, '2030-01-04T10:00:00Z', 3),
    ).toEqual(['2030-01-07T09:30:00.000Z', '2030-01-08T09:30:00.000Z', '2030-01-09T09:30:00.000Z']);
  });

  it('gives fields after the last one given their minimum and the ones before it *', () => {
    // hour only: once a day at 05:00:00, not every second of 5 o'clock
    expect(nextTimes(CRON_TIMER, { hour: 5 }, '2030-01-01T05:00:00Z', 2)).toEqual([
      '2030-01-02T05:00:00.000Z',
      '2030-01-03T05:00:00.000Z',
    ]);
    // minute only: every hour at :30:00
    expect(nextTimes(CRON_TIMER, { minute: 30 }, '2030-01-01T05:40:00Z', 2)).toEqual([
      '2030-01-01T06:30:00.000Z',
      '2030-01-01T07:30:00.000Z',
    ]);
    // nothing: every second
    expect(nextTimes(CRON_TIMER, {}, '2030-01-01T05:40:00.400Z', 2)).toEqual([
      '2030-01-01T05:40:01.000Z',
      '2030-01-01T05:40:02.000Z',
    ]);
  });

  it('supports steps, ranges with steps and lists', () => {
    expect(nextTimes(CRON_TIMER, { minute: '*/15' }, '2030-01-01T00:07:00Z', 3)).toEqual([
      '2030-01-01T00:15:00.000Z',
      '2030-01-01T00:30:00.000Z',
      '2030-01-01T00:45:00.000Z',
    ]);
    expect(nextTimes(CRON_TIMER, { hour: '8-12/2', minute: 0 }, '2030-01-01T09:00:00Z', 3)).toEqual([
      '2030-01-01T10:00:00.000Z',
      '2030-01-01T12:00:00.000Z',
      '2030-01-02T08:00:00.000Z',
    ]);
    expect(nextTimes(CRON_TIMER, { month: 'jan,jul', day: 1, hour: 0 }, '2030-01-02T00:00:00Z', 2)).toEqual([
      '2030-07-01T00:00:00.000Z',
      '2031-01-01T00:00:00.000Z',
    ]);
  });

  it("supports APScheduler's day expressions: last, last fri, 2nd tue", () => {
    expect(nextTimes(CRON_TIMER, { day: 'last', hour: 0 }, '2030-02-01T00:00:00Z', 2)).toEqual([
      '2030-02-28T00:00:00.000Z',
      '2030-03-31T00:00:00.000Z',
    ]);
    expect(nextTimes(CRON_TIMER, { day: 'last fri', hour: 0 }, '2030-01-01T00:00:00Z', 1)).toEqual([
      '2030-01-25T00:00:00.000Z',
    ]);
    expect(nextTimes(CRON_TIMER, { day: '2nd tue', hour: 0 }, '2030-01-01T00:00:00Z', 1)).toEqual([
      '2030-01-08T00:00:00.000Z',
    ]);
  });

  it('matches ISO week numbers and years', () => {
    expect(isoWeekOf({ year: 2030, month: 12, day: 30 })).toBe(1); // belongs to 2031-W01
    expect(
      nextTimes(CRON_TIMER, { year: 2031, week: 2, day_of_week: 'wed', hour: 0 }, '2030-01-01T00:00:00Z', 2),
    ).toEqual(['2031-01-08T00:00:00.000Z', null]);
  });

  it('evaluates the schedule in its timezone, across a DST change', () => {
    // 09:00 in New York is 14:00Z in winter (EST) and 13:00Z in summer (EDT).
    expect(
      nextTimes(CRON_TIMER, { hour: 9, timezone: 'America/New_York' }, '2030-01-10T00:00:00Z', 1),
    ).toEqual(['2030-01-10T14:00:00.000Z']);
    expect(
      nextTimes(CRON_TIMER, { hour: 9, timezone: 'America/New_York' }, '2030-07-10T00:00:00Z', 1),
    ).toEqual(['2030-07-10T13:00:00.000Z']);
    // 02:30 does not exist in Paris on 2030-03-31 (clocks jump from 02:00 to 03:00): that day is skipped.
    expect(
      nextTimes(CRON_TIMER, { hour: 2, minute: 30, timezone: 'Europe/Paris' }, '2030-03-30T12:00:00Z', 2),
    ).toEqual(['2030-04-01T00:30:00.000Z', '2030-04-02T00:30:00.000Z']);
    // 02:30 happens twice on 2030-10-27: it fires once, at the first.
    expect(
      nextTimes(CRON_TIMER, { hour: 2, minute: 30, timezone: 'Europe/Paris' }, '2030-10-26T12:00:00Z', 2),
    ).toEqual(['2030-10-27T00:30:00.000Z', '2030-10-28T01:30:00.000Z']);
  });

  it('rejects bad fields, naming the field and why', () => {
    const range = errorOf(() => timerSchedule(CRON_TIMER, { hour: 25 }));
    expect(range.code).toBe('TIMER_PARAMETERS_INVALID');
    expect(range.message).toMatch(/"hour".*out of range/);
    expect(errorOf(() => timerSchedule(CRON_TIMER, { day_of_week: 'mon-funday' })).message).toContain(
      'day_of_week',
    );
    expect(errorOf(() => timerSchedule(CRON_TIMER, { minutes: 5 })).message).toContain('"minutes"');
  });
});
