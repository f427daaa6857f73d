/**
 * The three timer trigger types of st2-reference.md §3.1 as schedules: validation of a rule's
 * trigger parameters and "when is the next tick after t".
 */
import { SquallError } from '../../errors.js';
import { compileCron, nextCronTime, type CompiledCron, type CronSpec, CRON_FIELDS } from './cron.js';
import { checkTimezone, instantOf } from './tz.js';

export const INTERVAL_TIMER = 'core.st2.IntervalTimer';
export const DATE_TIMER = 'core.st2.DateTimer';
export const CRON_TIMER = 'core.st2.CronTimer';
export const TIMER_TYPES = [INTERVAL_TIMER, DATE_TIMER, CRON_TIMER] as const;
export type TimerType = (typeof TIMER_TYPES)[number];

export function isTimerType(ref: unknown): ref is TimerType {
  return (TIMER_TYPES as readonly unknown[]).includes(ref);
}

const UNIT_MS = {
  weeks: 7 * 86_400_000,
  days: 86_400_000,
  hours: 3_600_000,
  minutes: 60_000,
  seconds: 1000,
} as const;
export type IntervalUnit = keyof typeof UNIT_MS;
/** The longest interval: beyond it a tick's date is past what a Date holds (delta 1e300 broke reconcile). */
const MAX_INTERVAL_MS = 100 * 365 * 86_400_000;

/** A validated timer: its identity and its next-tick function. */
export interface TimerSchedule {
  type: TimerType;
  parameters: Record<string, unknown>;
  timezone: string;
  /**
   * The first tick strictly after `afterMs`, or null when the timer never fires again.
   * IntervalTimer ticks are counted from `anchorMs` (its first tick), so every process agrees.
   */
  next(afterMs: number, anchorMs?: number): number | null;
  /** When a newly created timer first fires. */
  first(nowMs: number): number | null;
  /** Human summary, e.g. "every 5 minutes". */
  describe(): string;
}

function paramError(type: string, field: string, why: string, value: unknown): SquallError {
  return new SquallError('TIMER_PARAMETERS_INVALID', `${type} parameter "${field}" ${why}`, {
    type,
    field,
    value,
  });
}

function timezoneOf(type: string, parameters: Record<string, unknown>): string {
  const tz = parameters.timezone;
  if (tz === undefined || tz === null || tz === '') return 'UTC';
  if (typeof tz !== 'string')
    throw paramError(type, 'timezone', 'must be a string (an IANA timezone name)', tz);
  return checkTimezone(tz, `${type} parameter "timezone"`);
}

function intervalSchedule(parameters: Record<string, unknown>): TimerSchedule {
  const type = INTERVAL_TIMER;
  const unit = parameters.unit;
  if (typeof unit !== 'string' || !(unit in UNIT_MS)) {
    throw paramError(type, 'unit', `must be one of ${Object.keys(UNIT_MS).join(', ')}`, unit);
  }
  const rawDelta = parameters.delta;
  const delta = typeof rawDelta === 'string' && /^\d+$/.test(rawDelta.trim()) ? Number(rawDelta) : rawDelta;
  if (typeof delta !== 'number' || !Number.isInteger(delta) || delta < 1) {
    throw paramError(type, 'delta', 'must be a whole number of at least 1', rawDelta);
  }
  const period = delta * UNIT_MS[unit as IntervalUnit];
  if (period > MAX_INTERVAL_MS) {
    const most = Math.floor(MAX_INTERVAL_MS / UNIT_MS[unit as IntervalUnit]);
    throw paramError(type, 'delta', `must be at most ${most} ${unit} (100 years)`, rawDelta);
  }
  const timezone = timezoneOf(type, parameters);
  return {
    type,
    parameters,
    timezone,
    first: (now) => now + period,
    next(after, anchor) {
      const base = anchor ?? after;
      if (after < base) return base;
      return base + (Math.floor((after - base) / period) + 1) * period;
    },
    describe: () => `every ${delta} ${delta === 1 ? unit.replace(/s$/, '') : unit}`,
  };
}

/**
 * st2 parses DateTimer dates with dateutil: an explicit offset wins, otherwise the date is a local
 * time in the timer's timezone.
 */
