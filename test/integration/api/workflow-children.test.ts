import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../../src/store/index.js';
import { allSubsystems, startTestApi, type TestApi } from '../../support/api.js';
import { executionRecord } from '../../support/history.js';

/**
 * GET /api/v1/executions/:id/children of a large workflow: st2's order (each child, oldest first,
 * followed by its own), read one level at a time and sent a page at a time. It read each child's
 * children in turn (10,001 reads for 10,000 tasks) and built the whole array at once, holding the
 * event loop for the whole of it (1.3-4.4 s at load 13 for 10,000 children of 2 KB results).
 */
describe("a workflow's children", () => {
  let api: TestApi;
  const ids: Record<string, string> = {};
  let workflow: ExecutionRecord;
  const MANY = 1000;

  const at = (n: number) => Date.now() - 60 * 60_000 + n * 1000;
  const record = (name: string, n: number, parent?: string, runner = 'noop'): ExecutionRecord => {
    const r = {
      ...executionRecord({ action: `core.${name}`, status: 'succeeded', minutesAgo: 0, parent }, at(n)),
      runner: { name: runner, runner_parameters: {} },
    } as ExecutionRecord;
    ids[name] = r.id;
    return r;
  };

  beforeAll(async () => {
    api = await startTestApi({ subsystems: await allSubsystems() });
    workflow = record('workflow', 0, undefined, 'orquesta');
    const first = record('first', 1, workflow.id);
    const sub = record('sub', 2, workflow.id, 'orquesta');
    const inner = [record('inner1', 3, sub.id), record('inner2', 5, sub.id)];
    const deepest = record('deepest', 4, inner[0]!.id);
    const last = record('last', 6, workflow.id);
    const many = Array.from({ length: MANY }, (_, i) => ({
      ...record('many', 10 + i, workflow.id),
      result: { stdout: `task ${i}`, succeeded: true },
    }));
    await api.services.store.executions.insertMany([workflow, first, sub, ...inner, deepest, last, ...many]);
  });

  afterAll(async () => {
    await api?.stop();
  });

  it("lists every descendant in st2's order, to the depth asked, with each child's record", async () => {
    const all = await api.request('GET', `/api/v1/executions/${workflow.id}/children`);
    expect(all.status).toBe(200);
    const names = (body: Array<{ action: { name: string } }>) => body.map((e) => e.action.name);
    expect(names(all.body).slice(0, 7)).toEqual([
      'first',
      'sub',
      'inner1',
      'deepest',
      'inner2',
      'last',
      'many',
    ]);
    expect(all.body).toHaveLength(6 + MANY);
    expect(all.body.at(-1)).toMatchObject({ parent: workflow.id, result: { stdout: `task ${MANY - 1}` } });
    const two = await api.request('GET', `/api/v1/executions/${workflow.id}/children?depth=2`);
    expect(names(two.body).slice(0, 6)).toEqual(['first', 'sub', 'inner1', 'inner2', 'last', 'many']);
    for (const depth of [0, 1]) {
      const one = await api.request('GET', `/api/v1/executions/${workflow.id}/children?depth=${depth}`);
      expect(names(one.body).slice(0, 4)).toEqual(['first', 'sub', 'last', 'many']);
      expect(one.body).toHaveLength(3 + MANY);
    }
    const none = await api.request('GET', `/api/v1/executions/${ids.deepest}/children`);
    expect(none).toMatchObject({ status: 200, body: [] });
  });

  it('reads the store once per level and per page, not once per child', async () => {
    const executions = api.services.store.executions;
    const find = executions.find.bind(executions);
    let reads = 0;
    executions.find = ((...args: Parameters<typeof find>) => {
      reads++;
      return find(...args);
    }) as typeof find;
    try {
      const res = await api.request('GET', `/api/v1/executions/${workflow.id}/children`);
      expect(res.body).toHaveLength(6 + MANY);
    } finally {
      executions.find = find;
    }
    // Ids by level: 1 + 2 (1,006 parents, 1,000 a read) + 1 + 1 (finds none); then six pages of
    // 200 records. Read child by child, it was one read per execution in the tree: 1,007.
    expect(reads).toBe(11);
  });
});
