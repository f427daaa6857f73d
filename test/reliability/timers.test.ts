import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServer } from '../support/servers.js';
import { waitFor } from '../support/wait.js';
import { CLUSTER_AVAILABLE, CLUSTER_NEEDS, Cluster, FIXTURE_PACKS, TERMINAL } from './cluster.js';

/** Ticks checked, after both processes are up. */
const TICKS = 5;
const RULE = 'reliability.every_two_seconds';

describeWithServer('two timer processes share the ticks', CLUSTER_NEEDS, CLUSTER_AVAILABLE, () => {
  // The reliability pack's IntervalTimer rule ticks every 2 s and runs core.noop.
  const cluster = new Cluster({ SQUALL_PACKS_PATHS: FIXTURE_PACKS });
  let bothUp = '';

  beforeAll(async () => {
    await cluster.start('timers,rules,runner');
    await cluster.start('timers,rules,runner');
    bothUp = new Date().toISOString();
  }, 180_000);
  afterAll(() => cluster.stopAll());

  it(`fires each of ${TICKS} ticks exactly once, with one execution per tick`, async () => {
    const store = await cluster.store();
    const timerInstances = async () =>
      (await store.triggerInstances.find({ trigger_type: 'core.st2.IntervalTimer' })).filter(
        (ti) => String((ti.payload as { executed_at?: string }).executed_at) > bothUp,
      );
    // Every instance of a tick carries its scheduled time: group by it.
    const ticks = await waitFor(
      async () => {
        const instances = await timerInstances();
        const times = [
          ...new Set(instances.map((ti) => String((ti.payload as { executed_at: string }).executed_at))),
        ]
          .sort()
          .slice(0, TICKS);
        return times.length === TICKS ? times : null;
      },
      `${TICKS} ticks after both timer processes started`,
      120_000,
      500,
    );
    const instances = (await timerInstances()).filter((ti) =>
      ticks.includes(String((ti.payload as { executed_at: string }).executed_at)),
    );
    const executions = await waitFor(
      async () => {
        const found = (await store.executions.find({ 'rule.ref': RULE })).filter((e) =>
          instances.some((ti) => ti.id === (e.trigger_instance as { id?: string } | undefined)?.id),
        );
        return found.length >= instances.length && found.every((e) => TERMINAL.includes(e.status))
          ? found
          : null;
      },
      'the executions of those ticks to finish',
      120_000,
      500,
    );
    const claims = await store.claims.find({ id: { $regex: `^timer:` } });
    console.log(
      JSON.stringify({
        test: 'timers',
        ticks: ticks.length,
        instances: instances.length,
        executions: executions.length,
        tick_claim_owners: new Set(claims.map((c) => c.owner)).size,
      }),
    );
    // One trigger instance per tick, one execution per instance, each succeeded.
    expect(instances).toHaveLength(TICKS);
    expect(new Set(instances.map((ti) => (ti.payload as { executed_at: string }).executed_at)).size).toBe(
      TICKS,
    );
    expect(executions).toHaveLength(TICKS);
    expect(new Set(executions.map((e) => (e.trigger_instance as { id: string }).id)).size).toBe(TICKS);
    expect(executions.map((e) => e.status)).toEqual(Array(TICKS).fill('succeeded'));
    expect(cluster.processes.every((p) => p.child.exitCode === null)).toBe(true);
  }, 300_000);
});
