import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSubsystems, finishedExecution, startTestApi, type TestApi } from '../../support/api.js';

/**
 * Issue 19: rendering an event's parameters read every live datastore key (twice per webhook),
 * even for templates that never use the datastore. The keys are read only when a template of
 * the rule or the action can reach them (`st2kv`, `decrypt_kv`).
 */
describe('the datastore is read for a template only when it uses it (all subsystems)', () => {
  let api: TestApi;
  let reads = 0;

  beforeAll(async () => {
    api = await startTestApi({ subsystems: await allSubsystems() });
    const kvPairs = api.services.store.kvPairs;
    const find = kvPairs.find.bind(kvPairs);
    kvPairs.find = (...args) => {
      // The snapshot's read (every live key of a scope); the expiry sweep's reads run on their own.
      if (JSON.stringify(args[0] ?? {}).includes('"scope"')) reads++;
      return find(...args);
    };
    expect(
      (await api.request('PUT', '/api/v1/keys/greeting', { body: { value: 'hello from kv' } })).status,
    ).toBe(200);
    const rule = (name: string, url: string, action: Record<string, unknown>) =>
      api.request('POST', '/api/v1/rules', {
        body: {
          name,
          pack: 'core',
          enabled: true,
          trigger: { type: 'core.st2.webhook', parameters: { url } },
          criteria: {},
          action,
        },
      });
    expect(
      (
        await rule('plain_hook', 'plain_hook', {
          ref: 'core.local',
          parameters: { cmd: 'echo {{ trigger.body.n }}' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await rule('kv_hook', 'kv_hook', {
          ref: 'core.local',
          parameters: { cmd: 'echo {{ st2kv.system.greeting }}' },
        })
      ).status,
    ).toBe(201);
  }, 60_000);
  afterAll(() => api?.stop());

  const hook = async (url: string) => {
    const res = await api.request('POST', `/api/v1/webhooks/${url}?wait=30`, { body: { n: 7 } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [execution] = res.body.executions as Array<{ id: string }>;
    return (await finishedExecution(api, execution.id)).result.stdout;
  };

  it('renders a webhook rule without st2kv without reading a key', async () => {
    await hook('plain_hook');
    const before = reads;
    for (let i = 0; i < 3; i++) expect(String(await hook('plain_hook'))).toBe('7');
    expect(reads - before).toBe(0);
  });

  it('still renders st2kv for a rule that uses it', async () => {
    expect(await hook('kv_hook')).toBe('hello from kv');
    expect(reads).toBeGreaterThan(0);
  });
});
