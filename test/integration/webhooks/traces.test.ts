import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../../src/ids.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { startEvents, type EventsService, type Json } from './support.js';

/**
 * Traces stored by an older Squall list their members in the record; a trace stored now reads its
 * members from their own records. Both answer the same API.
 */
for (const target of STORE_TARGETS) {
  describeWithServer(
    `traces stored with their member lists still read (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let s: EventsService;
      beforeAll(async () => {
        s = await startEvents(target);
      });
      afterAll(async () => s?.svc.cleanup());

      it('a trace with its lists reads as stored, and an execution that joins it later is listed after them', async () => {
        const old = {
          id: newId(),
          trace_tag: 'before-upgrade',
          start_timestamp: '2026-01-02T03:04:05.000Z',
          trigger_instances: [
            { object_id: newId(), ref: 'core.st2.webhook', updated_at: '2026-01-02T03:04:05.000Z' },
          ],
          rules: [
            {
              object_id: newId(),
              ref: 'pack.rule',
              caused_by: { type: 'trigger_instance', id: 'x' },
              updated_at: '2026-01-02T03:04:05.010Z',
            },
          ],
          action_executions: [
            {
              object_id: newId(),
              ref: 'core.noop',
              caused_by: { type: 'rule', id: 'r:x' },
              updated_at: '2026-01-02T03:04:05.020Z',
            },
          ],
        };
        await s.svc.services.store.traces.insert(old as never);
        const res = await s.api('POST', '/api/v1/executions', {
          action: 'core.noop',
          parameters: {},
          context: { trace_context: { trace_id: old.id } },
        });
        expect(res.status, res.text).toBe(201);
        await s.finished(res.body.id);

        const got = (await s.api('GET', `/api/v1/traces/${old.id}`)).body as Json;
        expect(got).toMatchObject({
          id: old.id,
          trace_tag: 'before-upgrade',
          start_timestamp: old.start_timestamp,
          trigger_instances: old.trigger_instances,
          rules: old.rules,
        });
        expect(got.action_executions).toEqual([
          old.action_executions[0],
          expect.objectContaining({ object_id: res.body.id, ref: 'core.noop' }),
        ]);
        // Found by a member it lists and by one that joined since.
        for (const q of [
          `execution=${old.action_executions[0]!.object_id}`,
          `execution=${res.body.id}`,
          `rule=${old.rules[0]!.object_id}`,
          `trigger_instance=${old.trigger_instances[0]!.object_id}`,
        ]) {
          const listed = (await s.api('GET', `/api/v1/traces?${q}`)).body as Json[];
          expect(
            listed.map((t) => t.id),
            q,
          ).toEqual([old.id]);
          expect(listed[0]).toEqual(got);
        }
        expect((await s.api('GET', `/api/v1/traces?execution=${newId()}`)).body).toEqual([]);
      });
    },
  );
}
