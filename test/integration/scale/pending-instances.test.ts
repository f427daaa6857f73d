import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { newId } from '../../../src/ids.js';
import { TRIGGER_PROCESS_JOB, dispatchTrigger } from '../../../src/triggers/dispatch.js';
import { sweepPendingInstances } from '../../../src/triggers/pending.js';
import { traceHolding, withComponents } from '../../../src/traces/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { listenToActionTrigger, startEvents, type EventsService, type Json } from '../webhooks/support.js';

/**
 * A process that dies between storing a trigger instance and queueing its `trigger.process` job
 * must not leave the instance pending forever: the sweep finds it in `pending_instances`.
 */
for (const target of STORE_TARGETS) {
  describeWithServer(
    `scale.sweep: trigger instances whose processing job was lost (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let s: EventsService;
      const TRIGGER = 'core.st2.webhook';
      beforeAll(async () => {
        // Long checks: only the sweeps the test calls act.
        s = await startEvents(target, { 'executions.check_every_ms': 600_000 });
        await s.createRule({
          name: 'on_pending',
          pack: 'hooks',
          enabled: true,
          trigger: { type: TRIGGER, parameters: { url: 'pending' } },
          action: { ref: 'core.noop' },
        });
      });
      afterAll(async () => s?.svc.cleanup());

      const store = () => s.svc.services.store;
      /** The entry goes just after the instance is marked processed (in that order, for crash safety). */
      const goneFromPending = (id: string) =>
        waitFor(
          async () => (await store().pendingInstances.get(id)) === null,
          `${id} to leave pending_instances`,
        );
      const minuteAgo = () => new Date(Date.now() - 60_000).toISOString();
      /** An instance of the rule's trigger, stored (and entered) a minute ago, as if its job was never queued. */
      const strandedInstance = async (n: number) => {
        const ref = (await store().triggers.find({ type: TRIGGER })).find(
          (t) => (t.parameters as Json)?.url === 'pending',
        )!.ref;
        const id = newId();
        await store().pendingInstances.replace({ id, since: minuteAgo() });
        await store().triggerInstances.insert({
          id,
          trigger: ref,
          trigger_type: TRIGGER,
          payload: { headers: {}, body: { n } },
          occurrence_time: minuteAgo(),
          status: 'pending',
        } as never);
        return id;
      };
      const enforcementsOf = async (id: string) =>
        (await s.api('GET', `/api/v1/ruleenforcements?trigger_instance=${id}`)).body as Json[];

      it('an instance processed normally leaves no entry behind', async () => {
        const res = await s.api('POST', '/api/v1/webhooks/pending', { n: 0 });
        expect(res.status).toBe(202);
        const [instance] = await store().triggerInstances.find({ source: 'webhook:pending' });
        await s.processed(instance.id);
        await goneFromPending(instance.id);
      });

      it('an instance of a trigger no rule listens to is stored processed, with no pending entry and no job', async () => {
        const idle = await dispatchTrigger(s.svc.services, {
          trigger: 'core.st2.generic.actiontrigger',
          payload: { execution_id: newId(), status: 'succeeded' },
        });
        expect(idle.status).toBe('processed');
        expect((await store().triggerInstances.get(idle.id))?.status).toBe('processed');
        expect(await store().pendingInstances.get(idle.id)).toBeNull();
        const jobs = await s.svc.services.scheduler.liveJobData<{ id?: string }>(TRIGGER_PROCESS_JOB, 0);
        expect(jobs.filter((d) => d?.id === idle.id)).toEqual([]);
        // Once a rule listens, its instances are matched as before.
        await listenToActionTrigger(s, { 'trigger.status': { type: 'equals', pattern: 'nope' } });
        const matched = await dispatchTrigger(s.svc.services, {
          trigger: 'core.st2.generic.actiontrigger',
          payload: { execution_id: newId(), status: 'succeeded' },
        });
        expect(matched.status).toBe('pending');
        expect((await s.processed(matched.id)).status).toBe('processed');
        await goneFromPending(matched.id);
        await s.api('DELETE', '/api/v1/rules/hooks.on_actiontrigger');
      });

      it('queues processing again for a stranded instance, which then runs its rule once', async () => {
        const stranded = await strandedInstance(1);
        expect(await sweepPendingInstances(s.svc.services, 30_000)).toEqual([stranded]);
        expect((await s.processed(stranded)).status).toBe('processed');
        expect(await enforcementsOf(stranded)).toHaveLength(1);
        await goneFromPending(stranded);
        expect(await sweepPendingInstances(s.svc.services, 30_000)).toEqual([]);
      });

      it('leaves an instance whose job still waits, and drops entries of instances done or never stored', async () => {
        const waiting = await strandedInstance(2);
        await s.svc.services.scheduler.at(new Date(Date.now() + 600_000), TRIGGER_PROCESS_JOB, {
          id: waiting,
        });
        const neverStored = newId();
        await store().pendingInstances.replace({ id: neverStored, since: minuteAgo() });
        const young = await dispatchTrigger(s.svc.services, {
          trigger: { type: TRIGGER, parameters: { url: 'pending' } },
          payload: { headers: {}, body: { n: 3 } },
        });

        expect(await sweepPendingInstances(s.svc.services, 30_000)).toEqual([]);
        expect(await store().pendingInstances.get(neverStored)).toBeNull();
        expect(await store().pendingInstances.get(waiting)).not.toBeNull();
        await s.processed(young.id);
        await s.svc.services.scheduler.cancel({ name: TRIGGER_PROCESS_JOB, data: { id: waiting } });
      });
    },
  );
}

// A runner dispatches every execution's action trigger: with no rule on it, the instance is stored
// processed there (the runner keeps the rule index too), not handed to a rules process to match nothing.
describeWithServer(
  'an instance no rule listens to, dispatched in a process without the rules role',
  'MongoDB (SQUALL_TEST_MONGO_URL)',
  STORE_TARGETS[1].available,
  () => {
    let s: EventsService;
    beforeAll(async () => {
      s = await startEvents(STORE_TARGETS[1], {
        roles: ['api', 'runner'],
        'executions.check_every_ms': 600_000,
      });
    });
    afterAll(async () => s?.svc.cleanup());

    it('is stored processed with no pending entry; once a rule listens, it waits for a rules process', async () => {
      const store = s.svc.services.store;
      const idle = await dispatchTrigger(s.svc.services, {
        trigger: 'core.st2.generic.actiontrigger',
        payload: { execution_id: newId(), status: 'succeeded' },
      });
      expect(idle.status).toBe('processed');
      expect(await store.pendingInstances.get(idle.id)).toBeNull();
      await s.createRule({
        name: 'on_actiontrigger_elsewhere',
        pack: 'hooks',
        enabled: true,
        trigger: { type: 'core.st2.generic.actiontrigger' },
        action: { ref: 'core.noop' },
      });
      const matched = await dispatchTrigger(s.svc.services, {
        trigger: 'core.st2.generic.actiontrigger',
        payload: { execution_id: newId(), status: 'succeeded' },
      });
      expect(matched.status).toBe('pending');
      expect(await store.pendingInstances.get(matched.id)).not.toBeNull();
    });

    it('creates a new trace holding the instance; the trace record is not written again', async () => {
      const store = s.svc.services.store;
      const pushes = vi.spyOn(store.traces, 'updateOne');
      try {
        const instance = await dispatchTrigger(s.svc.services, {
          trigger: 'core.st2.generic.actiontrigger',
          payload: { execution_id: newId(), status: 'succeeded' },
        });
        const trace = await store.traces.get(
          String((instance.trace_context as { trace_id?: string }).trace_id),
        );
        const [view] = await withComponents(s.svc.services, [trace!]);
        expect(view!.trigger_instances.map((c) => c.object_id)).toEqual([instance.id]);
        expect((await traceHolding(s.svc.services, 'trigger_instances', instance.id))?.id).toBe(trace?.id);
        expect(pushes).not.toHaveBeenCalled();
      } finally {
        pushes.mockRestore();
      }
    });
  },
);
