/**
 * `npm run bench` skips a part whose script fails, printing a skip line instead of its figures:
 * the with-items bench read the workflow's stored `children`, which a workflow's record no longer
 * holds, and the figure silently became "skipped". The workflow benches are run small here, on
 * the embedded store, and must print their figures.
 */
import { execFile } from 'node:child_process';
import { expect, it } from 'vitest';
import { ROOT } from '../../support/service-process.js';

function bench(script: string, args: string[]): Promise<Array<{ name: string; value?: number }>> {
  const { SQUALL_BENCH_MONGO_URL: _mongo, ...env } = process.env;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      { cwd: ROOT, env, timeout: 90_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${script} failed: ${String(err.message)}\n${stderr}`));
        else
          resolve(
            stdout
              .split('\n')
              .filter((l) => l.startsWith('{'))
              .map((l) => JSON.parse(l) as { name: string; value?: number }),
          );
      },
    );
  });
}

it(
  'the with-items bench prints its figures (its workflow has as many children as items)',
  { timeout: 120_000 },
  async () => {
    const lines = await bench('bench/workflow-items.ts', ['6', '3']);
    expect(lines.map((l) => l.name)).toEqual([
      'workflow.with_items_noop.6x_c3.per_item.embedded',
      'workflow.with_items_noop.6x_c3.total.embedded',
    ]);
    expect(lines.every((l) => typeof l.value === 'number' && l.value > 0)).toBe(true);
  },
);

it('the sequential workflow bench prints its per-task figures', { timeout: 120_000 }, async () => {
  const lines = await bench('bench/workflow.ts', ['5']);
  const names = lines.map((l) => l.name);
  expect(names).toContain('workflow.sequential_noop.per_task.embedded');
  expect(names).toContain('workflow.sequential_noop.store_calls_per_task.embedded');
});
