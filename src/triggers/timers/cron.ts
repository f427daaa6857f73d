/**
 * core.st2.CronTimer with APScheduler's CronTrigger semantics (st2-reference.md §3.1): fields
 * year, month, day, week, day_of_week (0 = Monday, names mon–sun), hour, minute, second, each an
 * int or an expression (`*`, `*∕n`, `a`, `a-b`, `a-b∕n`, `a∕n`, comma lists, month and weekday
 * names, and in `day`: `last`, `last fri`, `1st mon` … `5th mon`).
 *
 * Omitted fields follow APScheduler exactly: fields more significant than the least significant
 * field given are `*`; less significant ones take their minimum (hour: 5 fires at 05:00:00, not
 * every second of that hour); `week` and `day_of_week` are always `*` when omitted. With no
 * field at all the timer fires every second.
 */
import { SquallError } from '../../errors.js';
import { fromNaiveMs, instantOf, naiveMs, wallTimeOf, type WallTime } from './tz.js';

export const CRON_FIELDS = [
  'year',
  'month',
  'day',
  'week',
  'day_of_week',
  'hour',
  'minute',
  'second',
] as const;
export type CronField = (typeof CRON_FIELDS)[number];

const RANGES: Record<CronField, [number, number]> = {
  year: [1970, 9999],
  month: [1, 12],
  day: [1, 31],
  week: [1, 53],
  day_of_week: [0, 6],
  hour: [0, 23],
  minute: [0, 59],
  second: [0, 59],
};

const DEFAULTS: Record<CronField, string> = {
  year: '*',
  month: '1',
  day: '1',
  week: '*',
  day_of_week: '*',
  hour: '0',
  minute: '0',
  second: '0',
};

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const ORDINALS = ['1st', '2nd', '3rd', '4th', '5th'];

interface DateParts {
  year: number;
  month: number;
  day: number;
}

/** Matches one field's value; `day` predicates also see the whole date. */
type Predicate = (value: number, date: DateParts) => boolean;

export type CronSpec = Partial<Record<CronField, string | number>>;

export interface CompiledCron {
  /** The expressions in effect for each field after APScheduler's defaults. */
  fields: Record<CronField, string>;
  matches: Record<CronField, Predicate>;
}

