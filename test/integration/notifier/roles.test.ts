import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chatopsSubsystem } from '../../../src/chatops/index.js';
import { contentSubsystem } from '../../../src/content/index.js';
import { executionsSubsystem } from '../../../src/executions/index.js';
import { Notifier, notifierSubsystem } from '../../../src/notifier/index.js';
import { eventsSubsystem } from '../../../src/rules/index.js';
import { idAt, idFor } from '../../../src/ids.js';
import { describeOnEachStore, freshMongoUrl } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { readsDuring } from '../../support/reads.js';
import { waitFor } from '../../support/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE_PACKS = path.join(here, '..', 'chatops', 'fixtures', 'packs');

// st2's notifier runs apart from chat: a process without the `chat` role still delivers an
// action's notify routes and emits core.st2.generic.notifytrigger when an execution completes.
describeOnEachStore('notify in a process without the chat role', (target) => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let receiver: http.Server;
  let notifier: Notifier;
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
      mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
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
    // What a process taking over a dead owner's claim runs (the sweep's resumeClaimedWork).
    notifier = new Notifier(
      svc.services,
      () => executions.service(),
      () => chatops.notifier(),
    );
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
    // Named after its claim and the execution's end (idAt): it sorts with the instances of its time.
    const key = `chatops:notify:${id}:on-complete:ops`;
    const execution = (await svc.services.store.executions.get(id))!;
    expect(instance.id).toBe(idAt(key, execution.end_timestamp!));

    // A dead owner of an older version stored it under idFor's id: a taker finds it, stores no other.
    await svc.services.store.triggerInstances.deleteOne({ id: instance.id });
    await svc.services.store.triggerInstances.insert({ ...instance, id: idFor(key) });
    // The taker looks the instance up once (storedIds); dispatch, not awaited, does not read it
    // again: its transaction, its last step, is awaited before the reads are counted.
    const { store } = svc.services;
    const transaction = store.transaction.bind(store);
    const dispatched: Array<Promise<unknown>> = [];
    store.transaction = ((work: () => Promise<unknown>) => {
      const done = transaction(work);
      dispatched.push(done);
      return done;
    }) as typeof store.transaction;
    try {
      const reads = await readsDuring(store.triggerInstances, async () => {
        await notifier.notifyWork.run(id, { resumed: true });
        await waitFor(() => dispatched.length > 0 || null, 'the notifytrigger dispatch', 20_000);
        await Promise.all(dispatched);
      });
      expect(reads).toEqual([]);
    } finally {
      store.transaction = transaction;
    }
    // The trigger is dispatched without being awaited: give a second instance time to show.
    const notifyInstances = () =>
      svc.services.store.triggerInstances.find({ trigger: 'core.st2.generic.notifytrigger' });
    for (let waited = 0; waited < 2000 && (await notifyInstances()).length < 2; waited += 100)
      await new Promise((r) => setTimeout(r, 100));
    expect((await notifyInstances()).map((i) => i.id)).toEqual([idFor(key)]);
  });
});
