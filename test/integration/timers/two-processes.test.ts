import { expect, it } from 'vitest';
import { writeTestPack } from '../../support/packs.js';
import { MONGO_URL, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import { sleep, waitFor } from '../../support/wait.js';

type Json = Record<string, any>;

describeWithServer(
  'timers across two OS processes (mongo)',
  'MongoDB (SQUALL_TEST_MONGO_URL)',
  Boolean(MONGO_URL),
  () => {
    it('an IntervalTimer rule fires exactly once per tick while two squall processes share one database', async () => {
      const packs = tempDir();
      writeTestPack(packs.dir, 'ticks', {
        'rules/every_second.yaml':
          'name: every_second\npack: ticks\nenabled: true\ntrigger:\n  type: core.st2.IntervalTimer\n  parameters:\n    unit: seconds\n    delta: 1\naction:\n  ref: core.noop\n',
      });
      const env = {
        SQUALL_MONGO_URL: freshMongoUrl(),
        SQUALL_AUTH_ENABLE: 'false',
        SQUALL_LOG_LEVEL: 'warn',
        SQUALL_PACKS_PATHS: packs.dir,
        SQUALL_SCHEDULER_PROCESS_EVERY_MS: '200',
      };
      const data1 = tempDir();
      const data2 = tempDir();
      const procs: ServiceProcess[] = [];
      try {
        // One after the other: pack registration is not meant to race with itself. Started from
        // the sources (compiled as they load), which takes over 30 s on a loaded machine.
        procs.push(await startServiceProcess(['--data-dir', data1.dir], env, 60_000));
        procs.push(await startServiceProcess(['--data-dir', data2.dir], env, 60_000));
        await sleep(6500);
        const res = await fetch(`${procs[0].url}/api/v1/triggerinstances?limit=100`);
        const instances = ((await res.json()) as Json[]).filter(
          (i) => String(i.trigger ?? '').length > 0 && i.payload?.schedule?.delta === 1,
        );
        const ticks = instances.map((i) => String(i.payload.executed_at)).sort();
        expect(ticks.length, 'ticks seen').toBeGreaterThanOrEqual(4);
        expect(new Set(ticks).size, `duplicate ticks among ${ticks.join(', ')}`).toBe(ticks.length);
        // None lost: a timer fires at each interval (st2), whichever process holds it.
        for (let i = 1; i < ticks.length; i++) {
          expect(Date.parse(ticks[i]) - Date.parse(ticks[i - 1]), `ticks ${ticks[i - 1]} → ${ticks[i]}`).toBe(
            1000,
          );
        }
        // Both processes ran timers (both have every role), yet each tick was dispatched once: each
        // instance has exactly one execution. Its execution comes after it (the rules engine takes the
        // instance through a durable job, in either process), a second or more later on a busy
        // machine, so it is waited for rather than counted at the instant the instances were read.
        const seen = instances.map((i) => String(i.id)).sort();
        const fired = await waitFor(
          async () => {
            const executions = (await (
              await fetch(`${procs[1].url}/api/v1/executions?action=core.noop&limit=100`)
            ).json()) as Json[];
            const ours = executions
              .map((e) => String(e.trigger_instance?.id ?? ''))
              .filter((id) => seen.includes(id));
            return new Set(ours).size === seen.length ? ours : null;
          },
          `an execution of each of the ${seen.length} ticks seen`,
          30_000,
        );
        expect(fired.sort()).toEqual(seen);
      } finally {
        for (const p of procs) await p.stop();
        data1.cleanup();
        data2.cleanup();
        packs.cleanup();
      }
    }, 180_000);
  },
);