function fieldError(field: CronField, expr: string, why: string): SquallError {
  return new SquallError('TIMER_CRON_INVALID', `CronTimer field "${field}": "${expr}" ${why}`, {
    field,
    expression: expr,
  });
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Monday = 0, as st2 and APScheduler number weekdays. */
export function weekdayOf(d: DateParts): number {
  return (new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay() + 6) % 7;
}

/** ISO 8601 week number (1–53). */
export function isoWeekOf(d: DateParts): number {
  const date = new Date(Date.UTC(d.year, d.month - 1, d.day));
  const weekday = (date.getUTCDay() + 6) % 7;
  date.setUTCDate(date.getUTCDate() - weekday + 3); // the Thursday of this week decides the year
  const firstThursday = new Date(Date.UTC(date.getUTCFullYear(), 0, 4));
  const firstWeekday = (firstThursday.getUTCDay() + 6) % 7;
  firstThursday.setUTCDate(firstThursday.getUTCDate() - firstWeekday + 3);
  return 1 + Math.round((date.getTime() - firstThursday.getTime()) / (7 * 86_400_000));
}

function nameIndex(field: CronField, name: string): number | undefined {
  if (field === 'month') {
    const i = MONTHS.indexOf(name);
    return i < 0 ? undefined : i + 1;
  }
  if (field === 'day_of_week') {
    const i = WEEKDAYS.indexOf(name);
    return i < 0 ? undefined : i;
  }
  return undefined;
}

function parsePart(field: CronField, part: string, whole: string): Predicate {
  const [min, max] = RANGES[field];
  const inRange = (n: number) => {
    if (n < min || n > max)
      throw fieldError(field, whole, `is out of range: ${n} is not within ${min}–${max}`);
    return n;
  };

  let m = /^\*(?:\/(\d+))?$/.exec(part);
  if (m) {
    const step = m[1] === undefined ? 1 : Number(m[1]);
    if (step < 1) throw fieldError(field, whole, 'has a step of 0');
    return (v) => (v - min) % step === 0;
  }

  m = /^(\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
  if (m) {
    const first = inRange(Number(m[1]));
    const last = m[2] !== undefined ? inRange(Number(m[2])) : m[3] !== undefined ? max : first;
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (step < 1) throw fieldError(field, whole, 'has a step of 0');
    if (last < first)
      throw fieldError(field, whole, `has a range whose end ${last} is before its start ${first}`);
    return (v) => v >= first && v <= last && (v - first) % step === 0;
  }

  m = /^([a-z]+)(?:-([a-z]+))?$/.exec(part);
  if (m && (field === 'month' || field === 'day_of_week')) {
    const first = nameIndex(field, m[1]);
    const last = m[2] === undefined ? first : nameIndex(field, m[2]);
    if (first === undefined || last === undefined) {
      const names = field === 'month' ? MONTHS : WEEKDAYS;
      throw fieldError(field, whole, `uses an unknown name (known: ${names.join(', ')})`);
    }
    if (last < first) throw fieldError(field, whole, `has a range whose end is before its start`);
    return (v) => v >= first && v <= last;
  }

  if (field === 'day') {
    if (part === 'last') return (v, d) => v === daysInMonth(d.year, d.month);
    m = /^(last|1st|2nd|3rd|4th|5th) ([a-z]+)$/.exec(part);
    if (m) {
      const weekday = WEEKDAYS.indexOf(m[2]);
      if (weekday < 0)
        throw fieldError(field, whole, `uses an unknown weekday "${m[2]}" (known: ${WEEKDAYS.join(', ')})`);
      if (m[1] === 'last') {
        return (v, d) => weekdayOf(d) === weekday && v + 7 > daysInMonth(d.year, d.month);
      }
      const nth = ORDINALS.indexOf(m[1]) + 1;
      return (v, d) => weekdayOf(d) === weekday && Math.ceil(v / 7) === nth;
    }
  }
  throw fieldError(
    field,
    whole,
    'is not a cron expression (expected *, */n, a, a-b, a-b/n or a list of those)',
  );
}

function parseField(field: CronField, expr: string): Predicate {
  const text = expr.trim().toLowerCase();
  if (text === '') throw fieldError(field, expr, 'is empty');
  const parts = text.split(',').map((p) => p.trim());
  const predicates = parts.map((p) => parsePart(field, p, expr));
  return predicates.length === 1 ? predicates[0] : (v, d) => predicates.some((p) => p(v, d));
}

/** Applies APScheduler's defaults and compiles each field; throws TIMER_CRON_INVALID naming the field. */
export function compileCron(spec: CronSpec): CompiledCron {
  for (const key of Object.keys(spec)) {
    if (!(CRON_FIELDS as readonly string[]).includes(key)) {
      throw new SquallError(
        'TIMER_CRON_INVALID',
        `CronTimer has an unknown field "${key}" (known: ${CRON_FIELDS.join(', ')})`,
        {
          field: key,
        },
      );
    }
  }
  const given = CRON_FIELDS.filter((f) => spec[f] !== undefined && spec[f] !== null);
  const lastGiven = given.length ? CRON_FIELDS.indexOf(given[given.length - 1]) : -1;
  const fields = {} as Record<CronField, string>;
  const matches = {} as Record<CronField, Predicate>;
  CRON_FIELDS.forEach((field, i) => {
    const raw = spec[field];
    let expr: string;
    if (raw !== undefined && raw !== null) {
      if (typeof raw !== 'string' && typeof raw !== 'number') {
        throw fieldError(field, JSON.stringify(raw), 'must be a string or an integer');
      }
      if (typeof raw === 'number' && !Number.isInteger(raw))
        throw fieldError(field, String(raw), 'must be an integer');
      expr = String(raw);
    } else if (lastGiven >= 0 && i > lastGiven) {
      expr = DEFAULTS[field];
    } else {
      expr = '*';
    }
    fields[field] = expr;
    matches[field] = parseField(field, expr);
  });
  return { fields, matches };
}

function dayMatches(c: CompiledCron, w: WallTime): boolean {
  return c.matches.day(w.day, w) && c.matches.week(isoWeekOf(w), w) && c.matches.day_of_week(weekdayOf(w), w);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The first instant strictly after `afterMs` whose local time in `timezone` matches, or null when
 * there is none before year 9999. Local times skipped by a DST change do not fire; a local time
 * that occurs twice fires at its first occurrence.
 */
export function nextCronTime(c: CompiledCron, afterMs: number, timezone: string): number | null {
  const startSecond = Math.floor(afterMs / SECOND) * SECOND + SECOND;
  let naive = naiveMs(wallTimeOf(startSecond, timezone));
  const lastYear = RANGES.year[1];
  for (let guard = 0; guard < 5_000_000; guard++) {
    const w = fromNaiveMs(naive);
    if (w.year > lastYear) return null;
    if (!c.matches.year(w.year, w)) {
      let y = w.year + 1;
      while (y <= lastYear && !c.matches.year(y, { year: y, month: 1, day: 1 })) y++;
      if (y > lastYear) return null;
      naive = naiveMs({ year: y, month: 1, day: 1, hour: 0, minute: 0, second: 0 });
    } else if (!c.matches.month(w.month, w)) {
      naive = naiveMs({ ...w, month: w.month + 1, day: 1, hour: 0, minute: 0, second: 0 });
    } else if (!dayMatches(c, w)) {
      naive = naiveMs({ ...w, day: w.day + 1, hour: 0, minute: 0, second: 0 });
    } else if (!c.matches.hour(w.hour, w)) {
      naive = naiveMs({ ...w, minute: 0, second: 0 }) + HOUR;
    } else if (!c.matches.minute(w.minute, w)) {
      naive = naiveMs({ ...w, second: 0 }) + MINUTE;
    } else if (!c.matches.second(w.second, w)) {
      naive += SECOND;
    } else {
      const instant = instantOf(w, timezone);
      if (instant !== null && instant > afterMs) return instant;
      naive += SECOND;
    }
  }
  throw new SquallError('TIMER_CRON_UNREACHABLE', 'CronTimer: gave up looking for the next matching time', {
    fields: c.fields,
    after: new Date(afterMs).toISOString(),
  });
}
