import { afterAll, beforeAll, expect, it } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { policiesSubsystem } from '../../../src/policies/subsystem.js';
import type { PolicyEngine } from '../../../src/policies/engine.js';
import { idFor, newId } from '../../../src/ids.js';
import { liveExecutions } from '../../../src/executions/live.js';
import type { ExecutionRecord } from '../../../src/store/index.js';
import type { ExecutionService } from '../../../src/executions/service.js';
import { describeOnEachStore, freshMongoUrl } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { readsDuring } from '../../support/reads.js';
import { waitFor } from '../../support/wait.js';

describeOnEachStore('action policies', (target) => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let executions: () => ExecutionService;
  let policyEngine: () => PolicyEngine;
  let afterAdmit: ((verdict: string) => Promise<void>) | undefined;
  /** Requests core.local running `cmd`, which the concurrency policy under test governs. */
  const local = (cmd: string) =>
    executions().request({ action: 'core.local', parameters: { cmd }, user: 'tester' });

  /** A policy of pack `test` named `name` on action `resource`. */
  const insertPolicy = (name: string, resource: string, type: string, parameters: Record<string, unknown>) =>
    svc.services.store.policies.insert({
      id: newId(),
      ref: `test.${name}`,
      uid: `policy:test:${name}`,
      pack: 'test',
      name,
      enabled: true,
      resource_ref: resource,
      policy_type: type,
      parameters,
    });

  beforeAll(async () => {
    // eslint-disable-next-line prefer-const
    let exSub: ReturnType<typeof executionsSubsystem>;
    executions = () => exSub.service();
    const policies = policiesSubsystem(() => executions());
    policyEngine = () => policies.engine();
    exSub = executionsSubsystem(() => ({
      // What the engine said, then whatever a test does at that moment (another completion).
      admit: async (execution, specs) => {
        const verdict = await policies.engine().admit(execution, specs);
        await afterAdmit?.(verdict);
        return verdict;
      },
      delayedByPolicy: policies.engine().delayedByPolicy,
      owedOnCompletion: policies.engine().owedOnCompletion,
    }));
    svc = await startTestService({
      subsystems: [testSecretsSubsystem(), contentSubsystem(), policies, exSub],
      mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
      config: { 'auth.enable': false },
    });
    await insertPolicy('local_concurrency', 'core.local', 'action.concurrency', {
      threshold: 2,
      action: 'delay',
    });
    await insertPolicy('error_retry', 'core.local_sudo', 'action.retry', {
      retry_on: 'failure',
      max_retry_count: 2,
      delay: 0,
    });
    await policies.engine().reload();
  });
  afterAll(async () => svc?.cleanup());

  it('never runs more than the threshold at once, delays the rest, and finishes all of them', async () => {
    const running = new Set<string>();
    let peak = 0;
    const statuses = new Set<string>();
    const unsubscribe = svc.services.bus.subscribe('st2.execution__update', (event) => {
      const e = event.payload as { id: string; status: string; action: { ref: string } };
      if (e.action.ref !== 'core.local') return;
      statuses.add(e.status);
      if (e.status === 'running') running.add(e.id);
      else running.delete(e.id);
      peak = Math.max(peak, running.size);
    });
    // Six requests at once, each running long enough that a loaded store cannot let the
    // first ones finish before the last are admitted (with 0.4 s runs one after another,
    // a slow FerretDB delayed only 3).
    const ids = (await Promise.all(Array.from({ length: 6 }, () => local('sleep 2')))).map((e) => e.id);
    const done = await waitFor(
      async () => {
        const recs = await Promise.all(ids.map((id) => svc.services.store.executions.get(id)));
        return recs.every((r) => r?.status === 'succeeded') ? recs : null;
      },
      'all six executions to succeed',
      60_000,
    );
    unsubscribe();
    expect(done).toHaveLength(6);
    expect(peak).toBe(2);
    expect(statuses.has('delayed')).toBe(true);
    const delayedOnes = done.filter((r) => r!.log.some((l) => l.status === 'delayed'));
    expect(delayedOnes.length).toBeGreaterThanOrEqual(4);
  });

  it('takes back the slots of an execution that completed without freeing them (its process died)', async () => {
    const { store } = svc.services;
    const gone = await local('true');
    const slots = [0, 1].map((n) => `concurrency:test.local_concurrency:core.local:${n}`);
    await waitFor(
      async () =>
        (await store.executions.get(gone.id))?.status === 'succeeded' &&
        (await store.claims.find({ id: { $in: slots } })).length === 0,
      'the first run to end and give its slot back',
    );
    // Its process took both slots and died before recording them: completion freed neither.
    for (const slot of slots)
      await store.claims.insert({
        id: slot,
        owner: gone.id,
        claimed_at: new Date().toISOString(),
      });
    const next = await local('true');
    expect(next.status).toBe('scheduled');
    await waitFor(async () => (await store.executions.get(next.id))?.status === 'succeeded', 'the next run');
  });

  it('a second admission of a running execution takes no second slot; its completion frees all', async () => {
    const { store } = svc.services;
    const slots = [0, 1].map((n) => `concurrency:test.local_concurrency:core.local:${n}`);
    const holder = await local('sleep 1');
    const held = await local('sleep 3');
    // Its slot is given back just after its completion is stored.
    await waitFor(
      async () =>
        (await store.executions.get(holder.id))?.status === 'succeeded' &&
        (await store.claims.find({ id: { $in: slots } })).every((c) => c.owner === held.id),
      'the first holder to finish and give its slot back',
    );
    const owner = (await store.claims.find({ id: { $in: slots } })).map((c) => c.owner);
    expect(owner).toEqual([held.id]);
    // Two completions can each re-admit one delayed execution: the later finds it holding slot 1
    // with slot 0 free.
    expect(await policyEngine().admit((await store.executions.get(held.id))!)).toBe('run');
    expect((await store.claims.find({ id: { $in: slots } })).map((c) => c.owner)).toEqual([held.id]);
    await waitFor(
      async () =>
        (await store.executions.get(held.id))?.status === 'succeeded' &&
        (await store.claims.find({ id: { $in: slots } })).length === 0,
      'the run to end and give back every slot it held',
    );
  });

  it('admits a delayed execution whose slot was freed while it was being delayed', async () => {
    const { store } = svc.services;
    const slots = [0, 1].map((n) => `concurrency:test.local_concurrency:core.local:${n}`);
    const running = await Promise.all([0, 1].map(() => local('sleep 6')));
    await waitFor(
      async () => (await store.claims.find({ id: { $in: slots } })).length === 2,
      'both slots taken',
    );
    // Refused, and before it is stored as delayed both slots come free (their holders' processes
    // gave them back): no completion is left to admit it.
    afterAdmit = async (verdict) => {
      afterAdmit = undefined;
      if (verdict !== 'delayed') return;
      for (const claim of await store.claims.find({ id: { $in: slots } }))
        await store.release(claim.id, claim.owner);
    };
    const late = await local('true');
    expect(afterAdmit).toBeUndefined();
    await waitFor(
      async () => (await store.executions.get(late.id))?.status === 'succeeded',
      'the delayed execution to run in a freed slot',
    );
    // Long before the two holders end.
    for (const r of running) expect((await store.executions.get(r.id))?.status).toBe('running');
    await waitFor(
      async () => {
        const recs = await Promise.all(running.map((r) => store.executions.get(r.id)));
        return recs.every((r) => r?.status === 'succeeded');
      },
      'the holders to finish',
      20_000,
    );
  });

  it('a delay looks at the delayed executions of its own action only', async () => {
    const { store } = svc.services;
    const live = liveExecutions(svc.services);
    // Other actions' executions waiting for their own policies' slots.
    const others = Array.from({ length: 5 }, () => newId());
    for (const id of others) await live.moved(id, 'delayed', 'test.other_action');
    const read: string[] = [];
    const get = store.executions.get.bind(store.executions);
    store.executions.get = (id) => {
      read.push(id);
      return get(id);
    };
    try {
      const refused = { id: newId(), action: { ref: 'core.local' } } as ExecutionRecord;
      await policyEngine().delayedByPolicy(refused);
      expect(read.filter((id) => others.includes(id))).toEqual([]);
    } finally {
      store.executions.get = get;
      for (const id of others) await store.liveExecutions.deleteOne({ id });
    }
  });

  /** Requests core.local_sudo, which the retry policy under test governs, failing. */
  const failing = (cmd: string) =>
    executions().request({ action: 'core.local_sudo', parameters: { cmd }, user: 'tester' });

  it('re-runs a failing action as many times as the retry policy says', async () => {
    const first = await failing('exit 1');
    const all = await waitFor(
      async () => {
        const rows = await svc.services.store.executions.find({ 'action.ref': 'core.local_sudo' });
        const finished = rows.filter((r) => ['failed', 'succeeded'].includes(r.status));
        return finished.length === 3 ? rows : null;
      },
      'the original and two retries to finish',
      20_000,
    );
    expect(all).toHaveLength(3);
    const retries = all.filter((r) => r.id !== first.id);
    expect(
      retries.map((r) => (r.context.policies as { retry: { retry_count: number } }).retry.retry_count).sort(),
    ).toEqual([1, 2]);
    expect(
      retries.every(
        (r) => (r.context.policies as { retry: { original: string } }).retry.original === first.id,
      ),
    ).toBe(true);
    // st2's context: each retry names the execution (liveaction) it retried and the policy.
    const byCount = new Map(
      retries.map((r) => [(r.context.policies as { retry: { retry_count: number } }).retry.retry_count, r]),
    );
    expect(byCount.get(1)!.context.policies).toMatchObject({
      retry: { applied_policy: 'test.error_retry', retried_liveaction_id: first.id },
    });
    expect(byCount.get(2)!.context.policies).toMatchObject({
      retry: { applied_policy: 'test.error_retry', retried_liveaction_id: byCount.get(1)!.id },
    });
    // A retry's id leads with the end of the execution it retries (every process reads that the
    // same): retries land at the end of the executions' index, and read as their time.
    const original = all.find((r) => r.id === first.id)!;
    const seconds = (iso?: string) => Math.floor(Date.parse(String(iso)) / 1000).toString(16);
    expect(byCount.get(1)!.id.slice(0, 8)).toBe(seconds(original.end_timestamp));
    expect(byCount.get(2)!.id.slice(0, 8)).toBe(seconds(byCount.get(1)!.end_timestamp));
  });

  it("a retry an older version requested (its id idFor's) is found, not requested again", async () => {
    const { store } = svc.services;
    const failed = await failing('exit 3');
    const chain = await waitFor(
      async () => {
        const rows = await store.executions.find({ 'context.policies.retry.original': failed.id });
        const done = rows.filter((r) => r.status === 'failed');
        return done.length === 2 ? rows : null;
      },
      'the failure and its two retries to finish',
      20_000,
    );
    const count = async () => (await store.executions.find({ 'action.ref': 'core.local_sudo' })).length;
    const before = await count();
    // An older version named the retry idFor('retry:<id>'): a taker of the claim must find it.
    const retry = chain.find(
      (r) => (r.context.policies as { retry: { previous: string } }).retry.previous === failed.id,
    )!;
    await store.executions.deleteOne({ id: retry.id });
    await store.executions.insert({ ...retry, id: idFor(`retry:${failed.id}`) });
    await policyEngine().retryWork.run(failed.id);
    expect(await count()).toBe(before);
  });

  it('a retry already requested is found again from the completed record, not by reading the failed execution', async () => {
    const { store } = svc.services;
    const failed = await failing('exit 4');
    await waitFor(
      async () => {
        const rows = await store.executions.find({ 'context.policies.retry.original': failed.id });
        return rows.filter((r) => r.status === 'failed').length === 2 ? rows : null;
      },
      'the failure and its two retries to finish',
      20_000,
    );
    const count = async () => (await store.executions.find({ 'action.ref': 'core.local_sudo' })).length;
    const before = await count();
    const completed = (await store.executions.get(failed.id))!;
    // Its retry claim gone, the completion is handled again: the retry it finds stored is the one
    // its id names, derived from the record completion handed on.
    await store.claims.deleteOne({ id: `retry:${failed.id}` });
    const reads = await readsDuring(store.executions, () => policyEngine().onCompleted(completed));
    expect(reads).not.toContain(failed.id);
    expect(await count()).toBe(before);
  });

  it('a retry requested on completion re-runs the completed record without reading the failed execution again', async () => {
    const { store } = svc.services;
    const failed = await failing('exit 6');
    const chainOf = async () => store.executions.find({ 'context.policies.retry.original': failed.id });
    await waitFor(
      async () => ((await chainOf()).filter((r) => r.status === 'failed').length === 2 ? true : null),
      'the failure and its two retries to finish',
      20_000,
    );
    const completed = (await store.executions.get(failed.id))!;
    // Neither the retry claim nor the retries are stored any more: completion requests the retry again.
    await store.claims.deleteOne({ id: `retry:${failed.id}` });
    for (const r of await chainOf()) await store.executions.deleteOne({ id: r.id });
    const reads = await readsDuring(store.executions, () => policyEngine().onCompleted(completed));
    // Requested (stored) again before onCompleted resolves, from the completed record.
    const [again] = await chainOf();
    expect(again.context.policies).toMatchObject({ retry: { previous: failed.id, retry_count: 1 } });
    expect(again.parameters).toMatchObject({ cmd: 'exit 6' });
    expect(reads.filter((id) => id === failed.id)).toEqual([]);
  });

  it('concurrency.attr counts a parameter left to its default (no longer stored) as its default value', async () => {
    const { store } = svc.services;
    await insertPolicy('local_per_timeout', 'core.local', 'action.concurrency.attr', {
      threshold: 1,
      action: 'delay',
      attributes: ['timeout'],
    });
    await policyEngine().reload();
    try {
      const byDefault = await local('sleep 4');
      const sameValue = await executions().request({
        action: 'core.local',
        parameters: { cmd: 'true', timeout: 60 },
        user: 'tester',
      });
      const other = await executions().request({
        action: 'core.local',
        parameters: { cmd: 'true', timeout: 30 },
        user: 'tester',
      });
      // The runner's default timeout is not stored, yet it is the value the slot is kept for.
      expect(byDefault.parameters).toEqual({ cmd: 'sleep 4' });
      expect(sameValue.status).toBe('delayed');
      expect(other.status).not.toBe('delayed');
      const done = await waitFor(
        async () => {
          const recs = await Promise.all(
            [byDefault, sameValue, other].map((e) => store.executions.get(e.id)),
          );
          return recs.every((r) => r?.status === 'succeeded') ? recs : null;
        },
        'the three executions to succeed',
        30_000,
      );
      expect(done[1]!.parameters).toEqual({ cmd: 'true', timeout: 60 });
    } finally {
      await store.policies.deleteOne({ ref: 'test.local_per_timeout' });
      await policyEngine().reload();
    }
  });
});