function parseDate(value: unknown, timezone: string): number {
  const type = DATE_TIMER;
  if (typeof value !== 'string' || value.trim() === '') {
    throw paramError(type, 'date', 'is required: a date-time such as "2030-01-31 09:00:00"', value);
  }
  const text = value.trim();
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(
      text,
    );
  if (!m)
    throw paramError(
      type,
      'date',
      'is not a date-time (expected YYYY-MM-DD HH:MM:SS, optionally with an offset)',
      value,
    );
  if (m[7]) {
    const ms = Date.parse(text.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    if (Number.isNaN(ms)) throw paramError(type, 'date', 'is not a valid date-time', value);
    return ms;
  }
  const wall = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
  };
  if (
    wall.month < 1 ||
    wall.month > 12 ||
    wall.day < 1 ||
    wall.day > 31 ||
    wall.hour > 23 ||
    wall.minute > 59 ||
    wall.second > 59
  ) {
    throw paramError(type, 'date', 'has a field out of range', value);
  }
  const instant = instantOf(wall, timezone);
  if (instant === null) {
    throw paramError(
      type,
      'date',
      `names a local time that does not exist in ${timezone} (skipped by a DST change)`,
      value,
    );
  }
  return instant;
}

function dateSchedule(parameters: Record<string, unknown>): TimerSchedule {
  const timezone = timezoneOf(DATE_TIMER, parameters);
  const at = parseDate(parameters.date, timezone);
  return {
    type: DATE_TIMER,
    parameters,
    timezone,
    first: (now) => (at > now ? at : null),
    next: (after) => (at > after ? at : null),
    describe: () => `once at ${new Date(at).toISOString()}`,
  };
}

function cronSchedule(parameters: Record<string, unknown>): TimerSchedule {
  const timezone = timezoneOf(CRON_TIMER, parameters);
  const spec: CronSpec = {};
  for (const [k, v] of Object.entries(parameters)) {
    if (k === 'timezone') continue;
    if (!(CRON_FIELDS as readonly string[]).includes(k)) {
      throw paramError(
        CRON_TIMER,
        k,
        `is not a CronTimer parameter (known: timezone, ${CRON_FIELDS.join(', ')})`,
        v,
      );
    }
    spec[k as keyof CronSpec] = v as string | number;
  }
  let compiled: CompiledCron;
  try {
    compiled = compileCron(spec);
  } catch (err) {
    if (err instanceof SquallError) {
      throw new SquallError('TIMER_PARAMETERS_INVALID', err.message, { type: CRON_TIMER, ...err.context });
    }
    throw err;
  }
  return {
    type: CRON_TIMER,
    parameters,
    timezone,
    first: (now) => nextCronTime(compiled, now, timezone),
    next: (after) => nextCronTime(compiled, after, timezone),
    describe: () => `cron ${CRON_FIELDS.map((f) => `${f}=${compiled.fields[f]}`).join(' ')} (${timezone})`,
  };
}

/** Validates a timer's parameters and returns its schedule; throws TIMER_PARAMETERS_INVALID. */
export function timerSchedule(
  type: string,
  parameters: Record<string, unknown> | undefined | null,
): TimerSchedule {
  const params = parameters ?? {};
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw paramError(type, 'parameters', 'must be an object', parameters);
  }
  switch (type) {
    case INTERVAL_TIMER:
      return intervalSchedule(params);
    case DATE_TIMER:
      return dateSchedule(params);
    case CRON_TIMER:
      return cronSchedule(params);
    default:
      throw new SquallError(
        'TIMER_TYPE_UNKNOWN',
        `"${type}" is not a timer trigger type (known: ${TIMER_TYPES.join(', ')})`,
        {
          type,
        },
      );
  }
}

/**
 * What is wrong with a timer's parameters: the parameter at fault (absent when it is the whole
 * object) and why; undefined when the timer is valid.
 */
export function timerProblem(
  type: TimerType,
  parameters: Record<string, unknown>,
): { field?: string; message: string } | undefined {
  try {
    timerSchedule(type, parameters);
    return undefined;
  } catch (err) {
    if (!(err instanceof SquallError)) throw err;
    const field = (err.context as { field?: string } | undefined)?.field;
    return { ...(field && field !== 'parameters' ? { field } : {}), message: err.message };
  }
}
