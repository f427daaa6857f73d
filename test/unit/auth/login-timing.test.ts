import { afterEach, describe, expect, it, vi } from 'vitest';

// Counts the scrypt computations a login costs: a login that fails fast for an unknown or a
// disabled user would tell an attacker, by its answer's time, which user names exist.
const scryptCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return {
    ...crypto,
    scrypt: (...args: Parameters<typeof crypto.scrypt>) => {
      scryptCalls.count += 1;
      return (crypto.scrypt as (...a: unknown[]) => void)(...args);
    },
  };
});

const { AuthService, verifyPassword } = await import('../../../src/auth/index.js');
const { loadConfig } = await import('../../../src/config/index.js');
const { EventBus } = await import('../../../src/events/index.js');
const { createLogger } = await import('../../../src/log/index.js');
const { openStore } = await import('../../../src/store/index.js');
const { tempDir } = await import('../../support/servers.js');

let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

async function authService() {
  const t = tempDir('squall-login-timing-');
  const { config } = loadConfig({
    env: {},
    cwd: t.dir,
    overrides: { data_dir: t.dir, 'log.level': 'silent' },
  });
  const store = await openStore({ dataDir: t.dir });
  close = async () => {
    await store.close();
    t.cleanup();
  };
  return new AuthService({
    config,
    logger: createLogger({ level: 'silent', format: 'json' }),
    store,
    bus: new EventBus(),
    scheduler: undefined as never,
    startedAt: new Date(),
    apiUrl: 'http://127.0.0.1:0',
  });
}

async function scryptsFor(attempt: () => Promise<unknown>): Promise<number> {
  const before = scryptCalls.count;
  await attempt().catch(() => undefined);
  return scryptCalls.count - before;
}

describe('a failed login costs the same whoever it names', () => {
  it('an unknown user, a disabled user and a wrong password each cost one scrypt, and all are refused', async () => {
    const auth = await authService();
    await auth.createUser('bob', { password: 'bobs-password-1' });
    await auth.createUser('carol', { password: 'carols-password-1' });
    await auth.updateUser('carol', { enabled: false });
    await verifyPassword('warm the stand-in hash', undefined);

    expect(await scryptsFor(() => auth.login('bob', 'wrong'))).toBe(1);
    expect(await scryptsFor(() => auth.login('nobody', 'wrong'))).toBe(1);
    expect(await scryptsFor(() => auth.login('carol', 'carols-password-1'))).toBe(1);
    expect(await scryptsFor(() => auth.checkPassword('nobody', 'x'))).toBe(1);

    await expect(auth.login('nobody', 'wrong')).rejects.toMatchObject({ status: 401 });
    await expect(auth.login('carol', 'carols-password-1')).rejects.toMatchObject({ status: 401 });
    expect(await auth.checkPassword('nobody', 'x')).toBe(false);
    expect((await auth.login('bob', 'bobs-password-1')).user).toBe('bob');
  });

  it('a missing or unreadable stored hash is refused after the same work', async () => {
    await verifyPassword('warm', undefined);
    expect(await scryptsFor(async () => expect(await verifyPassword('x', undefined)).toBe(false))).toBe(1);
    expect(await scryptsFor(async () => expect(await verifyPassword('x', 'md5$abc')).toBe(false))).toBe(1);
  });
});
