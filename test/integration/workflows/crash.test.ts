import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import { ROOT } from '../../support/service-process.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { isCompleted } from '../../../src/executions/index.js';

type Json = Record<string, any>;

const PACKS = path.join(import.meta.dirname, 'fixtures', 'packs');

interface Worker {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
  output: string[];
}

async function startWorker(dataDir: string, mongoUrl: string): Promise<Worker> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/workflow-worker.ts', dataDir, mongoUrl, PACKS],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output.join('\n')}`)), 30_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        const m = /^READY (\S+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    }
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker exited before it was ready:\n${output.join('\n')}`));
    });
  });
  return { child, url, exited, output };
}

const workers: Worker[] = [];
async function killWorkers(): Promise<void> {
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null && w.child.signalCode === null) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
  }
}
afterEach(killWorkers);

for (const target of STORE_TARGETS) {
  describeWithServer(
    `a workflow survives its process being killed (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      it('resumes where it was: finished tasks are not run again, the killed task runs again by its retry', async () => {
        const data = tempDir('squall-wf-crash-');
        const mongoUrl = target.kind === 'mongo' ? freshMongoUrl() : '';
        try {
          const call = async (w: Worker, method: string, p: string, body?: unknown) => {
            const res = await fetch(`${w.url}${p}`, {
              method,
              headers: body ? { 'content-type': 'application/json' } : {},
              body: body ? JSON.stringify(body) : undefined,
            });
            return (await res.json()) as any;
          };
          const children = async (w: Worker, id: string) =>
            (await call(w, 'GET', `/api/v1/executions?parent=${id}&limit=100`)) as Json[];
          const finished = async (w: Worker, id: string) => {
            try {
              return await waitFor(
                async () => {
                  const e = await call(w, 'GET', `/api/v1/executions/${id}`);
                  return isCompleted(e.status) ? e : null;
                },
                `workflow ${id} to finish`,
                60_000,
                100,
              );
            } catch (err) {
              // Say where it stopped: the workflow, each child, and what the worker logged.
              const e = await call(w, 'GET', `/api/v1/executions/${id}`);
              const kids = await call(w, 'GET', `/api/v1/executions/${id}/children`);
              const state = (kids as unknown as Json[]).map(
                (c) => `${c.context?.orquesta?.task_id}:${c.status}`,
              );
              throw new Error(
                `${(err as Error).message}; workflow ${e.status}; children ${state.join(', ')}\n${w.output.slice(-30).join('\n')}`,
              );
            }
          };
          const taskKey = (c: Json) => `${c.context.orquesta.task_id}:${c.context.orquesta.task_route}`;

          const first = await startWorker(data.dir, mongoUrl);
          workers.push(first);
          const started = await call(first, 'POST', '/api/v1/executions', {
            action: 'wftest.crash',
            parameters: { nap: 0.4 },
          });
          const id = started.id as string;
          // Kill it once some tasks are done and another is in flight.
          const before = await waitFor(
            async () => {
              const kids = await children(first, id);
              const done = kids.filter((c) => c.status === 'succeeded');
              return done.length >= 3 && kids.some((c) => c.status === 'running') ? kids : null;
            },
            'three tasks done and one running',
            30_000,
            20,
          );
          first.child.kill('SIGKILL');
          await first.exited;
          const doneBefore = new Set(before.filter((c) => c.status === 'succeeded').map(taskKey));

          const second = await startWorker(data.dir, mongoUrl);
          workers.push(second);
          const e = await finished(second, id);
          expect(e.status, JSON.stringify(e.result)).toBe('succeeded');
          expect(e.result).toEqual({ output: { final: 'a3-a2-a1|b2-b1' } });

          const kids = await children(second, id);
          const byTask = new Map<string, Json[]>();
          for (const c of kids) byTask.set(taskKey(c), [...(byTask.get(taskKey(c)) ?? []), c]);
          expect([...byTask.keys()].sort()).toEqual(
            ['a1:0', 'a2:0', 'a3:0', 'b1:0', 'b2:0', 'done:0', 'start:0'].sort(),
          );
          for (const [task, runs] of byTask) {
            // Every task succeeded exactly once.
            expect(
              runs.filter((c) => c.status === 'succeeded'),
              task,
            ).toHaveLength(1);
            // A task finished before the kill never ran again.
            if (doneBefore.has(task)) expect(runs, task).toHaveLength(1);
            // Anything else is a run the kill interrupted: abandoned, then retried once.
            for (const other of runs.filter((c) => c.status !== 'succeeded')) {
              expect(other.status, task).toBe('abandoned');
            }
            expect(runs.length, task).toBeLessThanOrEqual(2);
          }
          expect(kids.some((c) => c.status === 'abandoned')).toBe(true);

          // The same workflow without a crash gives the same output.
          const again = await call(second, 'POST', '/api/v1/executions', {
            action: 'wftest.crash',
            parameters: { nap: 0.4 },
          });
          const clean = await finished(second, again.id);
          expect(clean.result).toEqual(e.result);
          expect(await children(second, again.id)).toHaveLength(7);
        } finally {
          // The data dir goes only once no worker writes to it any more.
          await killWorkers();
          data.cleanup();
        }
      }, 120_000);
    },
  );
}
