import { afterAll, beforeAll, expect, it } from 'vitest';
import { idFor } from '../../../src/ids.js';
import type { TriggerInstanceRecord } from '../../../src/store/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { copyInstance, startEvents, type EventsService } from '../webhooks/support.js';

/** A worker id that never heartbeated, claiming an hour ago: a process killed long since. */
const DEAD = 'deadhost:4242:abcdef';
const LONG_AGO = new Date(Date.now() - 3_600_000).toISOString();

/**
 * A process killed -9 between claiming a rule's enforcement for an instance and storing it left
 * the claim held by a dead worker: every later run of the instance's job skipped the rule, so an
 * accepted webhook never got its enforcement or execution (issue 18, item 1).
 */
for (const target of STORE_TARGETS) {
  describeWithServer(
    `rule enforcement claimed by a dead process (${target.kind})`,
    target.kind,
    target.available,
    () => {
      let s: EventsService;
      let first: TriggerInstanceRecord;
      let ruleId: string;
      beforeAll(async () => {
        s = await startEvents(target);
        const rule = await s.createRule({
          name: 'orphaned',
          pack: 'hooks',
          enabled: true,
          trigger: { type: 'core.st2.webhook', parameters: { url: 'orphaned' } },
          action: { ref: 'core.noop' },
        });
        ruleId = rule.id;
        const res = await s.api('POST', '/api/v1/webhooks/orphaned', { n: 0 });
        expect(res.status, res.text).toBe(202);
        const { store } = s.svc.services;
        first = await waitFor(
          async () => (await store.triggerInstances.find({ source: 'webhook:orphaned' }))[0],
          'the first instance',
        );
        await s.processed(first.id);
      }, 60_000);
      afterAll(async () => s?.svc.cleanup());

      /** An instance as the dead process left it: stored, `processing`, the rule's claim its own. */
      async function orphan(n: number): Promise<string> {
        const { store } = s.svc.services;
        const id = await copyInstance(s, first, { n }, 'processing');
        await store.claims.insert({
          id: `rule_enforcement:${id}:${ruleId}`,
          owner: DEAD,
          claimed_at: LONG_AGO,
        });
        return id;
      }

      /**
       * Processes `id` as a run killed after requesting the execution, before storing the
       * enforcement: its claim is left to a dead worker, the instance still to process.
       */
      async function killedAfterRequest(id: string): Promise<string> {
        const { store } = s.svc.services;
        const insert = store.ruleEnforcements.insert.bind(store.ruleEnforcements);
        store.ruleEnforcements.insert = async () => {
          throw new Error('killed');
        };
        try {
          await s.events.engine().process(id);
        } finally {
          store.ruleEnforcements.insert = insert;
        }
        expect((await outcome(id)).executions).toHaveLength(1);
        const key = `rule_enforcement:${id}:${ruleId}`;
        await store.claims.deleteOne({ id: key });
        await store.claims.insert({ id: key, owner: DEAD, claimed_at: LONG_AGO });
        await store.triggerInstances.updateOne({ id }, { $set: { status: 'processing' } });
        return key;
      }

      async function outcome(id: string) {
        const { store } = s.svc.services;
        const enforcements = await store.ruleEnforcements.find({ trigger_instance_id: id });
        const executions = (await store.executions.find({})).filter(
          (e) => (e.context as { trigger_instance?: { id?: string } }).trigger_instance?.id === id,
        );
        return { status: (await store.triggerInstances.get(id))?.status, enforcements, executions };
      }

      it('is taken over: the instance gets its one enforcement and one execution', async () => {
        const id = await orphan(1);
        await s.events.engine().process(id);
        const { status, enforcements, executions } = await outcome(id);
        expect(status).toBe('processed');
        expect(enforcements.map((e) => e.status)).toEqual(['succeeded']);
        expect(executions.map((e) => e.id)).toEqual([enforcements[0].execution_id]);
        await s.finished(executions[0].id);
      });

      it('is taken over without a second execution when the dead process had requested one', async () => {
        const id = await copyInstance(s, first, { n: 2 });
        await killedAfterRequest(id);

        await s.events.engine().process(id);
        const { status, enforcements, executions } = await outcome(id);
        expect(status).toBe('processed');
        expect(enforcements).toHaveLength(1);
        expect(executions).toHaveLength(1);
        expect(enforcements[0].execution_id).toBe(executions[0].id);
      });

      it('is taken over without a second execution when the dead process was an older Squall', async () => {
        const { store } = s.svc.services;
        const id = await copyInstance(s, first, { n: 4 });
        const key = await killedAfterRequest(id);
        // An older Squall derived the execution's id from the claim's key alone (idFor).
        const [requested] = (await outcome(id)).executions;
        await s.finished(requested.id);
        const done = (await store.executions.get(requested.id))!;
        await store.executions.deleteOne({ id: requested.id });
        await store.executions.insert({ ...done, id: idFor(`${key}:execution`) });

        await s.events.engine().process(id);
        const { status, enforcements, executions } = await outcome(id);
        expect(status).toBe('processed');
        expect(executions.map((e) => e.id)).toEqual([idFor(`${key}:execution`)]);
        expect(enforcements.map((e) => e.execution_id)).toEqual([idFor(`${key}:execution`)]);
      });

      it('is left alone while its owner heartbeats', async () => {
        const { store } = s.svc.services;
        const id = await orphan(3);
        await store.workers.updateOne(
          { id: DEAD },
          { $set: { heartbeat_at: new Date().toISOString() } },
          { upsert: true },
        );
        try {
          await s.events.engine().process(id);
          const { status, enforcements } = await outcome(id);
          expect(status).toBe('processing');
          expect(enforcements).toHaveLength(0);
        } finally {
          await store.workers.deleteOne({ id: DEAD });
        }
      });
    },
  );
}
