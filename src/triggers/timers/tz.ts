/**
 * Wall-clock arithmetic in an IANA timezone with nothing but Intl: enough for timers, which only
 * need "what is the local time at this instant" and "which instant has this local time".
 */
import { SquallError } from '../../errors.js';

/** A local date-time; month 1–12, like the cron fields. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** Throws TIMER_TIMEZONE_INVALID unless Intl knows the zone; returns its canonical name. */
export function checkTimezone(timezone: string, where: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw new SquallError(
      'TIMER_TIMEZONE_INVALID',
      `${where}: timezone "${timezone}" is not an IANA timezone name (e.g. "UTC", "Europe/Paris")`,
      { timezone, field: 'timezone' },
    );
  }
}

/** The local wall time of an instant in a timezone. */
export function wallTimeOf(instantMs: number, timezone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timezone).formatToParts(new Date(instantMs))) parts[p.type] = p.value;
  const y = Number(parts.year);
  return {
    year: parts.era === 'BC' || parts.era === 'B' ? 1 - y : y,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** The wall time read as if it were UTC: a plain number to compare and step local times. */
export function naiveMs(w: WallTime): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, 0);
  return d.getTime();
}

export function fromNaiveMs(ms: number): WallTime {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** Offset of the timezone from UTC at an instant, in ms (local − UTC). */
export function offsetAt(instantMs: number, timezone: string): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  return naiveMs(wallTimeOf(whole, timezone)) - whole;
}

/**
 * The instant at which the clocks of `timezone` show `w`. When the local time occurs twice (the
 * hour repeated when clocks go back) the earlier instant is returned; when it never occurs (the
 * hour skipped when clocks go forward) the answer is null.
 */
export function instantOf(w: WallTime, timezone: string): number | null {
  const naive = naiveMs(w);
  const DAY = 86_400_000;
  const offsets = new Set([
    offsetAt(naive - DAY, timezone),
    offsetAt(naive, timezone),
    offsetAt(naive + DAY, timezone),
  ]);
  const matches: number[] = [];
  for (const off of offsets) {
    const candidate = naive - off;
    if (naiveMs(wallTimeOf(candidate, timezone)) === naive) matches.push(candidate);
  }
  return matches.length ? Math.min(...matches) : null;
}
