import { SquallError } from '../errors.js';
import type { LoginThrottleSettings } from './config.js';

/**
 * Counts failed logins per user name and per client address in a sliding window. Beyond the
 * limit a login is refused before its password is checked, so guessing costs the guesser time
 * and the server no scrypt work. The counts live in this process.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly settings: LoginThrottleSettings) {}

  private recent(key: string, now: number): number[] {
    const since = now - this.settings.window_seconds * 1000;
    const kept = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (kept.length) this.failures.set(key, kept);
    else this.failures.delete(key);
    return kept;
  }

  /** Throws a 429 (context.retryAfter in seconds) when the user or the address is over its limit. */
  check(user: string, address: string, now = Date.now()): void {
    const limits: Array<[string, number, string]> = [
      [`user:${user}`, this.settings.max_failures_per_user, `user "${user}"`],
      [`address:${address}`, this.settings.max_failures_per_address, `address ${address}`],
    ];
    for (const [key, max, what] of limits) {
      const times = this.recent(key, now);
      if (times.length < max) continue;
      const retryAfter = Math.max(
        1,
        Math.ceil((times[times.length - max] + this.settings.window_seconds * 1000 - now) / 1000),
      );
      throw new SquallError(
        'LOGIN_THROTTLED',
        `Too many failed logins for ${what}: ${times.length} in the last ${this.settings.window_seconds} s (auth.login_throttle); try again in ${retryAfter} s`,
        { user, address, retryAfter },
        429,
      );
    }
  }

  failed(user: string, address: string, now = Date.now()): void {
    // Names are the guesser's choice: drop expired counts before they pile up.
    if (this.failures.size > 10_000) for (const key of [...this.failures.keys()]) this.recent(key, now);
    for (const key of [`user:${user}`, `address:${address}`])
      this.failures.set(key, [...this.recent(key, now), now]);
  }

  /** A good password clears the user's count (the address keeps its own). */
  succeeded(user: string): void {
    this.failures.delete(`user:${user}`);
  }
}
