import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { isCompleted } from '../../../src/executions/index.js';
import type { ExecutionService } from '../../../src/executions/service.js';
import { policiesSubsystem } from '../../../src/policies/subsystem.js';
import { newId } from '../../../src/ids.js';
import type { ExecutionRecord } from '../../../src/store/index.js';
import { describeOnEachStore, freshMongoUrl } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';

/**
 * A request no policy applies to is stored `scheduled` at once (issue 19: one write of the record
 * and of its register entry fewer per execution); what a user sees is unchanged: its log says
 * `requested` then `scheduled`, and the stream sends a create (`requested`) then an update
 * (`scheduled`). An action a policy governs keeps the way through the policy.
 */
describeOnEachStore('a request stored scheduled at once', (target) => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let executions: () => ExecutionService;
  const admitted: string[] = [];

  beforeAll(async () => {
    // eslint-disable-next-line prefer-const
    let exSub: ReturnType<typeof executionsSubsystem>;
    executions = () => exSub.service();
    const policies = policiesSubsystem(() => executions());
    // As `squall start` wires them (src/subsystems.ts), admissions counted.
    exSub = executionsSubsystem(() => ({
      admit: (execution, specs) => {
        admitted.push(execution.id);
        return policies.engine().admit(execution, specs);
      },
      hasPolicies: policies.engine().hasPolicies,
      delayedByPolicy: policies.engine().delayedByPolicy,
      owedOnCompletion: policies.engine().owedOnCompletion,
    }));
    svc = await startTestService({
      subsystems: [testSecretsSubsystem(), contentSubsystem(), policies, exSub],
      mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
      config: { 'auth.enable': false, 'executions.check_every_ms': 600_000 },
    });
    await svc.services.store.policies.insert({
      id: newId(),
      ref: 'test.local_concurrency',
      uid: 'policy:test:local_concurrency',
      pack: 'test',
      name: 'local_concurrency',
      enabled: true,
      resource_ref: 'core.local',
      policy_type: 'action.concurrency',
      parameters: { threshold: 10, action: 'delay' },
    });
    await policies.engine().reload();
  });
  afterAll(async () => svc?.cleanup());

  /**
   * The statuses each write of an execution (update) and of its register entry (replace) moved
   * from / to while `work` runs, the events of the executions, and what `work` requested.
   */
  const writesDuring = async (work: () => Promise<ExecutionRecord>) => {
    const { store, bus } = svc.services;
    const updates: Array<{ id: unknown; from: unknown }> = [];
    const entries: Array<{ id: string; status: string }> = [];
    const events: Array<{ id: string; op: string; status: string; log: string[] }> = [];
    const updateOne = store.executions.updateOne.bind(store.executions);
    const replace = store.liveExecutions.replace.bind(store.liveExecutions);
    store.executions.updateOne = (filter, ...rest) => {
      updates.push({ id: filter.id, from: filter.status });
      return updateOne(filter, ...rest);
    };
    store.liveExecutions.replace = (entry) => {
      entries.push({ id: entry.id, status: entry.status });
      return replace(entry);
    };
    const unsubscribe = bus.subscribe('st2.execution__*', (event) => {
      const e = event.payload as { id: string; status: string; log: Array<{ status: string }> };
      events.push({
        id: e.id,
        op: event.name.replace('st2.execution__', ''),
        status: e.status,
        log: e.log.map((l) => l.status),
      });
    });
    try {
      const requested = await work();
      const done = await waitFor(async () => {
        const r = await store.executions.get(requested.id);
        return r && isCompleted(r.status) ? r : null;
      }, `execution ${requested.id} to finish`);
      await waitFor(
        () => (events.some((e) => e.id === done.id && e.status === done.status) ? true : null),
        'its last event',
      );
      const mine = <T extends { id: unknown }>(list: T[]) => list.filter((w) => w.id === done.id);
      return { requested, done, updates: mine(updates), entries: mine(entries), events: mine(events) };
    } finally {
      store.executions.updateOne = updateOne;
      store.liveExecutions.replace = replace;
      unsubscribe();
    }
  };

  it('core.noop is stored and entered scheduled in one write each; its log and its events still say requested, then scheduled', async () => {
    const before = new Date().toISOString();
    const { requested, done, updates, entries, events } = await writesDuring(() =>
      executions().request({ action: 'core.noop', user: 't' }),
    );
    expect(requested.status).toBe('scheduled');
    expect(done.status).toBe('succeeded');
    // One update: running and succeeded together (the immediate run), from `scheduled`.
    expect(updates.map((u) => u.from)).toEqual(['scheduled']);
    expect(entries.map((e) => e.status)).toEqual(['scheduled']);
    expect(admitted).not.toContain(done.id);
    expect(done.log.map((l) => l.status)).toEqual(['requested', 'scheduled', 'running', 'succeeded']);
    const times = done.log.map((l) => l.timestamp);
    expect(times[0] >= before).toBe(true);
    expect([...times].sort()).toEqual(times);
    expect(events.map((e) => [e.op, e.status, e.log])).toEqual([
      ['create', 'requested', ['requested']],
      ['update', 'scheduled', ['requested', 'scheduled']],
      ['update', 'running', ['requested', 'scheduled', 'running']],
      ['update', 'succeeded', ['requested', 'scheduled', 'running', 'succeeded']],
    ]);
    // Recovery's requeue finds who scheduled it, as schedule() records it.
    expect(done.scheduled_by).toBe(executions().workerId);
    expect(await svc.services.store.liveExecutions.get(done.id)).toBeNull();
  });

  it('a run started here at once goes on from the action its request read: one lookup of it, not two', async () => {
    const { store } = svc.services;
    const findOne = vi.spyOn(store.actions, 'findOne');
    try {
      for (const [action, parameters] of [
        ['core.noop', {}],
        ['core.echo', { message: 'read once' }],
      ] as const) {
        findOne.mockClear();
        const { done } = await writesDuring(() => executions().request({ action, parameters, user: 't' }));
        expect(done.status, JSON.stringify(done.result)).toBe('succeeded');
        const lookups = findOne.mock.calls.filter(([filter]) => (filter as { ref?: string }).ref === action);
        expect(lookups, action).toHaveLength(1);
      }
    } finally {
      findOne.mockRestore();
    }
  });

  it('an action a policy applies to is requested, admitted by the policy, then scheduled, as before', async () => {
    const { requested, done, updates, entries, events } = await writesDuring(() =>
      executions().request({ action: 'core.local', parameters: { cmd: 'echo governed' }, user: 't' }),
    );
    expect(requested.status).toBe('scheduled');
    expect(done.status).toBe('succeeded');
    expect(admitted).toContain(done.id);
    // (The policy's slot is added by id alone.)
    expect(updates.map((u) => u.from).filter(Boolean)).toEqual(['requested', 'scheduled', 'running']);
    expect(entries.map((e) => e.status)).toEqual(['requested', 'scheduled', 'running']);
    expect(done.log.map((l) => l.status)).toEqual(['requested', 'scheduled', 'running', 'succeeded']);
    expect(events.map((e) => [e.op, e.status])).toEqual([
      ['create', 'requested'],
      ['update', 'scheduled'],
      ['update', 'running'],
      ['update', 'succeeded'],
    ]);
  });

  it('a delayed request is still requested, then delayed', async () => {
    const e = await executions().request({ action: 'core.noop', user: 't', delay: 600_000 });
    expect(e.status).toBe('delayed');
    expect(e.log.map((l) => l.status)).toEqual(['requested', 'delayed']);
    await executions().cancel(e.id, 't');
  });
});
