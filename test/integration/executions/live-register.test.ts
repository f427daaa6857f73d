import { expect, it } from 'vitest';
import { LiveExecutions, liveExecutions } from '../../../src/executions/live.js';
import type { Store } from '../../../src/store/index.js';
import { queueDepth } from '../../../src/scale/queue.js';
import { describeOnEachStore } from '../../support/servers.js';
import { useExecutionsService } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';

/**
 * The register of executions not yet completed: what recovery, the sweep and the queue count read
 * instead of the whole history.
 */
describeOnEachStore('live executions register', (target) => {
  // Only the checks the test calls act.
  const suite = useExecutionsService(target.kind, { 'executions.check_every_ms': 600_000 });
  const { executions } = suite;

  const entry = (id: string) => suite.svc.services.store.liveExecutions.get(id);
  const later = (cmd: string) =>
    executions.service().request({ action: 'core.local', parameters: { cmd }, user: 't', delay: 600_000 });

  /**
   * A register whose first write waits for the execution `id` to complete (as its runner would: the
   * execution stored succeeded, then its entry removed): a completion landing between what a pass
   * over the register read and what it writes.
   */
  const completingBeforeWrites = (id: string) => {
    const { store } = suite.svc.services;
    let completed = false;
    const complete = async (): Promise<void> => {
      if (completed) return;
      completed = true;
      await store.executions.updateOne({ id }, { $set: { status: 'succeeded' } });
      await liveExecutions(suite.svc.services).moved(id, 'succeeded');
    };
    const writes = new Set<PropertyKey>(['replace', 'updateOne', 'updateMany', 'insert', 'insertMany']);
    const racing = new Proxy(store.liveExecutions, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        const method = (value as (...args: unknown[]) => unknown).bind(target);
        return writes.has(prop)
          ? async (...args: unknown[]) => {
              await complete();
              return method(...args);
            }
          : method;
      },
    });
    return {
      live: new LiveExecutions(Object.create(store, { liveExecutions: { value: racing } }) as Store),
      completed: () => completed,
    };
  };

  it('follows an execution until it completes, and the queue count reads it', async () => {
    const waiting = await later('true');
    // Waiting out its delay, as st2 shows it.
    expect((await entry(waiting.id))?.status).toBe('delayed');
    const depth = queueDepth(suite.svc.services);
    await depth.refresh();
    expect(depth.snapshot().counted).toBe(1);

    const now = await executions
      .service()
      .request({ action: 'core.local', parameters: { cmd: 'true' }, user: 't' });
    await waitFor(
      async () =>
        (await suite.svc.services.store.executions.get(now.id))?.status === 'succeeded' ? true : null,
      'the execution to succeed',
    );
    // Out of the register once completed. On MongoDB the status and the entry are two writes (one
    // commit on the embedded store): the entry may still be there the instant the status shows.
    await waitFor(
      async () => ((await entry(now.id)) === null ? true : null),
      'its entry to leave the register',
    );
    await executions.service().cancel(waiting.id, 't');
    expect(await entry(waiting.id)).toBeNull();
    await depth.refresh();
    expect(depth.snapshot().counted).toBe(0);
  });

  it('core.noop, run by the process that scheduled it, sends requested, scheduled, running, succeeded in order, says the same in its history, and leaves the register', async () => {
    const seen: Array<{ id: string; status: string }> = [];
    const unsubscribe = suite.svc.services.bus.subscribe('st2.execution__*', (event) => {
      const e = event.payload as { id: string; status: string };
      seen.push({ id: e.id, status: e.status });
    });
    try {
      const ids = await Promise.all(
        [1, 2, 3].map(
          async () => (await executions.service().request({ action: 'core.noop', user: 't' })).id,
        ),
      );
      for (const id of ids) {
        const done = await waitFor(async () => {
          const r = await suite.svc.services.store.executions.get(id);
          return r && ['succeeded', 'failed'].includes(r.status) ? r : null;
        }, `execution ${id} to finish`);
        expect(done.status).toBe('succeeded');
        expect(done.result).toMatchObject({ succeeded: true, return_code: 0 });
        expect(done.log.map((l) => l.status)).toEqual(['requested', 'scheduled', 'running', 'succeeded']);
        await waitFor(
          () => (seen.filter((s) => s.id === id).length >= 4 ? true : null),
          `the events of ${id}`,
        );
        expect(seen.filter((s) => s.id === id).map((s) => s.status)).toEqual([
          'requested',
          'scheduled',
          'running',
          'succeeded',
        ]);
        // Completed: out of the register of open executions.
        expect(await suite.svc.services.store.liveExecutions.get(id)).toBeNull();
      }
    } finally {
      unsubscribe();
    }
  });

  it('repairs entries left behind by a process that died between its two writes', async () => {
    const live = liveExecutions(suite.svc.services);
    const behind = await later('true');
    // Stored as running, the entry still says delayed.
    await suite.svc.services.store.executions.updateOne({ id: behind.id }, { $set: { status: 'running' } });
    const done = await later('true');
    await suite.svc.services.store.executions.updateOne({ id: done.id }, { $set: { status: 'succeeded' } });
    const old = new Date(Date.now() - 3_600_000).toISOString();
    await suite.svc.services.store.liveExecutions.replace({
      id: 'never-stored-old',
      status: 'requested',
      since: old,
    });
    const young = new Date().toISOString();
    await suite.svc.services.store.liveExecutions.replace({
      id: 'being-stored',
      status: 'requested',
      since: young,
    });

    const read = await live.read(await live.entries(['delayed', 'requested']), ['running']);
    expect(read.map((e) => e.id)).toEqual([behind.id]);
    expect((await entry(behind.id))?.status).toBe('running');
    expect(await entry(done.id)).toBeNull();
    expect(await entry('never-stored-old')).toBeNull();
    // Its creator may be storing it right now.
    expect(await entry('being-stored')).not.toBeNull();
    await suite.svc.services.store.liveExecutions.deleteOne({ id: 'being-stored' });
    await suite.svc.services.store.executions.updateOne({ id: behind.id }, { $set: { status: 'succeeded' } });
    await live.moved(behind.id, 'succeeded');
  });

  it('a repair never brings back the entry of an execution that completed while it was being made', async () => {
    const { store } = suite.svc.services;
    const behind = await later('true');
    // Stored as running, the entry still says delayed: read() repairs it.
    await store.executions.updateOne({ id: behind.id }, { $set: { status: 'running' } });
    // The completion lands after read() has looked at the execution and the entry, just before
    // its repair is written: the interleaving that left a completed execution in the register.
    const racing = completingBeforeWrites(behind.id);
    const live = racing.live;

    await live.read(await live.entries(['delayed']), ['running']);
    expect(racing.completed()).toBe(true);
    expect((await store.executions.get(behind.id))?.status).toBe('succeeded');
    expect(await entry(behind.id)).toBeNull();
    expect((await live.entries(['delayed', 'running'])).map((e) => e.id)).not.toContain(behind.id);
  });

  it("lists an action's delayed executions, and only that action's", async () => {
    const live = liveExecutions(suite.svc.services);
    const local = await later('true');
    const noop = await executions.service().request({ action: 'core.noop', user: 't', delay: 600_000 });
    const ofLocal = await live.read(await live.delayed('core.local'), ['delayed']);
    expect(ofLocal.map((e) => e.id)).toContain(local.id);
    expect(ofLocal.map((e) => e.id)).not.toContain(noop.id);
    expect(new Set(ofLocal.map((e) => e.action.ref))).toEqual(new Set(['core.local']));
    const ofNoop = await live.read(await live.delayed('core.noop'), ['delayed']);
    expect(ofNoop.map((e) => e.id)).toEqual([noop.id]);
    await executions.service().cancel(local.id, 't');
    await executions.service().cancel(noop.id, 't');
  });

  it('enters at start-up, once per database, the open executions stored without an entry', async () => {
    const open = await later('true');
    // As in a database from before the register: not back-filled yet, an open execution without entry.
    await suite.svc.services.store.claims.deleteOne({ id: 'live_executions:backfilled' });
    await suite.svc.services.store.liveExecutions.deleteOne({ id: open.id });
    expect(await liveExecutions(suite.svc.services).backfill()).toBe(1);
    expect((await entry(open.id))?.status).toBe('delayed');
    expect(await liveExecutions(suite.svc.services).backfill()).toBe(0);
    await executions.service().cancel(open.id, 't');
  });

  /**
   * A delayed execution of core.local whose entry is as written before entries kept their action
   * (a freed slot of core.local would not find it), in a database not labelled yet.
   */
  const unlabelledDelayed = async () => {
    const { store } = suite.svc.services;
    const waiting = await later('true');
    const old = (await entry(waiting.id))!;
    await store.liveExecutions.replace({ id: old.id, status: old.status, since: old.since });
    await store.claims.deleteOne({ id: 'live_executions:actions' });
    return waiting;
  };

  it('gives delayed entries from before entries kept their action their action, once per database', async () => {
    const waiting = await unlabelledDelayed();
    const live = liveExecutions(suite.svc.services);
    expect((await live.delayed('core.local')).map((e) => e.id)).not.toContain(waiting.id);
    expect(await live.labelDelayed()).toBe(1);
    expect((await live.delayed('core.local')).map((e) => e.id)).toContain(waiting.id);
    expect(await live.labelDelayed()).toBe(0);
    await executions.service().cancel(waiting.id, 't');
  });

  it('labelling a delayed entry never brings back the entry of an execution that completed meanwhile', async () => {
    const waiting = await unlabelledDelayed();
    const racing = completingBeforeWrites(waiting.id);

    expect(await racing.live.labelDelayed()).toBe(0);
    expect(racing.completed()).toBe(true);
    expect(await entry(waiting.id)).toBeNull();
    expect((await racing.live.delayed('core.local')).map((e) => e.id)).not.toContain(waiting.id);
  });
});
