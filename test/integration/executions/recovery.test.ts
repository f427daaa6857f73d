import { expect, it } from 'vitest';
import { ExecutionRecovery } from '../../../src/executions/recovery.js';
import { RUN_JOB } from '../../../src/executions/service.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { useExecutionsService } from '../../support/test-service.js';
import { claimedBy, ended } from '../../support/stand-in-runs.js';
import { waitFor } from '../../support/wait.js';

for (const target of STORE_TARGETS) {
  describeWithServer(
    `execution recovery (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      const suite = useExecutionsService(target.kind, {
        'executions.check_every_ms': 300,
        'executions.heartbeat_ms': 200,
      });
      const { executions } = suite;

      it('gives a new attempt to a run that a dead worker claimed but never started, and it runs once', async () => {
        // Scheduled for later, so that nothing here runs it before the "dead worker" claims it.
        const e = await executions.service().request({
          action: 'core.local',
          parameters: { cmd: 'echo recovered' },
          user: 't',
          delay: 600_000,
        });
        // Waiting out its delay, as st2 shows it.
        expect(e.status).toBe('delayed');
        await claimedBy(suite.svc.services.store, e.id, 'host:4242:dead00');
        const done = await ended(suite.svc.services.store, e.id, 'the recovered execution to run');
        expect(done.status).toBe('succeeded');
        expect((done.result as { stdout: string }).stdout).toBe('recovered');
        expect(
          done.log.some((l) => /sent no heartbeat .* and had not started it/.test(String(l.reason))),
        ).toBe(true);
        expect(done.log.filter((l) => l.status === 'running')).toHaveLength(1);
      });

      it('queues again a due run whose scheduling process died before creating its job', async () => {
        const e = await executions
          .service()
          .request({ action: 'core.local', parameters: { cmd: 'echo requeued' }, user: 't', delay: 600_000 });
        // As if another process had marked it scheduled and died before creating the job.
        await suite.svc.services.scheduler.cancel({ name: RUN_JOB, data: { id: e.id, attempt: 0 } });
        await suite.svc.services.store.executions.updateOne(
          { id: e.id },
          { $set: { scheduled_by: 'host:4343:dead01', delay: 0 } },
        );
        const done = await ended(suite.svc.services.store, e.id, 'the re-queued execution to run');
        expect(done.status).toBe('succeeded');
        expect((done.result as { stdout: string }).stdout).toBe('requeued');
        expect(done.log.filter((l) => l.status === 'running')).toHaveLength(1);
      });

      it('runs a request whose process died right after storing it (stored scheduled at once), before its run was claimed or queued', async () => {
        const { store } = suite.svc.services;
        // The process "dies" at its first step after the insert: the run's claim (here) or job.
        const claim = store.claim.bind(store);
        store.claim = (key, ...rest) => {
          if (/^execution:.*:attempt:0$/.test(key)) throw new Error('process died');
          return claim(key, ...rest);
        };
        let id = '';
        const insert = store.executions.insert.bind(store.executions);
        store.executions.insert = (record) => {
          id = record.id;
          return insert(record);
        };
        try {
          await expect(
            executions
              .service()
              .request({ action: 'core.local', parameters: { cmd: 'echo after crash' }, user: 't' }),
          ).rejects.toThrow('process died');
        } finally {
          store.claim = claim;
          store.executions.insert = insert;
        }
        const left = await store.executions.get(id);
        expect(left?.status).toBe('scheduled');
        expect((await store.liveExecutions.get(id))?.status).toBe('scheduled');
        // Stored by the process that died.
        const dead = 'host:4646:dead05';
        await store.executions.updateOne({ id }, { $set: { scheduled_by: dead, requested_by: dead } });
        const done = await ended(store, id, 'recovery to run the stored request');
        expect(done.status).toBe('succeeded');
        expect((done.result as { stdout: string }).stdout).toBe('after crash');
        expect(done.log.map((l) => l.status)).toEqual(['requested', 'scheduled', 'running', 'succeeded']);
      });

      it('a noop run whose scheduling process died after claiming it and its completion, before it ran, gets a new attempt and runs once', async () => {
        const { store, scheduler } = suite.svc.services;
        const e = await executions.service().request({ action: 'core.noop', user: 't', delay: 600_000 });
        expect(e.status).toBe('delayed');
        // What a process that died right after scheduling a noop it meant to run itself leaves:
        // `scheduled` by it, its attempt claimed by it, no job.
        await scheduler.cancel({ name: RUN_JOB, data: { id: e.id, attempt: 0 } });
        const dead = 'host:4545:dead02';
        await store.executions.updateOne(
          { id: e.id },
          { $set: { status: 'scheduled', scheduled_by: dead, delay: 0 }, $unset: { delayed_until: '' } },
        );
        await store.liveExecutions.replace({
          id: e.id,
          status: 'scheduled',
          since: new Date().toISOString(),
        });
        await claimedBy(store, e.id, dead);
        // It died after claiming the completion too (the run's one status write not yet made): on
        // a store without transactions, that claim stays behind.
        const long = new Date(Date.now() - 600_000).toISOString();
        await store.claims.insert({ id: `execution:${e.id}:completed`, owner: dead, claimed_at: long });

        const done = await ended(store, e.id, 'the noop run to be given a new attempt');
        expect(done.status).toBe('succeeded');
        expect(
          done.log.some((l) => /sent no heartbeat .* and had not started it/.test(String(l.reason))),
        ).toBe(true);
        expect(done.log.filter((l) => l.status === 'running')).toHaveLength(1);
      });

      it('completes an execution once: a second completion (a late abandon) is refused, a dead claimant does not block recovery', async () => {
        const { store } = suite.svc.services;
        const service = executions.service();
        const running = async (worker: string) => {
          const e = await service.request({
            action: 'core.local',
            parameters: { cmd: 'true' },
            user: 't',
            delay: 600_000,
          });
          await suite.svc.services.scheduler.cancel({ name: RUN_JOB, data: { id: e.id, attempt: 0 } });
          await store.executions.updateOne({ id: e.id }, { $set: { status: 'running', worker } });
          return e.id;
        };
        // Another process is completing it (it holds the completion): this one may not.
        const raced = await running(service.workerId);
        expect(await store.claim(`execution:${raced}:completed`, 'host:5151:other')).toBe(true);
        await expect(service.setStatus(raced, 'abandoned', { reason: 'late' })).rejects.toMatchObject({
          code: 'STATUS_CHANGED',
        });
        expect((await store.executions.get(raced))?.status).toBe('running');
        // Its worker died after claiming the completion and before writing it: recovery still ends it.
        const orphan = await running('host:5252:dead03');
        expect(await store.claim(`execution:${orphan}:completed`, 'host:5252:dead03')).toBe(true);
        const done = await waitFor(
          async () => {
            const r = await store.executions.get(orphan);
            return r?.status === 'abandoned' ? r : null;
          },
          "recovery to abandon the dead worker's execution",
          20_000,
        );
        expect(done.log.filter((l) => l.status === 'abandoned')).toHaveLength(1);
      });

      it('re-runs an idempotent action whose dead worker held its completion claim, and completes it', async () => {
        const { store } = suite.svc.services;
        await store.actions.updateOne({ ref: 'core.local' }, { $set: { idempotent: true } });
        try {
          const e = await executions
            .service()
            .request({ action: 'core.local', parameters: { cmd: 'echo again' }, user: 't', delay: 600_000 });
          await suite.svc.services.scheduler.cancel({ name: RUN_JOB, data: { id: e.id, attempt: 0 } });
          // Its worker ran it, claimed the completion, and died before writing it.
          await store.executions.updateOne(
            { id: e.id },
            { $set: { status: 'running', worker: 'host:5353:dead04' } },
          );
          expect(await store.claim(`execution:${e.id}:completed`, 'host:5353:dead04')).toBe(true);
          const done = await ended(store, e.id, 'the idempotent execution to run again and complete');
          expect(done.status).toBe('succeeded');
          expect((done.result as { stdout: string }).stdout).toBe('again');
          // What was observed, not more: a late heartbeat, which a live but slow process sends too.
          const deadAfter = suite.svc.services.config.executions.dead_after_ms;
          expect(done.log.map((l) => l.reason)).toContain(
            `worker host:5353:dead04 sent no heartbeat for ${deadAfter} ms; re-running idempotent action (attempt 1)`,
          );
        } finally {
          await store.actions.updateOne({ ref: 'core.local' }, { $unset: { idempotent: '' } });
        }
      });

      /** A `core.local` run of `cmd`, scheduled with no job: the test runs its attempts itself. */
      const scheduledWithoutJob = async (cmd: string) => {
        const { store, scheduler } = suite.svc.services;
        const e = await executions
          .service()
          .request({ action: 'core.local', parameters: { cmd }, user: 't', delay: 600_000 });
        await scheduler.cancel({ name: RUN_JOB, data: { id: e.id, attempt: 0 } });
        await store.executions.updateOne(
          { id: e.id },
          { $set: { status: 'scheduled', delay: 0 }, $unset: { delayed_until: '' } },
        );
        return e;
      };

      /**
       * Attempt 0's run of `cmd` once it has claimed its attempt and read the record, stalled there
       * (a saturated store) until `release`, so slow that the sweep takes its process for dead and
       * gives the run attempt 1.
       */
      const stalledFirstAttempt = async (cmd: string) => {
        const { store } = suite.svc.services;
        const e = await scheduledWithoutJob(cmd);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const findAction = store.actions.findOne.bind(store.actions);
        let stalled = false;
        store.actions.findOne = async (...args) => {
          if (!stalled && (args[0] as { ref?: string }).ref === 'core.local') {
            stalled = true;
            await gate;
          }
          return findAction(...args);
        };
        const first = executions.service().run(e.id, 0);
        await waitFor(() => stalled, 'attempt 0 to stall before it starts the action', 10_000, 10);
        await store.executions.updateOne({ id: e.id }, { $set: { attempt: 1 } });
        const restore = () => {
          release();
          store.actions.findOne = findAction;
        };
        return { e, first, release, restore };
      };

      it('a slow run whose execution another attempt started leaves it to that run: the action runs once and its outcome stands', async () => {
        const { store } = suite.svc.services;
        const service = executions.service();
        // Attempt 1 starts at once, before attempt 0 goes on.
        const { e, first, release, restore } = await stalledFirstAttempt('sleep 1; echo once');
        try {
          const second = service.run(e.id, 1);
          await waitFor(
            async () => (await store.executions.get(e.id))?.status === 'running',
            'attempt 1 to start the action',
            10_000,
            20,
          );
          release();
          await Promise.all([first, second]);
        } finally {
          restore();
        }
        const done = await store.executions.get(e.id);
        expect(done?.status).toBe('succeeded');
        expect((done?.result as { stdout: string }).stdout).toBe('once');
        expect(done?.log.filter((l) => l.status === 'running')).toHaveLength(1);
        expect(service.runningHere()).not.toContain(e.id);
      });

      it('a slow run whose execution was given a new attempt before it went on does not start it: the new attempt runs it, once', async () => {
        const { store } = suite.svc.services;
        const service = executions.service();
        // Attempt 0 goes on first, before attempt 1's job is taken.
        const { e, first, release, restore } = await stalledFirstAttempt('sleep 1; echo given on');
        try {
          release();
          await first;
          await service.run(e.id, 1);
        } finally {
          restore();
        }
        const done = await store.executions.get(e.id);
        expect(done?.status).toBe('succeeded');
        expect((done?.result as { stdout: string }).stdout).toBe('given on');
        expect(done?.log.filter((l) => l.status === 'running')).toHaveLength(1);
        expect(service.runningHere()).not.toContain(e.id);
      });

      it('a run taken for dead while it ran, its idempotent action handed to a new attempt, leaves the outcome to that attempt', async () => {
        const { store } = suite.svc.services;
        const service = executions.service();
        await store.actions.updateOne({ ref: 'core.local' }, { $set: { idempotent: true } });
        try {
          const e = await scheduledWithoutJob('sleep 1; echo handed');
          const first = service.run(e.id, 0);
          await waitFor(
            async () => (await store.executions.get(e.id))?.status === 'running',
            'attempt 0 to start the action',
            10_000,
            20,
          );
          // What the recovery check of another process does when this one's heartbeat is late.
          await store.executions.updateOne(
            { id: e.id, status: 'running' },
            {
              $set: { status: 'scheduled', attempt: 1, worker: null },
              $push: { log: { status: 'scheduled', timestamp: new Date().toISOString(), reason: 'late' } },
            },
          );
          await first;
          expect((await store.executions.get(e.id))?.status).toBe('scheduled');
          await service.run(e.id, 1);
          const done = await store.executions.get(e.id);
          expect(done?.status).toBe('succeeded');
          expect((done?.result as { stdout: string }).stdout).toBe('handed');
        } finally {
          await store.actions.updateOne({ ref: 'core.local' }, { $unset: { idempotent: '' } });
        }
      });

      it('re-queues an old request whose requester died, but not one a live process is still scheduling', async () => {
        const { store } = suite.svc.services;
        const old = new Date(Date.now() - 30_000).toISOString();
        const stuck = async (requestedBy: string, cmd: string) => {
          const e = await executions.service().request({
            action: 'core.local',
            parameters: { cmd },
            user: 't',
            delay: 600_000,
          });
          await suite.svc.services.scheduler.cancel({ name: RUN_JOB, data: { id: e.id, attempt: 0 } });
          // Back to `requested`, 30 s old, as if its requester had stalled (or died) before scheduling it.
          await store.executions.updateOne(
            { id: e.id },
            { $set: { status: 'requested', start_timestamp: old, requested_by: requestedBy, delay: 0 } },
          );
          return e.id;
        };
        const slow = await stuck(executions.service().workerId, 'echo slow');
        const orphan = await stuck('host:4444:dead02', 'echo orphan');
        const done = await ended(store, orphan, 'the orphaned request to run');
        expect(done.status).toBe('succeeded');
        // The passes that re-queued the orphan saw the other one too, and left it to its live requester.
        expect((await store.executions.get(slow))?.status).toBe('requested');
      });
    },
  );
}

for (const target of STORE_TARGETS) {
  describeWithServer(
    `execution recovery on a slow store (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      // The service's own check stays out of the way; the test runs its own.
      const suite = useExecutionsService(target.kind, { 'executions.check_every_ms': 600_000 });

      it('judges no worker dead while its own heartbeat shows the store is slow, and does once it is fast', async () => {
        const { store } = suite.svc.services;
        const e = await suite.executions
          .service()
          .request({ action: 'core.local', parameters: { cmd: 'true' }, user: 't', delay: 600_000 });
        // Running on a worker that sends no heartbeat.
        await store.executions.updateOne(
          { id: e.id },
          { $set: { status: 'running', worker: 'host:4444:gone00' } },
        );
        await store.liveExecutions.replace({ id: e.id, status: 'running', since: new Date().toISOString() });
        const recovery = new ExecutionRecovery(suite.svc.services, suite.executions.service(), {
          heartbeatMs: 600_000,
          deadAfterMs: 1000,
          checkEveryMs: 600_000,
        });

        const write = store.workers.updateOne.bind(store.workers);
        store.workers.updateOne = async (...args) => {
          await new Promise((r) => setTimeout(r, 700));
          return write(...args);
        };
        try {
          await recovery.heartbeat();
        } finally {
          store.workers.updateOne = write;
        }
        expect(recovery.storeLagMs()).toBeGreaterThan(500);
        expect(await recovery.check()).toMatchObject({ deferred: true, abandoned: [] });
        expect((await store.executions.get(e.id))?.status).toBe('running');

        await recovery.heartbeat();
        expect((await recovery.check()).abandoned).toEqual([e.id]);
        expect((await store.executions.get(e.id))?.status).toBe('abandoned');
        await store.workers.deleteOne({ id: suite.executions.service().workerId });
      });
    },
  );
}
