import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { newId } from '../../../src/ids.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { FAST_RECOVERY, startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';

type Json = Record<string, any>;

const RELIABILITY_PACKS = path.join(import.meta.dirname, '../../reliability/fixtures');

async function api(svc: ServiceProcess, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as Json;
}

for (const target of STORE_TARGETS) {
  describeWithServer(
    `an execution survives its process being killed (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      it('after SIGKILL and a restart, the in-flight execution ends abandoned with a reason, and the queued one runs', async () => {
        const data = tempDir();
        const env = {
          ...FAST_RECOVERY,
          ...(target.kind === 'mongo' ? { SQUALL_MONGO_URL: freshMongoUrl() } : {}),
        };
        const marker = `crash-marker-${newId()}`;
        const first = await startServiceProcess(['--data-dir', data.dir], env);
        let second: ServiceProcess | undefined;
        try {
          const inflight = await api(first, 'POST', '/api/v1/executions', {
            action: 'core.local',
            parameters: { cmd: `sleep 30; echo ${marker}`, timeout: 120 },
          });
          await waitFor(
            async () => (await api(first, 'GET', `/api/v1/executions/${inflight.id}`)).status === 'running',
            'the run to start',
          );
          const queued = await api(first, 'POST', '/api/v1/executions', {
            action: 'core.local',
            parameters: { cmd: 'echo queued-ran' },
            delay: 3000,
          });
          expect(queued.status).toBe('delayed');

          await first.stop('SIGKILL');
          // The killed service's child keeps sleeping as an orphan; it is not the service's anymore.
          try {
            execFileSync('pkill', ['-f', marker]);
          } catch {
            // already gone
          }

          second = await startServiceProcess(['--data-dir', data.dir], env);
          const abandoned = await waitFor(
            async () => {
              const e = await api(second!, 'GET', `/api/v1/executions/${inflight.id}`);
              return e.status === 'abandoned' ? e : null;
            },
            'the in-flight execution to be abandoned',
            20_000,
          );
          expect(abandoned.result.error).toMatch(/died/);
          expect(abandoned.log.at(-1).reason).toMatch(/stopped sending heartbeats/);

          const ran = await waitFor(
            async () => {
              const e = await api(second!, 'GET', `/api/v1/executions/${queued.id}`);
              return ['succeeded', 'failed'].includes(e.status) ? e : null;
            },
            'the queued execution to run after the restart',
            20_000,
          );
          expect(ran.status).toBe('succeeded');
          expect(ran.result.stdout).toBe('queued-ran');
          // It ran once: one running transition.
          expect(ran.log.filter((l: Json) => l.status === 'running')).toHaveLength(1);
        } finally {
          await first.stop('SIGKILL');
          await second?.stop();
          data.cleanup();
        }
      }, 90_000);

      // The process that requested it runs it (no run job, its runner role): killed mid-run, it
      // ends as a run picked up from the queue ends, here re-run because the action is idempotent.
      it('after SIGKILL and a restart, an idempotent action cut short runs again and succeeds', async () => {
        const data = tempDir();
        const env = {
          ...FAST_RECOVERY,
          SQUALL_PACKS_PATHS: RELIABILITY_PACKS,
          ...(target.kind === 'mongo' ? { SQUALL_MONGO_URL: freshMongoUrl() } : {}),
        };
        const runs = path.join(data.dir, 'runs.log');
        const first = await startServiceProcess(['--data-dir', data.dir], env);
        let second: ServiceProcess | undefined;
        try {
          // Each run appends a line, then works for 5 s (the killed one's orphan only sleeps on).
          const cut = await api(first, 'POST', '/api/v1/executions', {
            action: 'reliability.record_run_idempotent',
            parameters: { log: runs, seconds: 5 },
          });
          await waitFor(
            () => (existsSync(runs) && readFileSync(runs, 'utf8').includes(cut.id) ? true : null),
            'the run to start its work',
          );
          await first.stop('SIGKILL');

          second = await startServiceProcess(['--data-dir', data.dir], env);
          const done = await waitFor(
            async () => {
              const e = await api(second!, 'GET', `/api/v1/executions/${cut.id}`);
              return ['succeeded', 'failed', 'abandoned'].includes(e.status) ? e : null;
            },
            'the cut-short execution to run again',
            60_000,
          );
          expect(done.status).toBe('succeeded');
          expect(
            done.log.some((l: Json) =>
              /sent no heartbeat for \d+ ms; re-running idempotent action/.test(l.reason ?? ''),
            ),
          ).toBe(true);
          expect(done.log.filter((l: Json) => l.status === 'running')).toHaveLength(2);
          expect(
            readFileSync(runs, 'utf8')
              .split('\n')
              .filter((l) => l === cut.id),
          ).toHaveLength(2);
        } finally {
          await first.stop('SIGKILL');
          await second?.stop();
          data.cleanup();
        }
      }, 120_000);
    },
  );
}
