import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus, type SquallEvent } from '../../../src/events/index.js';
import { KeyValueService, loadOrCreateKey } from '../../../src/kv/index.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { tempDir } from '../../support/servers.js';

let store: Store;
let kv: KeyValueService;
let bus: EventBus;
let events: SquallEvent[];
let cleanup: () => void;

beforeEach(async () => {
  const t = tempDir('squall-kvs-');
  cleanup = t.cleanup;
  store = await openStore({ dataDir: t.dir });
  bus = new EventBus();
  events = [];
  bus.subscribe('*', (e) => events.push(e));
  kv = new KeyValueService(store, loadOrCreateKey(path.join(t.dir, 'keys', 'datastore.key')).key, bus);
});

afterEach(async () => {
  await store.close();
  cleanup();
});

describe('KeyValueService', () => {
  it('stores system keys in st2’s shape', async () => {
    const item = await kv.set('deploy.branch', 'main');
    expect(item).toMatchObject({
      name: 'deploy.branch',
      value: 'main',
      secret: false,
      encrypted: false,
      scope: 'st2kv.system',
    });
    expect(item).not.toHaveProperty('user');
    expect((await kv.get('deploy.branch'))?.value).toBe('main');
    expect(await kv.get('missing')).toBeNull();
  });

  it('keeps user-scope keys per user', async () => {
    await kv.set('token', 'alice-token', { scope: 'user', user: 'alice' });
    await kv.set('token', 'bob-token', { scope: 'st2kv.user', user: 'bob' });
    await kv.set('token', 'system-token');
    expect((await kv.get('token', { scope: 'user', user: 'alice' }))?.value).toBe('alice-token');
    expect((await kv.get('token', { scope: 'user', user: 'bob' }))?.value).toBe('bob-token');
    expect((await kv.get('token'))?.value).toBe('system-token');
    const listed = await kv.list({ scope: 'all', user: 'alice' });
    expect(listed.items.map((i) => `${i.scope}:${i.user ?? ''}:${i.value}`).sort()).toEqual([
      'st2kv.system::system-token',
      'st2kv.user:alice:alice-token',
    ]);
    await expect(kv.get('token', { scope: 'user' })).rejects.toThrow(/scope user needs the user/);
    await expect(kv.get('token', { scope: 'galaxy' })).rejects.toThrow(
      /scope: "galaxy" is not one of system, user/,
    );
  });

  it('encrypts secrets and decrypts only when asked', async () => {
    const item = await kv.set('db_password', 'hunter2', { secret: true });
    expect(item.value).not.toBe('hunter2');
    expect(item).toMatchObject({ secret: true, encrypted: true });
    expect((await kv.get('db_password'))?.value).toBe(item.value);
    expect(await kv.get('db_password', { decrypt: true })).toMatchObject({
      value: 'hunter2',
      encrypted: false,
    });
    expect(kv.decrypt(item.value)).toBe('hunter2');
    const raw = await store.kvPairs.findOne({ name: 'db_password' });
    expect(raw?.value).not.toContain('hunter2');
  });

  it('accepts pre-encrypted values only when they are its own ciphertext', async () => {
    const ciphertext = kv.encrypt('imported');
    await kv.set('imported', ciphertext, { encrypted: true });
    expect((await kv.get('imported', { decrypt: true }))?.value).toBe('imported');
    await expect(
      kv.set('bogus', 'ABCDEF0123456789ABCDEF0123456789ABCDEF0123', { encrypted: true }),
    ).rejects.toThrow(/cannot decrypt secret "bogus"/);
  });

  it('hides expired keys at once and purges them with a delete event', async () => {
    await kv.set('short', 'lived', { ttl: 1 });
    const item = await kv.get('short');
    expect(item?.ttl).toBe(1);
    expect(Date.parse(item!.expire_timestamp!)).toBeGreaterThan(Date.now());
    // Expire it without waiting: move the timestamp into the past.
    await store.kvPairs.updateOne(
      { name: 'short' },
      { $set: { expire_timestamp: new Date(Date.now() - 1000).toISOString() } },
    );
    expect(await kv.get('short')).toBeNull();
    expect((await kv.list()).items).toEqual([]);
    expect((await kv.snapshot()).system).toEqual({});
    events.length = 0;
    expect(await kv.purgeExpired()).toBe(1);
    expect(await store.kvPairs.count({})).toBe(0);
    expect(events.map((e) => e.name)).toEqual(['st2.key_value_pair__delete', 'trigger.dispatch']);
    await expect(kv.set('bad', 'x', { ttl: 0 })).rejects.toThrow(/ttl must be a positive whole number/);
  });

  it('publishes st2 events and internal triggers, value_change only when the value changes', async () => {
    await kv.set('k', 'v1');
    await kv.set('k', 'v1');
    await kv.set('k', 'v2');
    await kv.delete('k');
    const triggers = events
      .filter((e) => e.name === 'trigger.dispatch')
      .map((e) => (e.payload as { trigger: string }).trigger);
    expect(triggers).toEqual([
      'core.st2.key_value_pair.create',
      'core.st2.key_value_pair.update',
      'core.st2.key_value_pair.update',
      'core.st2.key_value_pair.value_change',
      'core.st2.key_value_pair.delete',
    ]);
    expect(events.filter((e) => e.name.startsWith('st2.')).map((e) => e.name)).toEqual([
      'st2.key_value_pair__create',
      'st2.key_value_pair__update',
      'st2.key_value_pair__update',
      'st2.key_value_pair__delete',
    ]);
    const change = events.find(
      (e) => (e.payload as { trigger?: string }).trigger === 'core.st2.key_value_pair.value_change',
    );
    expect(change?.payload).toMatchObject({
      payload: { old_object: { value: 'v1' }, new_object: { value: 'v2' } },
    });
  });

  it('never puts a secret’s plaintext in an event', async () => {
    await kv.set('s', 'plain-secret-value', { secret: true });
    await kv.set('s', 'another-secret-value', { secret: true });
    expect(JSON.stringify(events)).not.toMatch(/plain-secret-value|another-secret-value/);
    expect(
      events.some(
        (e) => (e.payload as { trigger?: string }).trigger === 'core.st2.key_value_pair.value_change',
      ),
    ).toBe(true);
  });

  it('lists by prefix with totals and paging', async () => {
    for (const n of ['app.a', 'app.b', 'app.c', 'other']) await kv.set(n, n);
    const page = await kv.list({ prefix: 'app.', limit: 2, offset: 1 });
    expect(page.total).toBe(3);
    expect(page.items.map((i) => i.name)).toEqual(['app.b', 'app.c']);
    expect((await kv.list({ prefix: 'a.p' })).total).toBe(0);
  });

  it('snapshots system and one user’s keys, secrets as ciphertext', async () => {
    await kv.set('region', 'eu');
    const secret = await kv.set('pw', 'x', { secret: true });
    await kv.set('mine', 'yes', { scope: 'user', user: 'alice' });
    await kv.set('theirs', 'no', { scope: 'user', user: 'bob' });
    expect(await kv.snapshot('alice')).toEqual({
      system: { region: 'eu', pw: secret.value },
      user: { mine: 'yes' },
    });
  });

  it('gives actions st2’s action_service view, with local keys prefixed', async () => {
    const ds = kv.actionDatastore({ user: 'alice', may: () => true }, 'mypack.MyAction');
    await ds.setValue('count', '1', { local: true });
    await ds.setValue('note', 'n', { scope: 'user' });
    expect(await ds.getValue('count', { local: true })).toBe('1');
    expect((await kv.get('mypack.MyAction:count'))?.value).toBe('1');
    expect((await kv.get('note', { scope: 'user', user: 'alice' }))?.value).toBe('n');
    expect(await ds.listValues({ local: true })).toEqual([{ name: 'mypack.MyAction:count', value: '1' }]);
    expect(await ds.deleteValue('count', { local: true })).toBe(true);
    expect(await ds.getValue('count', { local: true })).toBeNull();
  });

  it('calls onKeyChange listeners until unsubscribed', async () => {
    const seen: string[] = [];
    const off = kv.onKeyChange((c) => seen.push(`${c.kind}:${c.item.name}`));
    await kv.set('a', '1');
    off();
    await kv.set('b', '1');
    expect(seen).toEqual(['create:a']);
  });
});
