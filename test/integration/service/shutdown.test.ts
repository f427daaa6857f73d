import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { openStore, type ExecutionRecord } from '../../../src/store/index.js';
import { describeWithServer, tempDir } from '../../support/servers.js';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import { sleep, waitFor } from '../../support/wait.js';
import { FIXTURE_PACKS } from '../../reliability/cluster.js';

type Json = Record<string, any>;

/** True while any process of the group led by `pgid` is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM on `squall start` (issue 18 item 8, issue 19 "Shutdown"): an idle server stops at once;
 * running actions get `executions.shutdown_grace_ms`, then their process groups are killed and
 * the execution records say so — no action keeps running after the server, no output is lost.
 */
describeWithServer('squall start stopped with SIGTERM', 'the embedded store', true, () => {
  const data = tempDir('squall-shutdown-');
  let svc: ServiceProcess | undefined;
  const start = (grace: number) =>
    startServiceProcess(
      ['--data-dir', data.dir],
      {
        // The reliability pack's record_run_idempotent: appends a line per run, then sleeps.
        SQUALL_PACKS_PATHS: FIXTURE_PACKS,
        SQUALL_AUTH_ENABLE: 'false',
        SQUALL_CHATOPS_ENABLE: 'false',
        SQUALL_LOG_LEVEL: 'info',
        SQUALL_EXECUTIONS_SHUTDOWN_GRACE_MS: String(grace),
      },
      90_000,
    );
  const run = async (cmd: string, action = 'core.local', parameters: Json = { cmd }): Promise<string> => {
    const res = await fetch(`${svc!.url}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action, parameters }),
    });
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBe(201);
    return body.id;
  };
  const running = (id: string) =>
    waitFor(
      async () =>
        ((await (await fetch(`${svc!.url}/api/v1/executions/${id}`)).json()) as Json).status === 'running',
      `execution ${id} to run`,
    );
  const stored = async (id: string): Promise<ExecutionRecord> => {
    const store = await openStore({ dataDir: data.dir });
    try {
      return (await store.executions.get(id))!;
    } finally {
      await store.close();
    }
  };
  afterEach(async () => {
    await svc?.stop('SIGKILL');
    svc = undefined;
  });
  afterAll(() => data.cleanup());

  it('an idle server stops without waiting for jobs', async () => {
    svc = await start(10_000);
    await sleep(1500);
    const began = Date.now();
    const { code } = await svc.stop('SIGTERM');
    console.log(JSON.stringify({ test: 'idle shutdown', exit_ms: Date.now() - began }));
    expect(code).toBe(0);
    expect(svc.output.join('\n')).not.toContain('jobs still running at shutdown');
  }, 120_000);

  it('kills the process group of an action still running after the grace period, and records it', async () => {
    svc = await start(1500);
    const pidFile = path.join(data.dir, 'action.pid');
    const marker = path.join(data.dir, 'side-effect');
    const id = await run(`echo $$ > ${pidFile}; echo started; sleep 30; touch ${marker}`);
    await running(id);
    await waitFor(async () => existsSync(pidFile), 'the action to start');
    const pgid = Number(readFileSync(pidFile, 'utf8'));
    const { code } = await svc.stop('SIGTERM');
    expect(code).toBe(0);
    // Killed at the end of the grace period, not left to run its 30 s (reaping takes a moment).
    await waitFor(async () => !groupAlive(pgid), 'the action process group to be gone', 5000);
    const execution = await stored(id);
    expect(execution.status).toBe('abandoned');
    const result = execution.result as Json;
    expect(result.error).toContain('executions.shutdown_grace_ms = 1500 ms');
    expect(result.stdout).toContain('started');
    expect(execution.log.at(-1)).toMatchObject({
      status: 'abandoned',
      reason: expect.stringContaining('shut down'),
    });
    expect(existsSync(marker)).toBe(false);
  }, 120_000);

  it('lets an action that ends within the grace period finish', async () => {
    svc = await start(20_000);
    const id = await run('sleep 2; echo done');
    await running(id);
    const { code } = await svc.stop('SIGTERM');
    expect(code).toBe(0);
    const execution = await stored(id);
    expect(execution.status).toBe('succeeded');
    expect((execution.result as Json).stdout).toContain('done');
  }, 120_000);

  it('hands an idempotent action still running after the grace period back as a new attempt', async () => {
    svc = await start(1000);
    const log = path.join(data.dir, 'runs.log');
    const id = await run('', 'reliability.record_run_idempotent', { log, seconds: 60 });
    await running(id);
    await waitFor(async () => existsSync(log), 'the first run to start');
    const { code } = await svc.stop('SIGTERM');
    expect(code).toBe(0);
    const execution = await stored(id);
    expect(execution.status).toBe('scheduled');
    expect((execution as { attempt?: number }).attempt).toBe(1);
    expect(execution.log.at(-1)?.reason).toContain('Handed back as attempt 1');
    // Started again, Squall runs it again.
    svc = await start(1000);
    await waitFor(async () => readFileSync(log, 'utf8').trim().split('\n').length === 2, 'the second run');
  }, 120_000);
});
