import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { RUN_JOB } from '../../../src/executions/service.js';
import { isCompleted } from '../../../src/executions/index.js';
import { describeOnEachStore } from '../../support/servers.js';
import { useExecutionsService } from '../../support/test-service.js';
import { processExists as alive } from '../../support/processes.js';
import { waitFor } from '../../support/wait.js';

/**
 * A core.local execution requested in a process with the runner role is run by that process, with
 * no `execution.run` job in between (ExecutionService.claimToRunHere): it shows `running` before
 * its command starts, and a cancel stops its command as it stops a run picked up from the queue.
 */
describeOnEachStore('core.local run by the process that requested it', (target) => {
  const suite = useExecutionsService(target.kind, { 'executions.check_every_ms': 600_000 });
  const { executions } = suite;

  /** The run jobs queued while `work` runs. */
  const runJobsDuring = async (work: () => Promise<void>) => {
    const scheduler = suite.svc.services.scheduler;
    const queued: unknown[] = [];
    const now = scheduler.now.bind(scheduler);
    scheduler.now = (name, data) => {
      if (name === RUN_JOB) queued.push(data);
      return now(name, data);
    };
    try {
      await work();
    } finally {
      scheduler.now = now;
    }
    return queued;
  };

  const finished = (id: string) =>
    waitFor(async () => {
      const e = await suite.svc.services.store.executions.get(id);
      return e && isCompleted(e.status) ? e : null;
    }, `execution ${id} to finish`);

  it('runs with no job: running, then succeeded, its output stored, in that order of events', async () => {
    const seen: Array<{ id: string; status: string }> = [];
    let id = '';
    const unsubscribe = suite.svc.services.bus.subscribe('st2.execution__*', (event) => {
      const e = event.payload as { id: string; status: string };
      seen.push({ id: e.id, status: e.status });
    });
    const statuses = () => seen.filter((e) => e.id === id).map((e) => e.status);
    try {
      const jobs = await runJobsDuring(async () => {
        const requested = await executions
          .service()
          .request({ action: 'core.local', parameters: { cmd: 'echo here' }, user: 't' });
        id = requested.id;
        const done = await finished(id);
        expect(done.status).toBe('succeeded');
        expect((done.result as { stdout: string }).stdout).toBe('here');
        expect(done.log.map((l) => l.status)).toEqual(['requested', 'scheduled', 'running', 'succeeded']);
      });
      expect(jobs).toEqual([]);
      await waitFor(() => (statuses().length >= 4 ? true : null), 'the events of the run');
      expect(statuses()).toEqual(['requested', 'scheduled', 'running', 'succeeded']);
    } finally {
      unsubscribe();
    }
  });

  it('a cancel while it runs kills its command and ends it canceled', async () => {
    const pidFile = path.join(suite.svc.config.data_dir, `child-${target.kind}.pid`);
    let id = '';
    const jobs = await runJobsDuring(async () => {
      // The command's own child (sleep) is what must not outlive the cancel.
      const requested = await executions.service().request({
        action: 'core.local',
        parameters: { cmd: `sleep 60 & echo $! > '${pidFile}'; wait`, timeout: 120 },
        user: 't',
      });
      id = requested.id;
    });
    expect(jobs).toEqual([]);
    const pid = await waitFor(
      () =>
        existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() ? readFileSync(pidFile, 'utf8') : null,
      'the command to start its child',
    );
    expect((await suite.svc.services.store.executions.get(id))?.status).toBe('running');
    await executions.service().cancel(id, 't');
    const done = await finished(id);
    expect(done.status).toBe('canceled');
    await waitFor(() => (alive(Number(pid)) ? null : true), 'the canceled command to be gone');
  });
});
