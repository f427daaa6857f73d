import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SquallEvent } from '../../../src/events/index.js';
import { getKeyValueService } from '../../../src/kv/index.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { embeddedStoreFiles } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ overrides: { 'kv.purge_interval_ms': 100 } });
});

afterAll(async () => {
  await api?.stop();
});

describe('secrets', () => {
  const PLAINTEXT = 'correct-horse-battery-staple-42';

  it('are stored as ciphertext: in the store collection and in the embedded data files', async () => {
    const put = await api.request('put', '/api/v1/keys/db_password', {
      body: { value: PLAINTEXT, secret: true },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      name: 'db_password',
      secret: true,
      encrypted: true,
      scope: 'st2kv.system',
    });
    expect(put.body.value).not.toBe(PLAINTEXT);

    const raw = await api.services.store.kvPairs.findOne({ name: 'db_password' });
    expect(raw?.value).toMatch(/^[0-9A-F]+$/);
    expect(JSON.stringify(raw)).not.toContain(PLAINTEXT);

    const dbFiles = embeddedStoreFiles(api.dataDir);
    expect(dbFiles.length).toBeGreaterThan(0);
    const kvFile = dbFiles.map((f) => readFileSync(f, 'latin1')).join('\n');
    expect(kvFile).toContain(raw!.value); // the write reached the files…
    expect(kvFile).not.toContain(PLAINTEXT); // …as ciphertext only
    expect(statSync(path.join(api.dataDir, 'keys', 'datastore.key')).mode & 0o777).toBe(0o600);
  });

  it('come back as ciphertext without decrypt, and decrypt only for admins', async () => {
    await api.request('put', '/api/v1/keys/api_secret', { body: { value: PLAINTEXT, secret: true } });
    const observer = await api.tokenFor('olive', ['observer']);
    const plain = await api.request('get', '/api/v1/keys/api_secret', { token: observer });
    expect(plain.status).toBe(200);
    expect(plain.body.value).not.toContain(PLAINTEXT);
    const denied = await api.request('get', '/api/v1/keys/api_secret?decrypt=true', { token: observer });
    expect(denied.status).toBe(403);
    expect(denied.body.faultstring).toBe('Decrypt option requires administrator access');
    const listDenied = await api.request('get', '/api/v1/keys?decrypt=true', { token: observer });
    expect(listDenied.status).toBe(403);
    const listed = await api.request('get', '/api/v1/keys', { token: observer });
    expect(JSON.stringify(listed.body)).not.toContain(PLAINTEXT);

    const admin = await api.request('get', '/api/v1/keys/api_secret?decrypt=true');
    expect(admin.body).toMatchObject({ value: PLAINTEXT, secret: true, encrypted: false });
  });
});

describe('user scope', () => {
  it('keeps each user’s keys to themselves and lets owners decrypt their own secrets', async () => {
    const alice = await api.tokenFor('alice', ['operator']);
    const bob = await api.tokenFor('bob', ['operator']);
    const put = await api.request('put', '/api/v1/keys/gh_token', {
      token: alice,
      body: { value: 'alice-gh', scope: 'user', secret: true },
    });
    expect(put.body).toMatchObject({ scope: 'st2kv.user', user: 'alice', secret: true });
    await api.request('put', '/api/v1/keys/gh_token', {
      token: bob,
      body: { value: 'bob-gh', scope: 'st2kv.user' },
    });

    const own = await api.request('get', '/api/v1/keys/gh_token?scope=user&decrypt=true', { token: alice });
    expect(own.body).toMatchObject({ value: 'alice-gh', user: 'alice' });
    expect((await api.request('get', '/api/v1/keys/gh_token?scope=user', { token: bob })).body.value).toBe(
      'bob-gh',
    );

    const peek = await api.request('get', '/api/v1/keys/gh_token?scope=user&user=alice', { token: bob });
    expect(peek.status).toBe(403);
    expect(peek.body.faultstring).toMatch(/^"user" attribute can only be provided by admins/);
    expect(
      (await api.request('delete', '/api/v1/keys/gh_token?scope=user&user=alice', { token: bob })).status,
    ).toBe(403);

    const bobsList = await api.request('get', '/api/v1/keys?scope=user', { token: bob });
    expect(bobsList.body.map((k: { user: string; value: string }) => `${k.user}:${k.value}`)).toEqual([
      'bob:bob-gh',
    ]);
    const adminView = await api.request('get', '/api/v1/keys/gh_token?scope=user&user=alice&decrypt=true');
    expect(adminView.body.value).toBe('alice-gh');
    const adminAll = await api.request('get', '/api/v1/keys?scope=all&prefix=gh_');
    expect(adminAll.body.map((k: { user: string }) => k.user).sort()).toEqual(['alice', 'bob']);
    expect((await api.request('get', '/api/v1/keys/gh_token')).status).toBe(404);
  });

  it('a user without roles still manages their own user-scope keys, and nothing else', async () => {
    const nora = await api.tokenFor('nora', []);
    expect(
      (await api.request('put', '/api/v1/keys/pref', { token: nora, body: { value: 'dark', scope: 'user' } }))
        .status,
    ).toBe(200);
    expect((await api.request('get', '/api/v1/keys/pref?scope=user', { token: nora })).body.value).toBe(
      'dark',
    );
    expect((await api.request('delete', '/api/v1/keys/pref?scope=user', { token: nora })).status).toBe(204);
    const sys = await api.request('put', '/api/v1/keys/pref', { token: nora, body: { value: 'x' } });
    expect(sys.status).toBe(403);
  });
});

