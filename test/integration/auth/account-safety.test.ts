import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSubsystems, finishedExecution, startTestApi, type TestApi } from '../../support/api.js';

/**
 * Issue 18 items 12 and 13: an action's token cannot take its user's account over, a password
 * change needs the current password and ends the user's logins, and the last admin cannot drop
 * their own admin role.
 */

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ subsystems: await allSubsystems() });
}, 60_000);

afterAll(async () => {
  await api?.stop();
});

const login = (user: string, password: string) =>
  fetch(`${api.url}/auth/v1/tokens`, { method: 'POST', headers: { Authorization: basic(user, password) } });

describe("an action's token (ST2_ACTION_AUTH_TOKEN)", () => {
  it('cannot change its user’s password or create API keys, but still reaches the rest of the API', async () => {
    const oliver = await api.tokenFor('oliver', ['operator'], 'oliver-original');
    // The action calls the API with the token it was given, as st2 actions do.
    const call = (method: string, path: string, body?: string) =>
      `curl -s -o /dev/null -w '%{http_code}\\n' -X ${method} -H "X-Auth-Token: $ST2_ACTION_AUTH_TOKEN" ` +
      `-H 'Content-Type: application/json' ${body ? `-d '${body}' ` : ''}"$ST2_ACTION_API_URL${path}"`;
    const cmd = [
      call('PUT', '/users/oliver', '{"password":"taken-over"}'),
      call('POST', '/apikeys', '{}'),
      call('GET', '/rbac/role_assignments'),
      call('GET', '/executions?limit=1'),
      call('GET', '/user'),
    ].join('; ');
    const res = await api.request('POST', '/api/v1/executions', {
      token: oliver,
      body: { action: 'core.local', parameters: { cmd } },
    });
    expect(res.status).toBe(201);
    const e = await finishedExecution(api, res.body.id);
    expect(e.result.stdout.split('\n')).toEqual(['403', '403', '403', '200', '200']);
    expect((await login('oliver', 'taken-over')).status).toBe(401);
    expect((await login('oliver', 'oliver-original')).status).toBe(201);
    const keys = await api.request('GET', '/api/v1/apikeys?user=oliver');
    expect(keys.body).toEqual([]);
  });
});

describe('changing a password', () => {
  it('needs the current password from a non-admin, and ends the user’s existing logins', async () => {
    const token = await api.tokenFor('pat', ['operator'], 'pat-original');
    const other = ((await (await login('pat', 'pat-original')).json()) as { token: string }).token;
    const without = await api.request('PUT', '/api/v1/users/pat', { token, body: { password: 'pat-new' } });
    expect(without.status).toBe(403);
    expect(without.body.faultstring).toContain('current password');
    const wrong = await api.request('PUT', '/api/v1/users/pat', {
      token,
      body: { password: 'pat-new', current_password: 'guess' },
    });
    expect(wrong.status).toBe(403);
    expect((await login('pat', 'pat-new')).status).toBe(401);

    const ok = await api.request('PUT', '/api/v1/users/pat', {
      token,
      body: { password: 'pat-new', current_password: 'pat-original' },
    });
    expect(ok.status).toBe(200);
    expect((await api.request('GET', '/api/v1/user', { token })).status).toBe(401);
    expect((await api.request('GET', '/api/v1/user', { token: other })).status).toBe(401);
    expect((await login('pat', 'pat-original')).status).toBe(401);
    expect((await login('pat', 'pat-new')).status).toBe(201);
  });

  it('lets an admin reset another user’s password without it', async () => {
    await api.tokenFor('quinn', ['observer'], 'quinn-original');
    const reset = await api.request('PUT', '/api/v1/users/quinn', { body: { password: 'quinn-reset' } });
    expect(reset.status).toBe(200);
    expect((await login('quinn', 'quinn-reset')).status).toBe(201);
  });
});

describe('the last admin', () => {
  it('cannot take away their own admin role, disable or delete themselves (409), and keeps admin rights', async () => {
    const me = api.adminUser;
    const dropRole = await api.request('DELETE', `/api/v1/rbac/role_assignments/${me}:admin`);
    expect(dropRole.status).toBe(409);
    expect(dropRole.body.faultstring).toContain('last enabled admin');
    const viaUser = await api.request('PUT', `/api/v1/users/${me}`, { body: { roles: ['observer'] } });
    expect(viaUser.status).toBe(409);
    const disable = await api.request('PUT', `/api/v1/users/${me}`, { body: { enabled: false } });
    expect(disable.status).toBe(409);
    expect((await api.request('GET', '/api/v1/users')).status).toBe(200);
    expect((await api.request('GET', '/api/v1/user')).body.rbac.is_admin).toBe(true);
  });

  it('may hand over: once another user is an admin, the role can go', async () => {
    await api.tokenFor('second_admin', ['admin'], 'second-admin-password');
    await api.tokenFor('demoted', ['admin'], 'demoted-password');
    const drop = await api.request('DELETE', '/api/v1/rbac/role_assignments/demoted:admin');
    expect(drop.status).toBe(204);
    const left = await api.request('GET', '/api/v1/rbac/role_assignments?user=demoted');
    expect(left.body.map((x: { role: string }) => x.role)).toEqual([]);
  });
});
