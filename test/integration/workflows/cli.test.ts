import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { ROOT } from '../../support/service-process.js';
import { tempDir } from '../../support/servers.js';

/**
 * Awaited: five CLI runs in a row under spawnSync held the vitest fork for 7.6 s (load 2.5), and a
 * fork blocked for 60 s fails the run ("Timeout calling onTaskUpdate"). Offline commands.
 */
const squall = async (...args: string[]) => {
  const r = await runCli(args, 'http://127.0.0.1:9');
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
};

const WF = path.join(import.meta.dirname, 'fixtures', 'packs', 'wftest', 'actions', 'workflows');
const REHEARSALS = path.join(ROOT, 'test', 'fixtures', 'rehearsals');

describe('squall workflow inspect / rehearse', async () => {
  const tmp = tempDir('squall-wf-cli-');
  afterAll(() => tmp.cleanup());

  it('inspect: a valid workflow has no errors (exit 0); a broken one lists them by kind (exit 1)', async () => {
    const ok = await squall('workflow', 'inspect', path.join(WF, 'parallel-join.yaml'));
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('no errors');
    const bad = await squall('workflow', 'inspect', '--json', path.join(WF, 'bad.yaml'));
    expect(bad.status).toBe(1);
    const grouped = JSON.parse(bad.stdout) as Record<string, Array<{ message: string }>>;
    expect(Object.keys(grouped)).toEqual(['semantics']);
    expect(grouped.semantics[0].message).toContain('t9');
  });

  it('rehearse: exit 0 when every expectation holds, exit 1 with the mismatch otherwise', async () => {
    const pass = await squall('workflow', 'rehearse', path.join(REHEARSALS, 'parallel-basic.yaml'));
    expect(pass.status, pass.stdout + pass.stderr).toBe(0);
    expect(pass.stdout).toContain('PASS');
    const wrong = path.join(tmp.dir, 'wrong.yaml');
    writeFileSync(
      wrong,
      [
        `workflow: ${path.join(ROOT, 'packs/examples/actions/workflows/orquesta-sequential.yaml')}`,
        'inputs: {name: Ineat}',
        'mock_action_executions:',
        '  - {task_id: task1, result: {stdout: Ineat}}',
        '  - {task_id: task2, result: {stdout: "All your base are belong to us!"}}',
        '  - {task_id: task3, result: {stdout: "Ineat, All your base are belong to us!"}}',
        'expected_task_sequence: [task1, task2, task3]',
        'expected_output: {greeting: "something else"}',
        '',
      ].join('\n'),
    );
    const fail = await squall('workflow', 'rehearse', wrong);
    expect(fail.status).toBe(1);
    expect(fail.stdout).toContain('FAIL');
    expect(fail.stdout).toContain('something else');
    expect(fail.stdout).toContain('Ineat, All your base are belong to us!');
  });

  it('rehearse: a task two branches reach is named by its route (task4__r1, task4__r2), as orquesta names it', async () => {
    const split = path.join(tmp.dir, 'split.yaml');
    writeFileSync(
      split,
      [
        `workflow: ${path.join(REHEARSALS, '../workflows/split.yaml')}`,
        'expected_task_sequence: [task1, task2, task3, task4, task4, task5, task5]',
        '',
      ].join('\n'),
    );
    const routes = await squall('workflow', 'rehearse', split);
    expect(routes.status).toBe(1);
    expect(routes.stdout).toContain('"task4__r1","task4__r2","task5__r1","task5__r2"');
  });
});
