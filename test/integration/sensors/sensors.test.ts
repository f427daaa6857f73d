import { execFile } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../../src/ids.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { ROOT } from '../../support/service-process.js';
import { sensorPackSubsystems, startTestService } from '../../support/test-service.js';
import { apiClient } from '../../support/api-client.js';
import { sleep, waitFor } from '../../support/wait.js';

type Json = Record<string, any>;
/** A Python sensor's start (with the st2 runtime) and a rule's runs, on a loaded machine. */
const SLOW_MS = 30_000;

const FIXTURE_PACKS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/sensors/packs',
);

/** The real `squall` CLI against a test service (asynchronously: the API runs in this process). */
function squall(url: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = tempDir();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/run.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: home.dir, SQUALL_API_URL: url, COLUMNS: '200' },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        home.cleanup();
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

for (const target of STORE_TARGETS) {
  describeWithServer(`sensors (${target.kind})`, 'MongoDB (SQUALL_TEST_MONGO_URL)', target.available, () => {
    let svc: Awaited<ReturnType<typeof startTestService>>;
    const { api } = apiClient(() => svc.url);
    const instances = (trigger: string) =>
      svc.services.store.triggerInstances.find({ trigger }, { sort: { occurrence_time: 1 } });
    const status = async (ref: string) => (await api('GET', `/api/v1/sensortypes/${ref}/status`)).body;

    beforeAll(async () => {
      svc = await startTestService({
        subsystems: sensorPackSubsystems('sensortest'),
        mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
        config: { 'auth.enable': false, 'packs.paths': [FIXTURE_PACKS] },
      });
    });
    afterAll(async () => svc?.cleanup());

    it("runs the seed's Python SampleSensor through the st2 shim: its dispatch stores a trigger instance", async () => {
      const [instance] = await waitFor(async () => {
        const found = await instances('sensortest.event');
        return found.length ? found : null;
      }, 'the SampleSensor trigger instance');
      expect(instance.payload).toEqual({
        executed_at: '2014-07-30T05:04:24.578325Z',
        k1: 'stuff',
        k2: 'foo',
      });
      expect(instance.source).toBe('sensor:sensortest.SampleSensor');
      expect((instance.trace_context as Json).trace_tag).toBe('sample-sensor-1');
      // The rules engine matches it: the pack's rule on sensortest.event fires.
      const enforcement = await waitFor(
        () => svc.services.store.ruleEnforcements.findOne({ trigger_instance_id: instance.id }),
        'the rule enforcement of the SampleSensor instance',
      );
      expect(enforcement.rule.ref).toBe('sensortest.on_sample_event');
      expect(enforcement.status).toBe('succeeded');
      // Its logger's lines are captured under the sensor's ref.
      const st = await waitFor(async () => {
        const s = await status('sensortest.SampleSensor');
        return s.tail.some((l: string) => l.includes('dispatching sensortest.event')) ? s : null;
      }, 'the SampleSensor log line');
      // run() returned, and the sensor is still up (st2 semantics: it lives until stopped).
      expect(st.state).toBe('running');
      expect(st.spawns).toBe(1);
      const spawn = await instances('core.st2.sensor.process_spawn');
      expect(spawn.map((i) => (i.payload as Json).object.id)).toContain('sensortest.SampleSensor');
    });

    it('runs a JS PollingSensor: polls dispatch instances, datastore values are local to the sensor, rules add triggers', async () => {
      await waitFor(
        async () => (await instances('sensortest.counter')).length >= 2,
        'two polls of CounterSensor',
      );
      const kv = await svc.services.store.kvPairs.findOne({ name: 'sensortest.CounterSensor:count' });
      expect(Number(kv?.value)).toBeGreaterThanOrEqual(2);

      const rule = {
        id: newId(),
        ref: 'sensortest.watch_blue',
        uid: 'rule:sensortest:watch_blue',
        pack: 'sensortest',
        name: 'watch_blue',
        enabled: true,
        type: { ref: 'standard', parameters: {} },
        trigger: { type: 'sensortest.counter', parameters: { tag: 'blue' } },
        criteria: {},
        action: { ref: 'core.noop', parameters: {} },
      };
      await svc.services.store.rules.insert(rule as never);
      svc.services.bus.publish('st2.rule__create', rule);
      const watched = await waitFor(async () => {
        const found = await instances('sensortest.counter');
        return found.find((i) => ((i.payload as Json).watching as string[]).includes('blue'));
      }, 'a poll after add_trigger');
      expect((watched.payload as Json).count).toBeGreaterThan(1);
      expect(watched.trace_context).toMatchObject({
        trace_tag: `counter-${(watched.payload as Json).count}`,
      });
    });

    // st2's linux FileWatchSensor (st2 3.9) follows each file a rule names in a thread that
    // add_trigger starts, and dispatches from it to the rule's parameterised trigger (its uuid
    // ref, not the trigger type): the Python channel is used from a thread run() is not on.
    it("a Python sensor dispatching from its own thread to a rule's trigger fires that rule", async () => {
      const files = tempDir();
      try {
        const file = path.join(files.dir, 'watched.log');
        writeFileSync(file, 'before the rule\n');
        const created = await api('POST', '/api/v1/rules', {
          name: 'on_line',
          pack: 'sensortest',
          enabled: true,
          trigger: { type: 'sensortest.line', parameters: { path: file } },
          criteria: {},
          action: { ref: 'core.echo', parameters: { message: 'seen: {{ trigger.line }}' } },
        });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const trigger = await waitFor(
          () => svc.services.store.triggers.findOne({ type: 'sensortest.line' }),
          "the rule's trigger",
        );
        // The sensor follows from the end of the file once add_trigger has run.
        await waitFor(
          async () =>
            (await status('sensortest.LineSensor')).tail?.some((l: string) =>
              l.includes(`following ${file}`),
            ),
          'the sensor following the file',
          SLOW_MS,
        );

        appendFileSync(file, 'first line\nsecond line\n');
        const found = await waitFor(
          async () => {
            const all = await instances(trigger.ref);
            return all.length >= 2 ? all : null;
          },
          'two trigger instances from the follower thread',
          SLOW_MS,
        );
        expect(found.map((i) => (i.payload as Json).line)).toEqual(['first line', 'second line']);
        expect(found.every((i) => (i.payload as Json).path === file)).toBe(true);

        const ran = await waitFor(
          async () => {
            const enforcements = await svc.services.store.ruleEnforcements.find({
              'rule.ref': 'sensortest.on_line',
            });
            if (enforcements.length < 2) return null;
            const executions = await Promise.all(
              enforcements.map((e) => svc.services.store.executions.get(String(e.execution_id))),
            );
            return executions.every((x) => x?.status === 'succeeded') ? executions : null;
          },
          'both executions of the rule succeeded',
          SLOW_MS,
        );
        expect(ran.map((x) => (x!.result as Json).stdout.trim()).sort()).toEqual([
          'seen: first line',
          'seen: second line',
        ]);
      } finally {
        files.cleanup();
      }
    }, 120_000);

    it('restarts a crashing sensor with backoff, logs the crash and stores process_exit; disabling stops it', async () => {
      const enabled = await api('PUT', '/api/v1/sensortypes/sensortest.CrashingSensor', { enabled: true });
      expect(enabled.status).toBe(200);
      expect(enabled.body.enabled).toBe(true);

      const st = await waitFor(
        async () => {
          const s = await status('sensortest.CrashingSensor');
          return s.spawns >= 3 ? s : null;
        },
        'three spawns of CrashingSensor',
        15_000,
      );
      const tail = st.tail.join('\n');
      expect(tail).toContain('boom from CrashingSensor');
      expect(tail).toMatch(/exited with code 1; restarting in 200 ms/);
      expect(tail).toMatch(/restarting in 400 ms/);
      const exits = await waitFor(async () => {
        const found = (await instances('core.st2.sensor.process_exit')).filter(
          (i) => (i.payload as Json).object.id === 'sensortest.CrashingSensor',
        );
        return found.length >= 2 ? found : null;
      }, 'process_exit trigger instances');
      expect((exits[0].payload as Json).object.exit_code).toBe(1);

      const disabled = await api('PUT', '/api/v1/sensortypes/sensortest.CrashingSensor', { enabled: false });
      expect(disabled.body.enabled).toBe(false);
      const stopped = await status('sensortest.CrashingSensor');
      expect(stopped.state).toBe('stopped');
      await sleep(1500);
      expect((await status('sensortest.CrashingSensor')).spawns).toBe(stopped.spawns);
      expect((await api('GET', '/api/v1/sensortypes/sensortest.CrashingSensor')).body.enabled).toBe(false);
    });

    it('a sensor that abuses its channel is stopped naming it and restarted; the service keeps answering', async () => {
      const enabled = await api('PUT', '/api/v1/sensortypes/sensortest.FloodingSensor', { enabled: true });
      expect(enabled.status).toBe(200);
      const st = await waitFor(
        async () => {
          const s = await status('sensortest.FloodingSensor');
          return s.spawns >= 2 && s.tail.some((l: string) => l.includes('stopping it')) ? s : null;
        },
        'FloodingSensor stopped and started again',
        30_000,
      );
      const tail = st.tail.join('\n');
      expect(tail).toContain(
        'sensor "sensortest.FloodingSensor": process.send is not available (there is no IPC channel)',
      );
      expect(tail).toMatch(
        /sensor "sensortest\.FloodingSensor" sent a message of more than 67,108,864 bytes on its channel \([\d,]+ read when it was dropped\).*; stopping it/,
      );
      const disabled = await api('PUT', '/api/v1/sensortypes/sensortest.FloodingSensor', { enabled: false });
      expect(disabled.body.enabled).toBe(false);
      // The other sensors were served all along.
      expect((await status('sensortest.CounterSensor')).state).toBe('running');
    }, 60_000);

    it('disabling a running sensor runs its cleanup, stops it, and it dispatches no more', async () => {
      const res = await api('PUT', '/api/v1/sensortypes/sensortest.CounterSensor', { enabled: false });
      expect(res.status).toBe(200);
      const st = await status('sensortest.CounterSensor');
      expect(st.state).toBe('stopped');
      expect(st.last_exit.code).toBe(0);
      const count = (await instances('sensortest.counter')).length;
      await sleep(1000);
      expect((await instances('sensortest.counter')).length).toBe(count);
      const exits = await instances('core.st2.sensor.process_exit');
      expect(exits.some((i) => (i.payload as Json).object.id === 'sensortest.CounterSensor')).toBe(true);
    });

    it('squall sensor list|get|disable|enable drive the same API', async () => {
      const list = await squall(svc.url, ['sensor', 'list', '--pack', 'sensortest', '--json']);
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout).map((s: Json) => s.ref)).toEqual(
        expect.arrayContaining([
          'sensortest.CounterSensor',
          'sensortest.SampleSensor',
          'sensortest.CrashingSensor',
        ]),
      );
      const get = await squall(svc.url, ['sensor', 'get', 'sensortest.SampleSensor', '--json']);
      expect(get.code, get.stderr).toBe(0);
      expect(JSON.parse(get.stdout)).toMatchObject({
        ref: 'sensortest.SampleSensor',
        process: { state: 'running' },
      });
      const off = await squall(svc.url, ['sensor', 'disable', 'sensortest.SampleSensor']);
      expect(off.code, off.stderr).toBe(0);
      expect(off.stdout).toMatch(/enabled\W+false/);
      expect((await status('sensortest.SampleSensor')).state).toBe('stopped');
      const on = await squall(svc.url, ['sensor', 'enable', 'sensortest.SampleSensor']);
      expect(on.code, on.stderr).toBe(0);
      expect((await status('sensortest.SampleSensor')).state).toBe('running');
      const missing = await squall(svc.url, ['sensor', 'get', 'sensortest.Nope']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('sensortest.Nope');
    });

    it('answers 404 naming the sensor for an unknown ref and 400 for a body without enabled', async () => {
      const missing = await api('PUT', '/api/v1/sensortypes/sensortest.Nope', { enabled: true });
      expect(missing.status).toBe(404);
      expect(JSON.stringify(missing.body)).toContain('sensortest.Nope');
      const bad = await api('PUT', '/api/v1/sensortypes/sensortest.CounterSensor', { enabled: 'maybe' });
      expect(bad.status).toBe(400);
    });
  });
}
