import { expect, it } from 'vitest';
import { RUN_JOB } from '../../../src/executions/service.js';
import { ExecutionRecovery } from '../../../src/executions/recovery.js';
import { sweepScheduled, type SweepReport } from '../../../src/scale/sweep.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { useExecutionsService } from '../../support/test-service.js';
import { claimedBy, ended } from '../../support/stand-in-runs.js';
import { sleep, waitFor } from '../../support/wait.js';

for (const target of STORE_TARGETS) {
  describeWithServer(
    `scale.sweep: scheduled executions a dead process held (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      // Long checks: only the sweep called by the test acts.
      const suite = useExecutionsService(target.kind, {
        'executions.dead_after_ms': 1000,
        'executions.check_every_ms': 600_000,
        'executions.heartbeat_ms': 100,
      });
      const { executions } = suite;

      /** A scheduled execution whose last `scheduled` entry is a minute old and now due. */
      const scheduledLongAgo = async (keepJob: boolean) => {
        const e = await executions
          .service()
          .request({ action: 'core.local', parameters: { cmd: 'true' }, user: 't', delay: 600_000 });
        if (!keepJob)
          await suite.svc.services.scheduler.cancel({ name: RUN_JOB, data: { id: e.id, attempt: 0 } });
        const old = new Date(Date.now() - 60_000).toISOString();
        await suite.svc.services.store.executions.updateOne(
          { id: e.id },
          {
            $set: {
              status: 'scheduled',
              delay: 0,
              start_timestamp: old,
              log: [{ status: 'scheduled', timestamp: old }],
            },
          },
        );
        await suite.svc.services.store.liveExecutions.replace({ id: e.id, status: 'scheduled', since: old });
        return e.id;
      };

      it('queues again the runs whose job is gone, and leaves those whose job still waits', async () => {
        const lost = [await scheduledLongAgo(false), await scheduledLongAgo(false)];
        const waiting = await scheduledLongAgo(true);
        const report = await sweepScheduled(suite.svc.services);
        expect([...report.requeued].sort()).toEqual([...lost].sort());
        expect(report.requeued).not.toContain(waiting);
        expect(report.reattempted).toEqual([]);
      });

      it('gives a run a dead worker claimed one new attempt when the recovery check and the sweep find it at once', async () => {
        const { services } = suite.svc;
        const { store } = services;
        const service = executions.service();
        const id = await scheduledLongAgo(false);
        const dead = 'host:4747:dead06';
        await claimedBy(store, id, dead);
        const recovery = new ExecutionRecovery(services, service, {
          heartbeatMs: 600_000,
          deadAfterMs: 1000,
          checkEveryMs: 600_000,
        });
        // Both look every check_every_ms, in whichever processes lock their jobs: here the sweep
        // runs while the check has read the execution and not yet acted on it. The new attempt's
        // run waits until both are done.
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const run = service.run.bind(service);
        service.run = async (...args) => {
          await gate;
          return run(...args);
        };
        const getClaim = store.claims.get.bind(store.claims);
        let swept: Promise<SweepReport> | undefined;
        store.claims.get = async (key) => {
          if (key === `execution:${id}:attempt:0` && !swept) {
            swept = sweepScheduled(services);
            await swept;
          }
          return getClaim(key);
        };
        try {
          await recovery.check();
          expect((await swept)?.reattempted).toEqual([id]);
        } finally {
          store.claims.get = getClaim;
          release();
          service.run = run;
        }
        const done = await ended(store, id, 'the new attempt to run');
        expect(done.status).toBe('succeeded');
        expect(done.attempt).toBe(1);
        expect(done.log.filter((l) => /had not started it/.test(String(l.reason)))).toHaveLength(1);
        expect(done.log.filter((l) => l.status === 'running')).toHaveLength(1);
      });

      it('leaves a claimed run to its claimant while its own heartbeat shows the store is slow, and gives the new attempt once it is fast', async () => {
        const { services } = suite.svc;
        const { store } = services;
        const id = await scheduledLongAgo(false);
        // Its claimant's heartbeat is late, as this process's own is: the store is saturated.
        await claimedBy(store, id, 'host:4848:late07');
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const write = store.workers.updateOne.bind(store.workers);
        store.workers.updateOne = async (...args) => {
          await gate;
          return write(...args);
        };
        try {
          // This process's heartbeat write has been under way for longer than dead_after_ms / 2.
          await sleep(800);
          const report = await sweepScheduled(services);
          expect(report).toMatchObject({ reattempted: [], deferred: true });
          expect((await store.executions.get(id))?.attempt).toBe(0);
        } finally {
          store.workers.updateOne = write;
          release();
        }
        // Fast again (its next heartbeat writes go through): the claimant's silence now means it is gone.
        const report = await waitFor(
          async () => {
            const swept = await sweepScheduled(services);
            return swept.reattempted.length ? swept : null;
          },
          'the sweep to give the run its new attempt once the store is fast',
          15_000,
          200,
        );
        expect(report.reattempted).toEqual([id]);
      });
    },
  );
}
