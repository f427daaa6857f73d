import { expect, it } from 'vitest';
import { RUN_JOB } from '../../../src/executions/service.js';
import { sweepScheduled } from '../../../src/scale/sweep.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { useExecutionsService } from '../../support/test-service.js';

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
    },
  );
}
