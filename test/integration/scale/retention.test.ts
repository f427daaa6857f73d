import os from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../../src/ids.js';
import { idAt } from '../../../src/scale/retention.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { testRetention } from '../../support/retention.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
/** A time-ordered id made `days` ago (ids start with their creation time, like ObjectIds). */
const idAgo = (days: number) => idAt(Date.now() - days * DAY).slice(0, 8) + newId().slice(8);

type Rec = Record<string, unknown>;

for (const target of STORE_TARGETS) {
  describeWithServer(
    `retention (st2 garbage collector) (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let store: Store;
      const dir = tempDir();

      beforeAll(async () => {
        store = await openStore({
          dataDir: target.kind === 'mongo' ? os.tmpdir() : dir.dir,
          mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
        });
      });
      afterAll(async () => {
        await store?.close();
        dir.cleanup();
      });

      const retention = (days: Partial<Record<string, number>>) => testRetention(store, days);

      const execution = async (status: string, endedDaysAgo: number | null) => {
        const id = newId();
        await store.executions.insert({
          id,
          status,
          action: { ref: 'core.noop' },
          runner: { name: 'noop' },
          start_timestamp: ago(endedDaysAgo ?? 0),
          ...(endedDaysAgo === null ? {} : { end_timestamp: ago(endedDaysAgo) }),
          log: [],
          context: {},
          parameters: {},
        } as never);
        await store.executionOutput.insert({
          id: newId(),
          execution_id: id,
          timestamp: ago(endedDaysAgo ?? 0),
          output_type: 'stdout',
          data: 'x',
        } as never);
        await store.workflows.insert({ id, execution_id: id, kind: 'orquesta', status, state: {} } as never);
        // Its action trigger's instance, as the notifier stores it: under its id, payload read from it.
        await store.triggerInstances.insert({
          id,
          trigger: 'core.st2.generic.actiontrigger',
          trigger_type: 'core.st2.generic.actiontrigger',
          occurrence_time: ago(0),
          status: 'processed',
          trace_context: { trace_id: newId() },
        } as never);
        return id;
      };
      const exists = async (coll: { get(id: string): Promise<unknown> }, id: string) =>
        (await coll.get(id)) !== null;

      it('deletes completed executions older than executions_days, in batches, with their output and workflow state; keeps the rest', async () => {
        const old = await Promise.all([1, 2, 3, 4, 5].map(() => execution('succeeded', 40)));
        const stillRunning = await execution('running', null);
        const recent = await execution('failed', 1);
        const report = await retention({ executions_days: 30 }).collect();
        expect(report).toMatchObject({
          executions: 5,
          execution_output: 5,
          workflow_states: 5,
          trigger_instances: 5,
        });
        for (const id of old) {
          expect(await exists(store.executions, id)).toBe(false);
          expect(await exists(store.triggerInstances, id)).toBe(false);
          expect(await exists(store.workflows, id)).toBe(false);
          expect(await store.executionOutput.count({ execution_id: id })).toBe(0);
        }
        for (const id of [stillRunning, recent]) {
          expect(await exists(store.executions, id)).toBe(true);
          expect(await exists(store.triggerInstances, id)).toBe(true);
          expect(await exists(store.workflows, id)).toBe(true);
          expect(await store.executionOutput.count({ execution_id: id })).toBe(1);
        }
        // Nothing configured, nothing deleted.
        expect(await retention({}).collect()).toEqual({});
        expect(await exists(store.executions, recent)).toBe(true);
      });

      it('keeps at most executions_max_count completed executions, deleting the oldest with their records', async () => {
        await store.executions.deleteMany({});
        const byAge = [];
        for (const days of [5, 4, 3, 2, 1]) byAge.push(await execution('succeeded', days));
        const running = await execution('running', null);
        const report = await retention({ executions_max_count: 2 }).collect();
        expect(report).toMatchObject({
          executions: 3,
          execution_output: 3,
          workflow_states: 3,
          trigger_instances: 3,
        });
        for (const id of byAge.slice(0, 3)) {
          expect(await exists(store.executions, id)).toBe(false);
          expect(await exists(store.triggerInstances, id)).toBe(false);
        }
        for (const id of [...byAge.slice(3), running]) expect(await exists(store.executions, id)).toBe(true);
        expect(await retention({ executions_max_count: 2 }).collect()).toEqual({});
      });

      it('deletes old trigger instances, rule enforcements, traces, expired tokens and answered inquiries; keeps pending inquiries and newer records', async () => {
        const put = async (coll: { insert(r: never): Promise<unknown> }, rec: Rec) => {
          await coll.insert(rec as never);
          return rec.id as string;
        };
        const instances = {
          old: await put(store.triggerInstances, {
            id: newId(),
            trigger: 't',
            occurrence_time: ago(10),
            payload: {},
          }),
          recent: await put(store.triggerInstances, {
            id: newId(),
            trigger: 't',
            occurrence_time: ago(1),
            payload: {},
          }),
        };
        const enforcements = {
          old: await put(store.ruleEnforcements, { id: newId(), rule: {}, enforced_at: ago(10) }),
          recent: await put(store.ruleEnforcements, { id: newId(), rule: {}, enforced_at: ago(1) }),
        };
        const traces = {
          old: await put(store.traces, { id: newId(), trace_tag: 'a', start_timestamp: ago(10) }),
          recent: await put(store.traces, { id: newId(), trace_tag: 'b', start_timestamp: ago(1) }),
        };
        const tokens = {
          old: await put(store.tokens, { id: newId(), user: 'u', token_hash: newId(), expiry: ago(10) }),
          live: await put(store.tokens, { id: newId(), user: 'u', token_hash: newId(), expiry: ago(-1) }),
        };
        const inquiries = {
          answered: await put(store.inquiries, { id: idAgo(10), status: 'succeeded' }),
          pending: await put(store.inquiries, { id: idAgo(10), status: 'pending' }),
          recent: await put(store.inquiries, { id: idAgo(1), status: 'succeeded' }),
        };
        const report = await retention({
          trigger_instances_days: 7,
          rule_enforcements_days: 7,
          traces_days: 7,
          tokens_days: 7,
          inquiries_days: 7,
        }).collect();
        expect(report).toMatchObject({
          trigger_instances: 1,
          rule_enforcements: 1,
          traces: 1,
          tokens: 1,
          inquiries: 1,
        });
        expect(await exists(store.triggerInstances, instances.old)).toBe(false);
        expect(await exists(store.triggerInstances, instances.recent)).toBe(true);
        expect(await exists(store.ruleEnforcements, enforcements.old)).toBe(false);
        expect(await exists(store.ruleEnforcements, enforcements.recent)).toBe(true);
        expect(await exists(store.traces, traces.old)).toBe(false);
        expect(await exists(store.traces, traces.recent)).toBe(true);
        expect(await exists(store.tokens, tokens.old)).toBe(false);
        expect(await exists(store.tokens, tokens.live)).toBe(true);
        expect(await exists(store.inquiries, inquiries.answered)).toBe(false);
        expect(await exists(store.inquiries, inquiries.pending)).toBe(true);
        expect(await exists(store.inquiries, inquiries.recent)).toBe(true);
      });
    },
  );
}
