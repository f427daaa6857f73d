import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_TARGETS } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { copyInstance, startEvents, type EventsService } from '../webhooks/support.js';

const embedded = STORE_TARGETS.find((t) => t.kind === 'embedded')!;

/**
 * On a store whose job locks are not atomic (FerretDB) two processes can run the same
 * trigger.process job. The run that finds a rule's claim taken must not mark the instance
 * processed before that rule's enforcement exists: a synchronous webhook reads the enforcements
 * as soon as the instance says processed, and would answer without the execution.
 */
describe('a trigger instance processed by two runs at once', () => {
  let s: EventsService;
  beforeAll(async () => {
    s = await startEvents(embedded);
    await s.createRule({
      name: 'twice',
      pack: 'hooks',
      enabled: true,
      trigger: { type: 'core.st2.webhook', parameters: { url: 'twice' } },
      action: { ref: 'core.noop' },
    });
  }, 60_000);
  afterAll(async () => s?.svc.cleanup());

  it('is marked processed only once the rule is enforced, by whichever run enforced it', async () => {
    // A real instance's shape, from a real delivery.
    const res = await s.api('POST', '/api/v1/webhooks/twice', { n: 1 });
    expect(res.status, res.text).toBe(202);
    const store = s.svc.services.store;
    const first = await waitFor(
      async () =>
        (await store.triggerInstances.find({})).find(
          (t) => (t.payload as { body?: { n?: number } }).body?.n === 1,
        ),
      'the first instance',
    );
    await s.processed(first.id);

    const id = await copyInstance(s, first, { n: 2 });
    const engine = s.events.engine();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let requested!: () => void;
    const requestStarted = new Promise<void>((r) => (requested = r));
    // The engine requests executions through the executions subsystem's service: hold its
    // first request so the second run finds the rule's claim taken.
    const engineExecutions = (
      engine as unknown as { executions: () => { request: (...a: unknown[]) => Promise<unknown> } }
    ).executions();
    const request = engineExecutions.request.bind(engineExecutions);
    engineExecutions.request = async (...args: unknown[]) => {
      requested();
      await gate;
      return request(...args);
    };
    try {
      const slow = engine.process(id);
      await requestStarted;
      await engine.process(id); // the second run: the rule's claim is taken
      expect((await store.triggerInstances.get(id))?.status).toBe('processing');
      release();
      await slow;
    } finally {
      engineExecutions.request = request;
    }
    expect((await store.triggerInstances.get(id))?.status).toBe('processed');
    const enforcements = await store.ruleEnforcements.find({ trigger_instance_id: id });
    expect(enforcements).toHaveLength(1);
    expect(enforcements[0].status).toBe('succeeded');
  });
});
