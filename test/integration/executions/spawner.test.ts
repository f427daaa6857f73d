import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { expect, it } from 'vitest';
import { isCompleted } from '../../../src/executions/index.js';
import { dieAfterNextFork, spawnerPid } from '../../../src/runners/spawner.js';
import { describeOnEachStore } from '../../support/servers.js';
import { useExecutionsService } from '../../support/test-service.js';
import { processExists as alive, pidsWithEnv } from '../../support/processes.js';
import { waitFor } from '../../support/wait.js';

/**
 * core.local commands are started by the spawner, a small process of the service's
 * (src/runners/spawner.ts). Its death must not lose or hang a run: the run ends abandoned, saying
 * why, its command's process group is killed, and the next run gets a new spawner. A cancel still
 * kills the command's whole process group, even one that comes before the spawner has said which
 * process it started.
 */
describeOnEachStore('local commands started by the spawner process', (target) => {
  const suite = useExecutionsService(target.kind, { 'executions.check_every_ms': 600_000 });
  const { executions } = suite;

  const finished = (id: string) =>
    waitFor(async () => {
      const e = await suite.svc.services.store.executions.get(id);
      return e && isCompleted(e.status) ? e : null;
    }, `execution ${id} to finish`);

  /** Runs a command that starts a child, writes both pids to a file, and sleeps; returns the pids. */
  const startSleeper = async (name: string) => {
    const pidFile = path.join(suite.svc.config.data_dir, `${name}-${target.kind}.pids`);
    const requested = await executions.service().request({
      action: 'core.local',
      parameters: { cmd: `sleep 60 & echo "$! $$" > '${pidFile}'; echo started; wait`, timeout: 120 },
      user: 't',
    });
    const pids = await waitFor(() => {
      const text = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
      return text.includes(' ') ? text.split(' ').map(Number) : null;
    }, 'the command to start its child');
    return { id: requested.id, pids };
  };

  it('a spawner killed mid-run ends the run abandoned with the reason, kills its command, and the next run works', async () => {
    const { id, pids } = await startSleeper('lost');
    expect((await suite.svc.services.store.executions.get(id))?.status).toBe('running');
    // The spawner sends a command's output after its pid, on the same channel: once the output is
    // stored, the service has the pid, so this is a spawner killed mid-run and not one killed before
    // it said which process it started (the next test; before, killing it right after the pid file
    // appeared could fall in either, and in the second the command was left running).
    await waitFor(
      async () => (await suite.svc.services.store.executionOutput.count({ execution_id: id })) > 0,
      "the command's output to be stored",
    );
    const spawner = spawnerPid();
    expect(spawner).toBeDefined();
    process.kill(spawner!, 'SIGKILL');

    const done = await finished(id);
    expect(done.status).toBe('abandoned');
    expect((done.result as { error: string }).error).toMatch(
      /process that starts Squall's local actions .* was killed by SIGKILL while this action ran/,
    );
    await waitFor(() => (pids.some(alive) ? null : true), 'the lost command and its child to be gone');

    const next = await executions
      .service()
      .request({ action: 'core.local', parameters: { cmd: 'echo again' }, user: 't' });
    const after = await finished(next.id);
    expect(after.status).toBe('succeeded');
    expect((after.result as { stdout: string }).stdout).toBe('again');
    expect(spawnerPid()).not.toBe(spawner);
  });

  it('a spawner killed after starting a command but before reporting its pid still kills the command, which runs once', async () => {
    // The service never learns which process the command is: the test finds it by a mark in its
    // environment, as it and the child it starts carry it.
    const mark = `SPAWNPID_MARK=${randomUUID()}`;
    const runs = path.join(suite.svc.config.data_dir, `unreported-${target.kind}.runs`);
    dieAfterNextFork();
    const requested = await executions.service().request({
      action: 'core.local',
      parameters: {
        cmd: `echo run >> '${runs}'; sleep 60 & wait`,
        env: { SPAWNPID_MARK: mark.slice('SPAWNPID_MARK='.length) },
        timeout: 120,
      },
      user: 't',
    });

    const done = await finished(requested.id);
    expect(done.status).toBe('abandoned');
    expect((done.result as { error: string }).error).toMatch(
      /process that starts Squall's local actions .* was killed by SIGKILL while this action ran: .* lost, and its process group was killed$/,
    );
    await waitFor(
      () => (pidsWithEnv(mark).length === 0 ? true : null),
      'the command whose pid was never reported, and its child, to be gone',
    );
    // Nothing started it again: at most the one run (it may be killed before its first line).
    const lines = existsSync(runs) ? readFileSync(runs, 'utf8').trim().split('\n').filter(Boolean) : [];
    expect(lines.length).toBeLessThanOrEqual(1);
  });

  it('a cancel kills the whole process group of the command', async () => {
    const { id, pids } = await startSleeper('cancel');
    await executions.service().cancel(id, 't');
    const done = await finished(id);
    expect(done.status).toBe('canceled');
    await waitFor(() => (pids.some(alive) ? null : true), 'the canceled command and its child to be gone');
  });
});
