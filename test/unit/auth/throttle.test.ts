import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../../src/auth/throttle.js';
import { SquallError } from '../../../src/errors.js';

const settings = { window_seconds: 60, max_failures_per_user: 2, max_failures_per_address: 100 };

function refusal(fn: () => void): SquallError | undefined {
  try {
    fn();
  } catch (err) {
    return err as SquallError;
  }
  return undefined;
}

describe('LoginThrottle', () => {
  it('lets a user in again once the window has passed the oldest counted failure', () => {
    const t = new LoginThrottle(settings);
    t.failed('ann', '10.0.0.1', 0);
    t.failed('ann', '10.0.0.2', 20_000);
    const err = refusal(() => t.check('ann', '10.0.0.3', 30_000));
    expect(err?.status).toBe(429);
    expect(err?.context.retryAfter).toBe(30);
    expect(refusal(() => t.check('ann', '10.0.0.3', 60_001))).toBeUndefined();
  });

  it('clears the user count on a good password', () => {
    const t = new LoginThrottle(settings);
    t.failed('ann', '10.0.0.1', 0);
    t.failed('ann', '10.0.0.1', 1);
    t.succeeded('ann');
    expect(refusal(() => t.check('ann', '10.0.0.1', 2))).toBeUndefined();
  });
});
