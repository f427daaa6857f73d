import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatopsSubsystem } from '../../../src/chatops/index.js';
import { contentSubsystem } from '../../../src/content/index.js';
import { executionsSubsystem } from '../../../src/executions/index.js';
import { notifierSubsystem } from '../../../src/notifier/index.js';
import { eventsSubsystem } from '../../../src/rules/index.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE_PACKS = path.join(here, '..', 'chatops', 'fixtures', 'packs');

// st2's notifier runs apart from chat: a process without the `chat` role still delivers an
// action's notify routes and emits core.st2.generic.notifytrigger when an execution completes.
describe('notify in a process without the chat role', () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let receiver: http.Server;
  const received: Array<{ path?: string; body: unknown }> = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ path: req.url, body: JSON.parse(body) as unknown });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const executions = executionsSubsystem();
    const chatops = chatopsSubsystem(() => executions.service());
    svc = await startTestService({
      subsystems: [
        testSecretsSubsystem(),
        contentSubsystem(),
        executions,
        eventsSubsystem(() => executions.service()),
        chatops,
        notifierSubsystem(
          () => executions.service(),
          () => chatops.notifier(),
        ),
      ],
      config: {
        roles: ['api', 'rules', 'scheduler', 'runner'],
        'auth.enable': false,
        'packs.paths': [FIXTURE_PACKS],
        'chatops.routes': { ops: { webhook: hookUrl } },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await svc?.cleanup();
    await new Promise((r) => receiver?.close(r));
  });

  it('delivers the route and records the notifytrigger instance', async () => {
    const res = await fetch(`${svc.url}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'chattest.notify_me', parameters: { word: 'pong' } }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const hook = await waitFor(
      () => received.find((r) => r.path === '/hook'),
      'the webhook delivery',
      20_000,
    );
    expect(hook.body).toMatchObject({
      message: 'notify_me said pong for stanley',
      data: { word: 'pong', route: 'ops', execution_id: id, status: 'succeeded' },
    });
    const instance = await waitFor(
      () => svc.services.store.triggerInstances.findOne({ trigger: 'core.st2.generic.notifytrigger' }),
      'the notifytrigger instance',
      20_000,
    );
    expect(instance.payload).toMatchObject({ execution_id: id, route: 'ops', status: 'succeeded' });
  });
});
