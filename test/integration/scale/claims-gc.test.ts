import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../../src/ids.js';
import { FINISHED_CLAIMS_KEEP_MS, Retention } from '../../../src/scale/retention.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { startEvents, type EventsService } from '../webhooks/support.js';

const BURST = 30;
const DAY_MS = 86_400_000;

/**
 * Every webhook left claims behind for good — its delivery id, each rule's enforcement, the run
 * and the completion of each execution — about 1 KB per webhook that nothing ever deleted (issue
 * 19). Retention now collects the claims whose work is finished, and keeps a delivery id's claim
 * as long as its trigger instances, so that a redelivery still gets the first answer.
 */
for (const target of STORE_TARGETS) {
  describeWithServer(`claims collected by retention (${target.kind})`, target.kind, target.available, () => {
    let s: EventsService;
    const retention = () => new Retention(s.svc.services);
    const claims = () => s.svc.services.store.claims.count({});

    /** Sends the webhooks (each with a delivery id, or none) and waits until their executions finished. */
    async function burst(withDeliveryIds: boolean): Promise<string[]> {
      const ids = Array.from({ length: BURST }, () => newId());
      for (const [n, id] of ids.entries()) {
        const res = await s.api(
          'POST',
          '/api/v1/webhooks/collected',
          { n },
          withDeliveryIds ? { 'X-Request-Id': id } : {},
        );
        expect(res.status, res.text).toBe(202);
      }
      const { store } = s.svc.services;
      await waitFor(
        async () => {
          const executions = await store.executions.find({ 'action.ref': 'core.noop' });
          const done = executions.filter((e) => ['succeeded', 'failed'].includes(e.status));
          return (
            (await store.liveExecutions.count({})) === 0 &&
            (await store.pendingInstances.count({})) === 0 &&
            done.length === executions.length
          );
        },
        'the instances of the burst processed and their executions finished',
        60_000,
        100,
      );
      return ids;
    }

    beforeAll(async () => {
      s = await startEvents(target);
      await s.createRule({
        name: 'collected',
        pack: 'hooks',
        enabled: true,
        trigger: { type: 'core.st2.webhook', parameters: { url: 'collected' } },
        action: { ref: 'core.noop' },
      });
    }, 60_000);
    afterAll(async () => s?.svc.cleanup());

    it('after a burst only the delivery ids stay, and a redelivery is still answered from its claim', async () => {
      const past = () => Date.now() + FINISHED_CLAIMS_KEEP_MS + 60_000;
      await retention().collect(past());
      const before = await claims();

      await burst(false);
      const ids = await burst(true);
      expect(await claims(), 'claims taken by the bursts').toBeGreaterThanOrEqual(before + 4 * BURST);

      // Claims younger than FINISHED_CLAIMS_KEEP_MS stay: a racer in flight must still lose them.
      await retention().collect();
      expect(await claims()).toBeGreaterThanOrEqual(before + 4 * BURST);

      await retention().collect(past());
      expect(await claims(), 'one claim per delivery id, nothing else per webhook').toBe(before + BURST);
      const { store } = s.svc.services;
      expect(await store.executions.count({ 'action.ref': 'core.noop' })).toBe(2 * BURST);

      const instancesBefore = await store.triggerInstances.count({});
      const again = await s.api('POST', '/api/v1/webhooks/collected', { n: 0 }, { 'X-Request-Id': ids[0] });
      expect(again.status).toBe(202);
      expect(again.headers.get('x-squall-redelivery')).toBe('true');
      expect(await store.triggerInstances.count({})).toBe(instancesBefore);

      // Once the instances of a delivery are past trigger_instances_days, so is its claim.
      const days = s.svc.services.config.retention.trigger_instances_days;
      await retention().collect(Date.now() + (days + 1) * DAY_MS);
      expect(await claims()).toBe(before);
    }, 180_000);
  });
}
