import { afterAll, beforeAll, expect, it } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { sleep, waitFor } from '../../support/wait.js';
import { isCompleted } from '../../../src/executions/index.js';

type Json = Record<string, any>;

const embedded = STORE_TARGETS.find((t) => t.kind === 'embedded')!;
const DAY_S = 86_400;

/**
 * Issue 18 item 7: `timeout=1000000000000` timed out after 0.04 s (setTimeout fires at once past
 * 2^31 ms) and `delay: 9007199254740992` ran at once. Out-of-range values are refused; long ones
 * that are in range wait as long as they say.
 */
describeWithServer('long timeouts and delays', 'the embedded store', embedded.available, () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const post = async (body: Json) => {
    const res = await fetch(`${svc.url}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const get = async (id: string) =>
    (await (await fetch(`${svc.url}/api/v1/executions/${id}`)).json()) as Json;

  beforeAll(async () => {
    svc = await startTestService({
      subsystems: [testSecretsSubsystem(), contentSubsystem(), executionsSubsystem()],
      config: { 'auth.enable': false },
    });
  });
  afterAll(async () => svc?.cleanup());

  it('a timeout of 35 days (past the 24.8-day timer limit) does not cut a 2 s action short', async () => {
    const res = await post({
      action: 'core.local',
      parameters: { cmd: 'sleep 2; echo finished', timeout: 35 * DAY_S },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const done = await waitFor(
      async () => {
        const e = await get(res.body.id);
        return isCompleted(e.status) ? e : null;
      },
      'the action to end',
      30_000,
    );
    expect(done.status).toBe('succeeded');
    expect(done.result.stdout).toContain('finished');
  });

  it('a timeout beyond a year is refused with a 400 naming the parameter', async () => {
    const res = await post({ action: 'core.local', parameters: { cmd: 'true', timeout: 1_000_000_000_000 } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('timeout');
  });

  it('a delay beyond a year is refused with a 400 naming it', async () => {
    const res = await post({ action: 'core.noop', delay: 9_007_199_254_740_992 });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('delay');
  });

  it('a delay of 30 days waits', async () => {
    const res = await post({ action: 'core.noop', delay: 30 * DAY_S * 1000 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await sleep(2000);
    expect((await get(res.body.id)).status).toBe('delayed');
  });
});