describe('RBAC on keys', () => {
  it('observers may read but not set or delete system keys', async () => {
    await api.request('put', '/api/v1/keys/region', { body: { value: 'eu-west-1' } });
    const observer = await api.tokenFor('otis', ['observer']);
    expect((await api.request('get', '/api/v1/keys/region', { token: observer })).body.value).toBe(
      'eu-west-1',
    );
    const set = await api.request('put', '/api/v1/keys/region', {
      token: observer,
      body: { value: 'us-east-1' },
    });
    expect(set.status).toBe(403);
    expect(set.body.faultstring).toBe(
      'User "otis" doesn\'t have required permission "key_value_pair_set" on resource "key_value_pair:st2kv.system:region"',
    );
    const del = await api.request('delete', '/api/v1/keys/region', { token: observer });
    expect(del.status).toBe(403);
    expect((await api.request('get', '/api/v1/keys/region')).body.value).toBe('eu-west-1');
  });

  it('operators set and delete system keys', async () => {
    const operator = await api.tokenFor('opie', ['operator']);
    expect(
      (await api.request('put', '/api/v1/keys/feature_flag', { token: operator, body: { value: 'on' } }))
        .status,
    ).toBe(200);
    expect((await api.request('delete', '/api/v1/keys/feature_flag', { token: operator })).status).toBe(204);
    const gone = await api.request('get', '/api/v1/keys/feature_flag', { token: operator });
    expect(gone.status).toBe(404);
    expect(gone.body.faultstring).toBe('Key with name: feature_flag and scope: st2kv.system not found!');
  });
});

describe('listing, TTL and events', () => {
  it('refuses key names with NUL or bidi-override characters or over 255 characters (a 100k name is refused by the HTTP server), naming the field', async () => {
    for (const name of ['nul\u0000key', 'bidi\u202Ekey', 'k'.repeat(300)]) {
      const put = await api.request('put', `/api/v1/keys/${encodeURIComponent(name)}`, {
        body: { value: 'v' },
      });
      expect(put.status).toBe(400);
      expect(put.body.faultstring).toMatch(/^key name ".*": (must be printable|is 300 characters long)/);
    }
    const dotted = await api.request('put', '/api/v1/keys/deploy.branch%20name', { body: { value: 'v' } });
    expect(dotted.status).toBe(200);
  });

  it('pages with X-Total-Count and filters by prefix', async () => {
    for (const n of ['page.a', 'page.b', 'page.c'])
      await api.request('put', `/api/v1/keys/${n}`, { body: { value: n } });
    const res = await api.request('get', '/api/v1/keys?prefix=page.&limit=2&offset=0&scope=system');
    expect(res.headers.get('x-total-count')).toBe('3');
    expect(res.body.map((k: { name: string }) => k.name)).toEqual(['page.a', 'page.b']);
  });

  it('an expired key disappears from reads and from the store', async () => {
    const put = await api.request('put', '/api/v1/keys/session', { body: { value: 'temp', ttl: 1 } });
    expect(put.body).toMatchObject({ ttl: 1 });
    expect(put.body.expire_timestamp).toBeDefined();
    await waitFor(
      async () => (await api.request('get', '/api/v1/keys/session')).status === 404,
      'the key to expire',
      10_000,
      100,
    );
    await waitFor(
      async () => (await api.services.store.kvPairs.count({ name: 'session' })) === 0,
      'the key to be purged',
      10_000,
      100,
    );
  });

  it('publishes kv events and key_value_pair triggers on the bus', async () => {
    const seen: SquallEvent[] = [];
    const off = api.services.bus.subscribe('*', (e) => seen.push(e));
    try {
      await api.request('put', '/api/v1/keys/evt', { body: { value: '1' } });
      await api.request('put', '/api/v1/keys/evt', { body: { value: '2' } });
      await api.request('delete', '/api/v1/keys/evt');
    } finally {
      off();
    }
    const triggers = seen
      .filter((e) => e.name === 'trigger.dispatch')
      .map((e) => (e.payload as { trigger: string }).trigger);
    expect(triggers).toEqual([
      'core.st2.key_value_pair.create',
      'core.st2.key_value_pair.update',
      'core.st2.key_value_pair.value_change',
      'core.st2.key_value_pair.delete',
    ]);
    expect(seen.map((e) => e.name)).toContain('st2.key_value_pair__update');
  });

  it('names a pair by st2’s uid, key_value_pair:<scope>:<name>, in answers and trigger payloads', async () => {
    const seen: SquallEvent[] = [];
    const off = api.services.bus.subscribe('trigger.dispatch', (e) => seen.push(e));
    try {
      const put = await api.request('put', '/api/v1/keys/uid_key', { body: { value: 'v' } });
      expect(put.body.uid).toBe('key_value_pair:st2kv.system:uid_key');
      const user = await api.request('put', '/api/v1/keys/uid_key', {
        body: { value: 'v', scope: 'st2kv.user' },
      });
      expect(user.body.uid).toBe(`key_value_pair:st2kv.user:${api.adminUser}:uid_key`);
      expect((await api.request('get', '/api/v1/keys/uid_key')).body.uid).toBe(
        'key_value_pair:st2kv.system:uid_key',
      );
    } finally {
      off();
    }
    const created = seen.find(
      (e) => (e.payload as { trigger: string }).trigger === 'core.st2.key_value_pair.create',
    );
    expect((created?.payload as { payload: { object: { uid: string } } }).payload.object.uid).toBe(
      'key_value_pair:st2kv.system:uid_key',
    );
  });

  it('the KeyValueService of the process sees what the API wrote', async () => {
    await api.request('put', '/api/v1/keys/shared_with_code', { body: { value: 'v', secret: true } });
    const kv = getKeyValueService(api.services);
    const snap = await kv.snapshot();
    expect(kv.decrypt(snap.system.shared_with_code)).toBe('v');
  });
});
