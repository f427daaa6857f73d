import { afterAll, beforeAll, expect, it } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { describeWithServer } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';

/**
 * On the embedded store a process keeps the content it reads (issue 19): the next request after
 * an API write must see the write, never the kept record.
 */
describeWithServer('the content cache on the embedded store', 'the embedded store', true, () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  beforeAll(async () => {
    svc = await startTestService({
      subsystems: [testSecretsSubsystem(), contentSubsystem(), executionsSubsystem()],
      config: { 'auth.enable': false },
    });
  });
  afterAll(() => svc.cleanup());

  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${svc.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };

  it('keeps actions read by ref, and an action disabled through the API is refused by the next request', async () => {
    const cache = svc.services.store.contentCache;
    expect(cache.enabled).toBe(true);
    for (let i = 0; i < 2; i++)
      expect((await call('POST', '/api/v1/executions', { action: 'core.noop' })).status).toBe(201);
    const hits = cache.hits;
    expect((await call('POST', '/api/v1/executions', { action: 'core.noop' })).status).toBe(201);
    expect(cache.hits).toBeGreaterThan(hits);

    expect((await call('PUT', '/api/v1/actions/core.noop', { enabled: false })).status).toBe(200);
    const refused = await call('POST', '/api/v1/executions', { action: 'core.noop' });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.text).toMatch(/disabled/i);
  });
});
