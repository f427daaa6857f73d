import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { startEvents, type EventsService } from '../webhooks/support.js';

/**
 * The executions and enforcements a rule makes have ids laid out as st2's (MongoDB ObjectIds):
 * their first 4 bytes are the second they were made in, and later ones sort after earlier ones.
 * They were a hash of the claim's key (ids read as dates decades away, in no order), which also
 * put every insert at a random place in the indexes keyed by them.
 */
for (const target of STORE_TARGETS) {
  describeWithServer(`ids of a rule's executions (${target.kind})`, target.kind, target.available, () => {
    let s: EventsService;
    beforeAll(async () => {
      s = await startEvents(target);
      await s.createRule({
        name: 'ordered',
        pack: 'hooks',
        enabled: true,
        trigger: { type: 'core.st2.webhook', parameters: { url: 'ordered' } },
        action: { ref: 'core.noop' },
      });
    }, 60_000);
    afterAll(async () => s?.svc.cleanup());

    it('carry the second they were made in and sort in the order they were made', async () => {
      const { store } = s.svc.services;
      const before = Math.floor(Date.now() / 1000);
      const made: { execution: string; enforcement: string }[] = [];
      for (let n = 0; n < 4; n++) {
        const res = await s.api('POST', '/api/v1/webhooks/ordered', { n });
        expect(res.status, res.text).toBe(202);
        const enforcement = await waitFor(
          async () =>
            (await store.ruleEnforcements.find({ 'rule.ref': 'hooks.ordered' })).find(
              (e) => !made.some((m) => m.enforcement === e.id),
            ),
          `enforcement ${n}`,
        );
        made.push({ execution: enforcement.execution_id!, enforcement: enforcement.id });
      }
      const after = Math.floor(Date.now() / 1000);
      for (const ids of [made.map((m) => m.execution), made.map((m) => m.enforcement)]) {
        expect(ids).toEqual([...ids].sort());
        for (const id of ids) {
          expect(id).toMatch(/^[0-9a-f]{24}$/);
          const seconds = parseInt(id.slice(0, 8), 16);
          expect(seconds).toBeGreaterThanOrEqual(before - 1);
          expect(seconds).toBeLessThanOrEqual(after);
        }
      }
      for (const m of made) await s.finished(m.execution);
    });
  });
}
