import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.js';

/**
 * Issue 18 item 14: failed logins are counted per user and per address; beyond the limit a
 * login answers 429 with Retry-After, and every failure is in the log without its password.
 */

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({
    overrides: {
      'auth.login_throttle.window_seconds': 60,
      'auth.login_throttle.max_failures_per_user': 3,
      'auth.login_throttle.max_failures_per_address': 6,
    },
  });
  await api.tokenFor('victim', ['observer'], 'victim-password');
  await api.tokenFor('bystander', ['observer'], 'bystander-password');
});

afterAll(async () => {
  await api?.stop();
});

const login = (user: string, password: string) =>
  fetch(`${api.url}/auth/v1/tokens`, {
    method: 'POST',
    headers: { Authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64') },
  });

describe('login throttling', () => {
  it('refuses a user after too many wrong passwords, with 429 and Retry-After, and logs each failure without the password', async () => {
    const warn = vi.spyOn(api.services.logger, 'warn');
    for (const guess of ['guess-one-x', 'guess-two-x', 'guess-three-x'])
      expect((await login('victim', guess)).status).toBe(401);
    const throttled = await login('victim', 'victim-password');
    expect(throttled.status).toBe(429);
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(((await throttled.json()) as { faultstring: string }).faultstring).toContain(
      'Too many failed logins',
    );
    // Another user from the same address is not locked out by the victim's count.
    expect((await login('bystander', 'bystander-password')).status).toBe(201);

    const records = warn.mock.calls.map((c) => c[0] as Record<string, unknown>);
    const failures = records.filter((r) => r.event === 'auth.login' && r.outcome === 'failed');
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatchObject({ user: 'victim', address: expect.stringMatching(/127\.0\.0\.1/) });
    expect(records.some((r) => r.outcome === 'throttled' && r.user === 'victim')).toBe(true);
    const logged = JSON.stringify(warn.mock.calls);
    for (const secret of ['guess-one-x', 'guess-two-x', 'guess-three-x', 'victim-password'])
      expect(logged).not.toContain(secret);
    warn.mockRestore();
  });

  it('refuses an address after too many failures across user names', async () => {
    // 3 failures so far from this address; three more names reach the limit of 6.
    for (const user of ['nobody-a', 'nobody-b', 'nobody-c'])
      expect((await login(user, 'wrong')).status).toBe(401);
    const res = await login('bystander', 'bystander-password');
    expect(res.status).toBe(429);
    expect(((await res.json()) as { faultstring: string }).faultstring).toContain('address');
  });
});
