import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import type { ExecutionService } from '../../../src/executions/service.js';
import { describeWithServer } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { holdFsync } from '../../support/disk.js';
import { sleep, waitFor } from '../../support/wait.js';

/**
 * The embedded store acknowledges writes at COMMIT and fsyncs when something leaves the process
 * (src/store/sqlite/database.ts). An action with a side effect is such a thing: its runner starts
 * only once the execution's `running` (and everything before it) is on disk, so a power cut
 * never takes back the record of an action that has run. Here the disk is slow, then failing,
 * and the action is a `touch` whose file tells whether it ran.
 */
describeWithServer('an action with a side effect starts only on state on disk (embedded)', '', true, () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let executions: () => ExecutionService;

  beforeEach(async () => {
    const exSub = executionsSubsystem();
    executions = () => exSub.service();
    svc = await startTestService({
      subsystems: [testSecretsSubsystem(), contentSubsystem(), exSub],
      config: { 'auth.enable': false },
    });
  });
  afterEach(async () => {
    await svc?.cleanup();
  });

  const touch = (name: string) => {
    const file = path.join(svc.config.data_dir, name);
    return { file, cmd: `touch '${file}'` };
  };

  /** Requests `touch <file>` and waits for it to be running (committed, maybe not on disk). */
  const requestTouch = async (name: string) => {
    const { file, cmd } = touch(name);
    const requested = await executions().request({
      action: 'core.local',
      parameters: { cmd },
      user: 'tester',
    });
    await waitFor(
      async () => (await svc.services.store.executions.get(requested.id))?.status === 'running',
      'the execution to be running (committed)',
    );
    await sleep(300);
    return { file, id: requested.id };
  };

  it('waits for the fsync before spawning, and runs once it is done', async () => {
    const disk = holdFsync(svc.services.store.embedded!);
    try {
      const { file, id } = await requestTouch('slow-disk');
      expect(disk.waiting).toBeGreaterThan(0);
      expect(existsSync(file)).toBe(false);
      disk.release();
      await waitFor(
        async () => (await svc.services.store.executions.get(id))?.status === 'succeeded',
        'the execution to succeed once on disk',
      );
      expect(existsSync(file)).toBe(true);
    } finally {
      disk.restore();
    }
  });

  it('never runs the command when the fsync fails (a power cut could take its record back)', async () => {
    // The disk is slow, then fails: every fsync waits, then reports an I/O error.
    const disk = holdFsync(svc.services.store.embedded!);
    try {
      const { file, id } = await requestTouch('failed-disk');
      disk.fail();
      await expect(svc.services.store.sync()).rejects.toMatchObject({ code: 'STORE_FSYNC_FAILED' });
      await sleep(500);
      expect(existsSync(file)).toBe(false);
      expect((await svc.services.store.executions.get(id))?.status).toBe('running');
    } finally {
      disk.restore();
    }
  });
});
