import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.js';
import { describeWithServer, tempDir } from '../../support/servers.js';
import type { ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';
import { SCALE_AVAILABLE, SCALE_NEEDS, ScaleCluster, pidOfWorker, writePack } from './support.js';

type Json = Record<string, any>;

const SENSOR = 'scaletest.PidSensor';

/** A polling sensor that says, in every trigger it dispatches, which Squall process runs it. */
const PACK = {
  'sensors/pid_sensor.mjs': `
export default class PidSensor {
  constructor(sensorService) {
    this.sensorService = sensorService;
    this.n = 0;
  }
  async setup() {}
  async poll() {
    this.n += 1;
    await this.sensorService.dispatch('scaletest.tick', { n: this.n, sensor_pid: process.pid, host_pid: process.ppid });
  }
  async cleanup() {}
}
`,
  'sensors/pid_sensor.yaml': `---
class_name: PidSensor
entry_point: pid_sensor.mjs
description: Dispatches scaletest.tick with the pid of the Squall process that runs it.
enabled: true
poll_interval: 0.5
trigger_types:
  - name: tick
    description: One poll of PidSensor.
`,
  'rules/on_tick.yaml': `---
name: on_tick
pack: scaletest
enabled: true
trigger:
  type: scaletest.tick
action:
  ref: core.noop
`,
};

describeWithServer('sensors across two squall OS processes', SCALE_NEEDS, SCALE_AVAILABLE, () => {
  const packs = tempDir();
  const cluster = new ScaleCluster({ SQUALL_PACKS_PATHS: packs.dir });
  let store: Store;

  beforeAll(async () => {
    writePack(packs.dir, 'scaletest', PACK);
    // Both at once, on an empty database: pack registration must not trip over itself.
    await cluster.start(2);
    store = await openStore({ dataDir: tempDir().dir, mongoUrl: cluster.mongoUrl });
  }, 120_000);

  afterAll(async () => {
    await cluster.stopAll();
    await store?.close();
    packs.cleanup();
  });

  const ticks = async () =>
    (await store.triggerInstances.find({ trigger: 'scaletest.tick' }, { sort: { occurrence_time: 1 } })).map(
      (i): Json => ({ ...(i.payload as Json), at: i.occurrence_time }),
    );
  const status = async (proc: ServiceProcess): Promise<Json> =>
    (await fetch(`${proc.url}/api/v1/sensortypes/${SENSOR}/status`)).json() as Promise<Json>;

  it('registers each pack once although both processes registered at the same time', async () => {
    for (const ref of ['core', 'examples', 'scaletest'])
      expect(await store.packs.count({ ref }), `pack ${ref}`).toBe(1);
    expect(await store.sensors.count({ ref: SENSOR })).toBe(1);
    expect(await store.rules.count({ ref: 'scaletest.on_tick' })).toBe(1);
  });

  it('runs the sensor in exactly one process; when that one is killed the other takes it over and the rule keeps firing', async () => {
    const [first, second] = cluster.procs;
    // Settled: both processes joined the sensors group and each holds at most its fair share,
    // so no sensor moves again until a process dies.
    await waitFor(
      async () => {
        const enabled = await store.sensors.count({ enabled: true });
        const claims = await store.claims.find({ id: { $gte: 'lease:sensor', $lt: 'lease:sensor\uffff' } });
        const members = claims.filter((c) => c.id.startsWith('lease:sensors:member:')).length;
        const perOwner = new Map<string, number>();
        for (const c of claims.filter((x) => x.id.startsWith('lease:sensor:')))
          perOwner.set(c.owner, (perOwner.get(c.owner) ?? 0) + 1);
        const held = [...perOwner.values()];
        return (
          members === 2 &&
          held.reduce((a, b) => a + b, 0) === enabled &&
          held.every((n) => n <= Math.ceil(enabled / 2))
        );
      },
      'both processes to hold their fair share of the sensors',
      60_000,
      200,
    );
    // Both processes agree on who holds the sensor, and only the holder runs it.
    const holderPid = await waitFor(
      async () => {
        const [a, b] = [await status(first), await status(second)];
        const running = [a, b].filter((s) => s.state === 'running');
        return a.held_by && a.held_by === b.held_by && running.length === 1
          ? pidOfWorker(a.held_by)
          : undefined;
      },
      'one process to run the sensor and both to name it',
      60_000,
      200,
    );
    const holder = cluster.byPid(holderPid)!;
    const other = cluster.procs.find((p) => p !== holder)!;
    expect(holder, `holder pid ${holderPid}`).toBeDefined();
    expect((await status(other)).state).toBe('stopped');

    const before = (await ticks()).length;
    await waitFor(
      async () => (await ticks()).slice(before).length >= 4,
      'four more ticks from the sensor',
      60_000,
      200,
    );
    expect(new Set((await ticks()).slice(before).map((t) => t.host_pid))).toEqual(
      new Set([holder.child.pid]),
    );
    const firedBefore = await store.ruleEnforcements.count({ 'rule.ref': 'scaletest.on_tick' });
    expect(firedBefore).toBeGreaterThan(0);

    await holder.stop('SIGKILL');
    const killedAt = (await ticks()).length;
    // ttl 3 s + check 0.5 s + start-up; the bound waited for is generous for a loaded machine.
    await waitFor(
      async () => (await ticks()).slice(killedAt).filter((t) => t.host_pid === other.child.pid).length >= 3,
      'three ticks from the sensor in the surviving process',
      60_000,
      200,
    );
    const all = await ticks();
    // Never two at once: each sensor process (one per start) ticked in a time span of its own.
    const spans = new Map<number, { from: string; to: string; host: number }>();
    for (const t of all) {
      const span = spans.get(t.sensor_pid);
      if (span) span.to = t.at;
      else spans.set(t.sensor_pid, { from: t.at, to: t.at, host: t.host_pid });
    }
    const ordered = [...spans.values()].sort((a, b) => a.from.localeCompare(b.from));
    for (let i = 1; i < ordered.length; i++)
      expect(ordered[i - 1].to < ordered[i].from, JSON.stringify(ordered)).toBe(true);
    expect(ordered.at(-1)!.host).toBe(other.child.pid);
    expect(pidOfWorker((await status(other)).held_by)).toBe(other.child.pid);
    expect((await status(other)).state).toBe('running');
    await waitFor(
      async () => (await store.ruleEnforcements.count({ 'rule.ref': 'scaletest.on_tick' })) > firedBefore + 2,
      'the rule to fire on the new ticks',
      60_000,
      200,
    );
  }, 180_000);
});
