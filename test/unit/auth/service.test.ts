import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthService, sha256 } from '../../../src/auth/index.js';
import { loadConfig } from '../../../src/config/index.js';
import { EventBus } from '../../../src/events/index.js';
import { createLogger } from '../../../src/log/index.js';
import type { Services } from '../../../src/service/index.js';
import { openStore } from '../../../src/store/index.js';
import { tempDir } from '../../support/servers.js';

let services: Services;
let cleanup: () => void;

async function makeServices(overrides: Record<string, unknown> = {}): Promise<Services> {
  const t = tempDir('squall-auth-');
  cleanup = t.cleanup;
  const { config } = loadConfig({
    env: {},
    cwd: t.dir,
    overrides: { data_dir: t.dir, 'log.level': 'silent', ...overrides },
  });
  return {
    config,
    logger: createLogger({ level: 'silent', format: 'json' }),
    store: await openStore({ dataDir: t.dir }),
    bus: new EventBus(),
    scheduler: undefined as never,
    startedAt: new Date(),
    apiUrl: 'http://127.0.0.1:0',
  };
}

afterEach(async () => {
  await services?.store.close();
  cleanup?.();
});

describe('first start', () => {
  it('creates st2admin with a generated password, printed in the start-up notes and kept in a 0600 file', async () => {
    services = await makeServices();
    const auth = new AuthService(services);
    const first = await auth.ensureAdmin();
    expect(first.created).toBe(true);
    const file = path.join(services.config.data_dir, 'keys', 'initial-admin-password');
    expect(services.startupNotes).toEqual([
      `log in as st2admin / ${first.password} — also in ${file} until you change it`,
    ]);
    expect(readFileSync(file, 'utf8')).toBe(`${first.password}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await auth.login('st2admin', first.password!)).user).toBe('st2admin');
    const stored = await services.store.users.findOne({ name: 'st2admin' });
    expect(JSON.stringify(stored)).not.toContain(first.password!);
  });

  it('a start after a first start that never printed its notes (port in use) names the file, until the password changes', async () => {
    services = await makeServices();
    const first = await new AuthService(services).ensureAdmin();
    const file = path.join(services.config.data_dir, 'keys', 'initial-admin-password');
    services.startupNotes = undefined; // the first process died before printing them
    const again = await new AuthService(services).ensureAdmin();
    expect(again).toEqual({ created: false });
    expect(services.startupNotes).toEqual([
      `log in as st2admin with the generated password in ${file} (kept until you change it)`,
    ]);
    expect(services.startupNotes!.join('\n')).not.toContain(first.password!);
    await new AuthService(services).updateUser('st2admin', { password: 'a-new-password-1' });
    expect(existsSync(file)).toBe(false);
    services.startupNotes = undefined;
    await new AuthService(services).ensureAdmin();
    expect(services.startupNotes ?? []).toEqual([]);
  });

  it('a kept password that no longer matches (changed elsewhere) is removed and not named', async () => {
    services = await makeServices();
    await new AuthService(services).ensureAdmin();
    const file = path.join(services.config.data_dir, 'keys', 'initial-admin-password');
    writeFileSync(file, 'not-the-password\n', { mode: 0o600 });
    services.startupNotes = undefined;
    await new AuthService(services).ensureAdmin();
    expect(services.startupNotes ?? []).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });

  it('uses the configured admin name and password and prints nothing', async () => {
    services = await makeServices({ 'auth.admin_username': 'root', 'auth.admin_password': 'pw-from-config' });
    const auth = new AuthService(services);
    await auth.ensureAdmin();
    expect(services.startupNotes ?? []).toEqual([]);
    expect(existsSync(path.join(services.config.data_dir, 'keys', 'initial-admin-password'))).toBe(false);
    expect((await auth.getUser('root'))?.roles).toEqual(['admin']);
    await expect(auth.login('root', 'pw-from-config')).resolves.toMatchObject({ user: 'root' });
  });
});

describe('tokens', () => {
  beforeEach(async () => {
    services = await makeServices({ 'auth.admin_password': 'pw', 'auth.token_ttl': 3600 });
  });

  it('login returns st2’s token shape and stores only the hash', async () => {
    const auth = new AuthService(services);
    await auth.ensureAdmin();
    const t = await auth.login('st2admin', 'pw', { metadata: { client: 'test' } });
    expect(Object.keys(t).sort()).toEqual(['expiry', 'id', 'metadata', 'token', 'user']);
    expect(t.metadata).toEqual({ client: 'test' });
    expect(Date.parse(t.expiry) - Date.now()).toBeGreaterThan(3500_000);
    const rows = await services.store.tokens.find({});
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toBe(sha256(t.token));
    expect(JSON.stringify(rows)).not.toContain(t.token);
    expect((await auth.validateToken(t.token))?.user).toBe('st2admin');
  });

  it('wrong password, unknown user and disabled user get the same 401', async () => {
    const auth = new AuthService(services);
    await auth.ensureAdmin();
    await auth.createUser('bob', { password: 'bobpw', roles: [] });
    await auth.updateUser('bob', { enabled: false });
    for (const [u, p] of [
      ['st2admin', 'nope'],
      ['ghost', 'pw'],
      ['bob', 'bobpw'],
    ]) {
      await expect(auth.login(u, p)).rejects.toMatchObject({
        status: 401,
        message: 'Unauthorized - Invalid or missing credentials',
      });
    }
  });

  it('refuses a ttl above auth.token_ttl, naming the limit', async () => {
    const auth = new AuthService(services);
    await auth.ensureAdmin();
    await expect(auth.login('st2admin', 'pw', { ttl: 7200 })).rejects.toThrow(
      /exceeds the maximum token lifetime of 3600 s \(auth.token_ttl\)/,
    );
    const short = await auth.login('st2admin', 'pw', { ttl: 60 });
    expect(Date.parse(short.expiry) - Date.now()).toBeLessThanOrEqual(60_000);
  });

  it('an expired or revoked token is rejected', async () => {
    const auth = new AuthService(services);
    const expired = await auth.issueToken('st2admin', -1);
    expect(await auth.validateToken(expired.token)).toBeNull();
    await expect(auth.contextForToken(expired.token)).rejects.toMatchObject({ status: 401 });
    const live = await auth.issueToken('st2admin', 60);
    expect(await auth.revokeToken(live.token)).toBe(true);
    expect(await auth.validateToken(live.token)).toBeNull();
    expect(await auth.validateToken('')).toBeNull();
    expect(await auth.purgeExpiredTokens()).toBe(1);
  });

  it('execution tokens act as the user and die with the execution', async () => {
    const auth = new AuthService(services);
    await auth.createUser('eve', { roles: ['operator'] });
    const token = await auth.issueExecutionToken('0123456789abcdef01234567', 'eve');
    await expect(auth.contextForToken(token)).resolves.toEqual({
      user: 'eve',
      roles: ['operator'],
      method: 'execution_token',
      executionId: '0123456789abcdef01234567',
    });
    expect(await auth.revokeExecutionToken('0123456789abcdef01234567')).toBe(1);
    expect(await auth.validateToken(token)).toBeNull();
  });
});

describe('API keys', () => {
  beforeEach(async () => {
    services = await makeServices({ 'auth.admin_password': 'pw' });
  });

  it('a key is shown once, stored hashed, found by id or key, and stops working when disabled', async () => {
    const auth = new AuthService(services);
    await auth.createUser('bot', { roles: ['operator'] });
    const created = await auth.createApiKey('bot', { metadata: { used_by: 'hubot' } });
    expect(created.key).toMatch(/^[0-9a-f]{64}$/);
    const stored = await services.store.apiKeys.get(created.id);
    expect(stored?.key_hash).toBe(sha256(created.key));
    expect(JSON.stringify(stored)).not.toContain(created.key);
    expect((await auth.listApiKeys('bot'))[0]).not.toHaveProperty('key');
    expect((await auth.findApiKey(created.id))?.id).toBe(created.id);
    expect((await auth.findApiKey(created.key))?.id).toBe(created.id);
    await expect(auth.contextForApiKey(created.key)).resolves.toEqual({
      user: 'bot',
      roles: ['operator'],
      method: 'api_key',
    });
    await auth.updateApiKey(created.id, { enabled: false });
    await expect(auth.contextForApiKey(created.key)).rejects.toThrow(
      `Unauthorized - API key "${created.id}" is disabled.`,
    );
    await expect(auth.contextForApiKey('f'.repeat(64))).rejects.toThrow('Unauthorized - API key is invalid.');
  });

  it('deleting a user removes their tokens and keys', async () => {
    const auth = new AuthService(services);
    await auth.createUser('tmp', { password: 'x', roles: [] });
    const key = await auth.createApiKey('tmp');
    const token = await auth.login('tmp', 'x');
    await auth.deleteUser('tmp');
    await expect(auth.contextForApiKey(key.key)).rejects.toMatchObject({ status: 401 });
    expect(await auth.validateToken(token.token)).toBeNull();
  });
});

describe('users and role assignments', () => {
  beforeEach(async () => {
    services = await makeServices({ 'auth.admin_password': 'pw' });
  });

  it('rejects bad names, duplicates and unknown roles with the reason', async () => {
    const auth = new AuthService(services);
    await expect(auth.createUser('bad name')).rejects.toThrow(/user name "bad name" is invalid/);
    await auth.createUser('ok');
    await expect(auth.createUser('ok')).rejects.toThrow('user "ok" already exists');
    await expect(auth.createUser('x', { roles: ['wizard'] })).rejects.toThrow('role "wizard" does not exist');
  });

  it('assigns and removes roles by <user>:<role> ids', async () => {
    const auth = new AuthService(services);
    await auth.createUser('zoe');
    const a = await auth.assignRole('zoe', 'observer');
    expect(a).toMatchObject({ id: 'zoe:observer', user: 'zoe', role: 'observer', source: 'API' });
    expect(await auth.effectiveRoles('zoe')).toEqual(['observer']);
    await expect(auth.assignRole('zoe', 'observer')).rejects.toMatchObject({ status: 409 });
    await auth.unassignRole('zoe:observer');
    expect(await auth.effectiveRoles('zoe')).toEqual([]);
    await expect(auth.unassignRole('zoe:observer')).rejects.toMatchObject({ status: 404 });
  });

  it('refuses to delete the configured admin', async () => {
    const auth = new AuthService(services);
    await auth.ensureAdmin();
    await expect(auth.deleteUser('st2admin')).rejects.toThrow(/configured admin \(auth.admin_username\)/);
  });
});
