import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.js';
import { tempDir } from '../../support/servers.js';

let api: TestApi;
let rbacDir: { dir: string; cleanup: () => void };

beforeAll(async () => {
  // Roles and assignments in st2's files, read on start.
  rbacDir = tempDir('squall-auth-it-');
  mkdirSync(path.join(rbacDir.dir, 'rbac', 'roles'), { recursive: true });
  mkdirSync(path.join(rbacDir.dir, 'rbac', 'assignments'), { recursive: true });
  writeFileSync(
    path.join(rbacDir.dir, 'rbac', 'roles', 'key_reader.yaml'),
    'name: key_reader\ndescription: reads one key\npermission_grants:\n  - resource_uid: "key_value_pair:st2kv.system:shared"\n    permission_types: [key_value_pair_view]\n',
  );
  writeFileSync(
    path.join(rbacDir.dir, 'rbac', 'assignments', 'kim.yaml'),
    'username: kim\nroles: [key_reader]\n',
  );
  api = await startTestApi({ dataDir: rbacDir.dir });
});

afterAll(async () => {
  await api?.stop();
  rbacDir?.cleanup();
});

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

describe('authentication over HTTP', () => {
  it('login with basic auth returns a token that opens protected routes', async () => {
    const res = await fetch(`${api.url}/auth/v1/tokens`, {
      method: 'POST',
      headers: { Authorization: basic('st2admin', api.adminPassword), 'Content-Type': 'application/json' },
      body: JSON.stringify({ ttl: 120 }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { user: string; token: string; expiry: string; metadata: unknown };
    expect(body.user).toBe('st2admin');
    expect(body.metadata).toEqual({});
    expect(Date.parse(body.expiry) - Date.now()).toBeLessThanOrEqual(120_000);
    const me = await api.request('get', '/api/v1/user', { token: body.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'st2admin', rbac: { is_admin: true, roles: ['admin'] } });
    const valid = await api.request('post', '/auth/v1/tokens/validate', {
      token: null,
      body: { token: body.token },
    });
    expect(valid.body).toEqual({ valid: true });
  });

  it('a wrong password gets 401 and no token', async () => {
    const res = await fetch(`${api.url}/auth/v1/tokens`, {
      method: 'POST',
      headers: { Authorization: basic('st2admin', 'wrong') },
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { faultstring: string }).faultstring).toBe(
      'Unauthorized - Invalid or missing credentials',
    );
  });

  it('protected routes answer 401 without credentials or with a bad token; public ones do not', async () => {
    const none = await api.request('get', '/api/v1/keys', { token: null });
    expect(none.status).toBe(401);
    expect(none.body.faultstring).toBe('Unauthorized - One of Token or API key required.');
    const bad = await api.request('get', '/api/v1/keys', { token: 'deadbeef' });
    expect(bad.status).toBe(401);
    expect(bad.body.faultstring).toMatch(/^Unauthorized - Token has expired or is invalid/);
    expect((await api.request('get', '/api/v1/health', { token: null })).status).toBe(200);
    expect(
      (await api.request('post', '/auth/v1/tokens/validate', { token: null, body: { token: 'deadbeef' } }))
        .body,
    ).toEqual({ valid: false });
  });

  it("answers st2's API root with the StackStorm release a pack's stackstorm_version is checked against", async () => {
    expect((await api.request('get', '/api/v1/', { token: null })).status).toBe(401);
    const root = await api.request('get', '/api/v1/');
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ version: '3.9.0', docs_url: 'https://docs.stackstorm.com/3.9' });
    expect((await api.request('get', '/api/v1/health', { token: null })).body.stackstorm_version).toBe(
      '3.9.0',
    );
  });

  it('accepts the token as Authorization: Bearer, as ?x-auth-token= and as the web UI cookie', async () => {
    const bearer = await fetch(`${api.url}/api/v1/user`, {
      headers: { Authorization: `Bearer ${api.adminToken}` },
    });
    expect(bearer.status).toBe(200);
    const query = await fetch(`${api.url}/api/v1/keys?limit=5&x-auth-token=${api.adminToken}`);
    expect(query.status).toBe(200);
    const login = await fetch(`${api.url}/auth/v1/tokens`, {
      method: 'POST',
      headers: { Authorization: basic('st2admin', api.adminPassword) },
    });
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^auth-token=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict/);
    const viaCookie = await fetch(`${api.url}/api/v1/user`, { headers: { Cookie: cookie.split(';')[0] } });
    expect(viaCookie.status).toBe(200);
    expect(((await viaCookie.json()) as { authentication: { method: string } }).authentication.method).toBe(
      'cookie',
    );
  });

  it("refuses a write with the web UI's cookie from another origin (a form on another port of the same host)", async () => {
    const login = await fetch(`${api.url}/auth/v1/tokens`, {
      method: 'POST',
      headers: { Authorization: basic('st2admin', api.adminPassword) },
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const host = new URL(api.url).host;
    const post = (headers: Record<string, string>, body: string, type: string) =>
      fetch(`${api.url}/api/v1/keys/csrf_probe`, {
        method: 'PUT',
        headers: { Cookie: cookie, 'Content-Type': type, ...headers },
        body,
      });
    const form = new URLSearchParams({ value: 'from-another-page' }).toString();
    const urlencoded = 'application/x-www-form-urlencoded';
    // What a page on localhost:8000 would send: the browser adds the cookie (same site) and Origin.
    const crossPort = await post(
      { Origin: 'http://localhost:8000', 'Sec-Fetch-Site': 'same-site' },
      form,
      urlencoded,
    );
    expect(crossPort.status).toBe(403);
    expect(((await crossPort.json()) as { faultstring: string }).faultstring).toMatch(
      /cross-site request refused/,
    );
    expect((await post({ 'Sec-Fetch-Site': 'cross-site' }, form, urlencoded)).status).toBe(403);
    expect((await post({ Origin: 'null' }, form, urlencoded)).status).toBe(403);
    // The web UI itself, and clients that are not browsers, still write with the cookie.
    const json = JSON.stringify({ value: 'from-the-web-ui' });
    const own = await post(
      { Origin: `http://${host}`, 'Sec-Fetch-Site': 'same-origin' },
      json,
      'application/json',
    );
    expect(own.status).toBe(200);
    expect((await post({}, json, 'application/json')).status).toBe(200);
    // Reads and token-authenticated writes are not affected.
    const read = await fetch(`${api.url}/api/v1/user`, {
      headers: { Cookie: cookie, Origin: 'http://localhost:8000' },
    });
    expect(read.status).toBe(200);
    const withToken = await fetch(`${api.url}/api/v1/keys/csrf_probe`, {
      method: 'PUT',
      headers: {
        'X-Auth-Token': api.adminToken,
        Origin: 'http://localhost:8000',
        'Content-Type': 'application/json',
      },
      body: json,
    });
    expect(withToken.status).toBe(200);
  });

  it('logging out revokes the token', async () => {
    const token = await api.tokenFor('leaver', ['observer']);
    expect((await api.request('delete', '/auth/v1/tokens', { token })).status).toBe(204);
    expect((await api.request('get', '/api/v1/user', { token })).status).toBe(401);
  });
});

describe('API keys over HTTP', () => {
  it('work in the St2-Api-Key header and the st2-api-key query, until disabled', async () => {
    const created = await api.request('post', '/api/v1/apikeys', { body: { metadata: { used_by: 'ci' } } });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const header = await fetch(`${api.url}/api/v1/user`, { headers: { 'St2-Api-Key': key } });
    expect(header.status).toBe(200);
    expect(((await header.json()) as { authentication: { method: string } }).authentication.method).toBe(
      'api_key',
    );
    expect((await fetch(`${api.url}/api/v1/user?st2-api-key=${key}`)).status).toBe(200);

    const got = await api.request('get', `/api/v1/apikeys/${created.body.id}`);
    expect(got.body).toMatchObject({
      id: created.body.id,
      user: 'st2admin',
      enabled: true,
      metadata: { used_by: 'ci' },
    });
    expect(got.body).not.toHaveProperty('key');
    expect(
      (await api.request('get', '/api/v1/apikeys')).body.some(
        (k: { id: string }) => k.id === created.body.id,
      ),
    ).toBe(true);

    expect(
      (await api.request('put', `/api/v1/apikeys/${created.body.id}`, { body: { enabled: false } })).body
        .enabled,
    ).toBe(false);
    const disabled = await fetch(`${api.url}/api/v1/user`, { headers: { 'St2-Api-Key': key } });
    expect(disabled.status).toBe(401);
    expect((await api.request('delete', `/api/v1/apikeys/${key}`)).status).toBe(204);
    expect((await api.request('get', `/api/v1/apikeys/${created.body.id}`)).status).toBe(404);
  });

  it('observers may not create keys; operators manage only their own', async () => {
    const observer = await api.tokenFor('obi', ['observer']);
    const denied = await api.request('post', '/api/v1/apikeys', { token: observer, body: {} });
    expect(denied.status).toBe(403);
    expect(denied.body.faultstring).toBe(
      'User "obi" doesn\'t have required permission "api_key_create" on resource "api_key:"',
    );

    const operator = await api.tokenFor('opal', ['operator']);
    const own = await api.request('post', '/api/v1/apikeys', { token: operator, body: {} });
    expect(own.status).toBe(201);
    expect(own.body.user).toBe('opal');
    const forAdmin = await api.request('post', '/api/v1/apikeys', {
      token: operator,
      body: { user: 'st2admin' },
    });
    expect(forAdmin.status).toBe(403);

    const adminKey = await api.request('post', '/api/v1/apikeys', { body: {} });
    const peek = await api.request('get', `/api/v1/apikeys/${adminKey.body.id}`, { token: operator });
    expect(peek.status).toBe(403);
    expect(peek.body.faultstring).toBe(
      `User "opal" doesn't have required permission "api_key_view" on resource "api_key:${adminKey.body.id}"`,
    );
    expect(
      (await api.request('delete', `/api/v1/apikeys/${adminKey.body.id}`, { token: operator })).status,
    ).toBe(403);

    const mine = await api.request('get', '/api/v1/apikeys', { token: operator });
    expect(mine.body.map((k: { user: string }) => k.user)).toEqual(['opal']);
    expect((await api.request('get', '/api/v1/apikeys?user=st2admin', { token: operator })).status).toBe(403);
    const all = await api.request('get', '/api/v1/apikeys');
    expect(new Set(all.body.map((k: { user: string }) => k.user))).toEqual(new Set(['st2admin', 'opal']));
  });
});

describe('RBAC over HTTP', () => {
  it('lists system and file roles and the permission types', async () => {
    const roles = await api.request('get', '/api/v1/rbac/roles');
    const names = roles.body.map((r: { name: string }) => r.name);
    expect(names).toEqual(expect.arrayContaining(['admin', 'operator', 'observer', 'key_reader']));
    const types = await api.request('get', '/api/v1/rbac/permission_types');
    expect(types.body.key_value_pair).toContain('key_value_pair_set');
    expect((await api.request('get', '/api/v1/rbac/permission_types/action')).body).toContain(
      'action_execute',
    );
  });

  it('file assignments give their roles to the user', async () => {
    const kim = await api.tokenFor('kim', []);
    expect((await api.request('get', '/api/v1/user', { token: kim })).body.rbac.roles).toEqual([
      'key_reader',
    ]);
    await api.request('put', '/api/v1/keys/shared', { body: { value: 'for kim' } });
    await api.request('put', '/api/v1/keys/private', { body: { value: 'not for kim' } });
    expect((await api.request('get', '/api/v1/keys/shared', { token: kim })).body.value).toBe('for kim');
    expect((await api.request('get', '/api/v1/keys/private', { token: kim })).status).toBe(403);
    const list = await api.request('get', '/api/v1/keys', { token: kim });
    expect(list.body.map((k: { name: string }) => k.name)).toEqual(['shared']);
  });

  it('only admins assign roles; an assignment takes effect on the next request', async () => {
    const token = await api.tokenFor('rita', []);
    expect((await api.request('get', '/api/v1/keys/shared', { token })).status).toBe(403);
    const self = await api.request('post', '/api/v1/rbac/role_assignments', {
      token,
      body: { user: 'rita', role: 'admin' },
    });
    expect(self.status).toBe(403);
    const assigned = await api.request('post', '/api/v1/rbac/role_assignments', {
      body: { user: 'rita', role: 'observer' },
    });
    expect(assigned.status).toBe(201);
    expect(assigned.body).toMatchObject({ id: 'rita:observer', user: 'rita', role: 'observer' });
    expect((await api.request('get', '/api/v1/keys/shared', { token })).status).toBe(200);
    expect(
      (await api.request('get', '/api/v1/rbac/role_assignments', { token })).body.map(
        (a: { role: string }) => a.role,
      ),
    ).toEqual(['observer']);
    expect((await api.request('delete', '/api/v1/rbac/role_assignments/rita:observer')).status).toBe(204);
    expect((await api.request('get', '/api/v1/keys/shared', { token })).status).toBe(403);
  });

  it('user administration is for admins', async () => {
    const operator = await api.tokenFor('otto', ['operator']);
    const denied = await api.request('post', '/api/v1/users', {
      token: operator,
      body: { name: 'x', password: 'y' },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.faultstring).toMatch(
      /^User "otto" doesn't have required permission: creating users needs the admin role/,
    );
    expect((await api.request('get', '/api/v1/users', { token: operator })).status).toBe(403);
    const created = await api.request('post', '/api/v1/users', {
      body: { name: 'newbie', password: 'pw', roles: ['observer'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(
      expect.objectContaining({ name: 'newbie', roles: ['observer'], enabled: true }),
    );
    expect(created.body).not.toHaveProperty('password_hash');
    expect((await api.request('delete', '/api/v1/users/newbie')).status).toBe(204);
  });
});
