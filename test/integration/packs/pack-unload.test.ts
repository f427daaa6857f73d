import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestPack } from '../../support/packs.js';
import { tempDir } from '../../support/servers.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { fixturePacksDir, startSt2PackService, type St2PackService } from '../../support/st2-pack-service.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { sleep, waitFor } from '../../support/wait.js';

type Json = Record<string, any>;

/**
 * Issue 21: st2's `packs.unload` (contrib/packs/actions/pack_mgmt/unload.py) removes a pack's
 * registered content through st2common.persistence, which Squall's shim serves with its API; the
 * pack's files stay and `pack register` brings it back. The pack_mgmt fixture is our own action
 * making the same st2common calls in the same order (the acceptance run in README "Packs" runs
 * st2's own file from the Exchange mirror).
 */
describe("st2's packs.unload on Squall (issue 21)", () => {
  let svc: St2PackService['svc'];
  let api: St2PackService['api'];
  let run: St2PackService['run'];
  const packsDir = fixturePacksDir(['unload_me', 'pack_mgmt']);
  const configs = tempDir();

  const content = async () => {
    const of = async (p: string) => (await api('GET', p)).body.map((r: Json) => r.ref ?? r.name);
    return {
      actions: await of('/api/v1/actions?pack=unload_me'),
      rules: await of('/api/v1/rules?pack=unload_me'),
      // (no chatops subsystem here: the aliases API is not served)
      aliases: (await svc.services.store.aliases.find({ pack: 'unload_me' })).map((a) => a.ref),
      policies: await of('/api/v1/policies?pack=unload_me'),
      sensors: await of('/api/v1/sensortypes?pack=unload_me'),
      trigger_types: await of('/api/v1/triggertypes?pack=unload_me'),
      pack: (await api('GET', '/api/v1/packs/unload_me')).status,
      config_schema: (await api('GET', '/api/v1/config_schemas/unload_me')).status,
    };
  };
  const registered = {
    actions: ['unload_me.greet'],
    rules: ['unload_me.on_hook'],
    aliases: ['unload_me.greet'],
    policies: ['unload_me.greet.concurrency'],
    sensors: ['unload_me.Ticker'],
    trigger_types: ['unload_me.greeted', 'unload_me.tick'],
    pack: 200,
    config_schema: 200,
  };
  const ticks = async () =>
    (await svc.services.store.triggerInstances.find({ trigger: 'unload_me.tick' })).length;
  const greetings = async () =>
    (await svc.services.store.executions.find({ 'action.ref': 'unload_me.greet' })).length;

  beforeAll(async () => {
    writeFileSync(path.join(configs.dir, 'unload_me.yaml'), 'greeting: hi\n');
    // Another pack's rule on unload_me's trigger type: st2's unload warns about it.
    writeTestPack(packsDir.dir, 'unload_user', {
      'rules/on_greeted.yaml':
        'name: on_greeted\npack: unload_user\ntrigger:\n  type: unload_me.greeted\naction:\n  ref: core.noop\n',
    });
    ({ svc, api, run } = await startSt2PackService({
      packsDir: packsDir.dir,
      sensorPack: 'unload_me',
      config: { 'packs.config_dir': configs.dir },
    }));
  });
  afterAll(async () => {
    await svc?.cleanup();
    packsDir.cleanup();
    configs.cleanup();
  });

  it('has every kind of the pack registered, its rule firing and its sensor running', async () => {
    expect(await content()).toEqual(registered);
    expect((await api('GET', '/api/v1/configs/unload_me')).body.values).toEqual({ greeting: 'hi' });
    const hook = await api('POST', '/api/v1/webhooks/unload_me_hook', { who: 'before' });
    expect(hook.status, JSON.stringify(hook.body)).toBe(202);
    await waitFor(async () => (await greetings()) === 1, 'the rule to run unload_me.greet', 15_000);
    await waitFor(async () => (await ticks()) > 0, 'the ticker sensor to dispatch', 30_000);
    expect((await run('unload_me.greet', { who: 'you' })).result.result).toBe('hello you');
  });

  it("unloads through st2common's persistence calls as st2's unload.py does: the pack's records are gone, its files stay", async () => {
    const e = await run('pack_mgmt.unload', { packs: ['unload_me'] });
    expect(e.status, JSON.stringify(e.result)).toBe('succeeded');
    // st2's action returns nothing; it logs what it did.
    expect(e.result.result).toBeNull();
    expect(e.result.stderr).toContain('Removed pack unload_me.');
    expect(e.result.stderr).toContain('Rule "on_greeted" references deleted trigger "unload_me.greeted"');
    expect(e.result.stderr).not.toContain('Traceback');
    expect(await content()).toEqual({
      actions: [],
      rules: [],
      aliases: [],
      policies: [],
      sensors: [],
      trigger_types: [],
      pack: 404,
      config_schema: 404,
    });
    for (const file of ['pack.yaml', 'actions/greet.py', 'rules/on_hook.yaml', 'sensors/ticker.py'])
      expect(existsSync(path.join(packsDir.dir, 'unload_me', file)), file).toBe(true);
    expect(existsSync(path.join(configs.dir, 'unload_me.yaml'))).toBe(true);
    // Other packs are untouched.
    expect((await api('GET', '/api/v1/rules?pack=unload_user')).body).toHaveLength(1);
  });

  it('no longer fires the rule nor runs the sensor', async () => {
    const before = await greetings();
    const hook = await api('POST', '/api/v1/webhooks/unload_me_hook', { who: 'after' });
    expect(hook.status).toBe(404);
    expect((await api('POST', '/api/v1/executions', { action: 'unload_me.greet' })).status).toBe(404);
    // The sensor process is stopped: no tick after a grace period.
    await sleep(2500);
    const settled = await ticks();
    await sleep(2500);
    expect(await ticks()).toBe(settled);
    expect(await greetings()).toBe(before);
  });

  it('`pack register` brings everything back from the files still on disk', async () => {
    const res = await api('POST', '/api/v1/packs/register', { packs: ['unload_me'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await content()).toEqual(registered);
    expect((await api('GET', '/api/v1/configs/unload_me')).body.values).toEqual({ greeting: 'hi' });
    const before = await greetings();
    await waitFor(
      async () => (await api('POST', '/api/v1/webhooks/unload_me_hook', { who: 'again' })).status === 202,
      'the webhook to be back',
      10_000,
    );
    await waitFor(async () => (await greetings()) > before, 'the rule to fire again', 15_000);
    const e = await run('unload_me.greet', { who: 'you' });
    expect(e.result.result).toBe('hello you');
    const ticked = await ticks();
    await waitFor(async () => (await ticks()) > ticked, 'the ticker sensor to run again', 30_000);
  });

  it("refuses, as st2's unload does, the system packs, before removing anything", async () => {
    const e = await run('pack_mgmt.unload', { packs: ['unload_me', 'core'] });
    expect(e.status).toBe('failed');
    expect(e.result.stderr).toContain('ValueError: Unregister includes an unregisterable pack - core.');
    expect((await content()).actions).toEqual(['unload_me.greet']);
  });

  it("keeps a bundled pack: st2's code logs each refused delete, and the pack stays whole", async () => {
    const before = (await api('GET', '/api/v1/actions?pack=examples&limit=-1')).body.length;
    const e = await run('pack_mgmt.unload', { packs: ['examples'] });
    expect(e.result.stderr).toContain('pack "examples" is bundled with Squall and cannot be unloaded');
    expect((await api('GET', '/api/v1/actions?pack=examples&limit=-1')).body).toHaveLength(before);
    expect((await api('GET', '/api/v1/packs/examples')).status).toBe(200);
  });

  it('logs, as st2 does, a pack that is not registered, and ends', async () => {
    const e = await run('pack_mgmt.unload', { packs: ['no_such_pack'] });
    expect(e.status).toBe('succeeded');
    expect(e.result.stderr).toContain('Pack DB object not found');
  });

  describe('POST /api/v1/packs/unload', () => {
    it('unloads a whole pack at once and says what went', async () => {
      const res = await api('POST', '/api/v1/packs/unload', { packs: ['unload_me'] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.unloaded.unload_me).toMatchObject({
        Action: ['unload_me.greet'],
        Rule: ['unload_me.on_hook'],
        ActionAlias: ['unload_me.greet'],
        Policy: ['unload_me.greet.concurrency'],
        SensorType: ['unload_me.Ticker'],
        TriggerType: ['unload_me.greeted', 'unload_me.tick'],
        Pack: ['unload_me'],
        ConfigSchema: ['unload_me'],
        Config: ['unload_me'],
        warnings: ['Rule "unload_user.on_greeted" references deleted trigger "unload_me.greeted"'],
      });
      expect((await content()).pack).toBe(404);
      expect(existsSync(path.join(packsDir.dir, 'unload_me', 'pack.yaml'))).toBe(true);
      expect((await api('POST', '/api/v1/packs/register', { packs: ['unload_me'] })).status).toBe(200);
      expect(await content()).toEqual(registered);
    });

    it('answers 404 for a pack that is not registered, and removes nothing of the others named', async () => {
      const res = await api('POST', '/api/v1/packs/unload', { packs: ['unload_me', 'no_such_pack'] });
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).toContain('no_such_pack');
      expect(await content()).toEqual(registered);
    });

    it('refuses a pack bundled with Squall, as pack remove does', async () => {
      const res = await api('POST', '/api/v1/packs/unload', { packs: ['examples'] });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('bundled with Squall and cannot be unloaded');
      expect((await api('GET', '/api/v1/packs/examples')).status).toBe(200);
      const one = (await api('GET', '/api/v1/packs/examples/records')).body;
      expect(one.bundled).toBe(true);
      const action = one.records.Action[0];
      const del = await api('DELETE', `/api/v1/packs/examples/records/Action/${action.id}`);
      expect(del.status).toBe(400);
      expect((await api('GET', `/api/v1/actions/${action.ref}`)).status).toBe(200);
    });
  });

  describe('across restarts', () => {
    it('an unloaded pack stays unloaded when Squall starts again, until it is registered (st2 registers nothing at start)', async () => {
      const data = tempDir();
      const start = () =>
        startTestService({
          dataDir: data.dir,
          subsystems: [testSecretsSubsystem(), contentSubsystem()],
          config: { 'auth.enable': false, 'packs.paths': [packsDir.dir], 'packs.config_dir': configs.dir },
        });
      const registeredAfterStart = async () => {
        const s = await start();
        try {
          return Boolean(await s.services.store.actions.findOne({ ref: 'unload_me.greet' }));
        } finally {
          await s.stop();
        }
      };
      try {
        let s = await start();
        const url = (p: string) => `${s.url}${p}`;
        const post = (p: string, body: unknown) =>
          fetch(url(p), {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        expect((await post('/api/v1/packs/unload', { packs: ['unload_me'] })).status).toBe(200);
        await s.stop();
        expect(await registeredAfterStart()).toBe(false);
        s = await start();
        expect(
          (
            await fetch(`${s.url}/api/v1/packs/register`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ packs: ['unload_me'] }),
            })
          ).status,
        ).toBe(200);
        await s.stop();
        expect(await registeredAfterStart()).toBe(true);
      } finally {
        data.cleanup();
      }
    }, 60_000);
  });
});
