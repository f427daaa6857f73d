import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../../src/store/index.js';
import { allSubsystems, startTestApi, type TestApi } from '../../support/api.js';
import { executionRecord } from '../../support/history.js';
import { waitFor } from '../../support/wait.js';

/**
 * `rbac.permission_isolation: true`: a user who is not an admin sees and touches only the executions
 * they run. The list was filtered; the routes of one execution (its record, children, result,
 * output, attributes, cancel, re-run, pause, graph) named it by its action alone, so the policy's
 * owner check never ran and an operator could read another user's workflow and its children, or
 * cancel it.
 */
describe('permission isolation on the routes of one execution', () => {
  let api: TestApi;
  let alice: string;
  let bob: string;
  let workflow: ExecutionRecord;
  let child: ExecutionRecord;

  beforeAll(async () => {
    api = await startTestApi({
      subsystems: await allSubsystems(),
      overrides: { 'rbac.permission_isolation': true },
    });
    alice = await api.tokenFor('alice', ['operator']);
    bob = await api.tokenFor('bob', ['operator']);
    workflow = {
      ...executionRecord({
        action: 'examples.orquesta-sequential',
        status: 'running',
        minutesAgo: 2,
        user: 'alice',
      }),
      runner: { name: 'orquesta', runner_parameters: {} },
    } as ExecutionRecord;
    child = {
      ...executionRecord({
        action: 'core.local',
        status: 'succeeded',
        minutesAgo: 1,
        user: 'alice',
        parent: workflow.id,
      }),
      result: { stdout: 'alice-only', succeeded: true },
    } as ExecutionRecord;
    await api.services.store.executions.insertMany([workflow, child]);
  });

  afterAll(async () => {
    await api?.stop();
  });

  const routes = () => [
    { method: 'GET', path: `/api/v1/executions/${workflow.id}`, permission: 'execution_view' },
    { method: 'GET', path: `/api/v1/executions/${workflow.id}/children`, permission: 'execution_view' },
    { method: 'GET', path: `/api/v1/executions/${child.id}/result`, permission: 'execution_view' },
    { method: 'GET', path: `/api/v1/executions/${child.id}/output`, permission: 'execution_view' },
    {
      method: 'GET',
      path: `/api/v1/executions/${workflow.id}/attribute/children`,
      permission: 'execution_view',
    },
    { method: 'GET', path: `/api/v1/workflows/graph?execution=${workflow.id}`, permission: 'execution_view' },
    {
      method: 'POST',
      path: `/api/v1/executions/${child.id}/re_run`,
      body: {},
      permission: 'execution_rerun',
    },
    {
      method: 'PUT',
      path: `/api/v1/executions/${workflow.id}`,
      body: { status: 'pausing' },
      permission: 'execution_stop',
    },
    { method: 'DELETE', path: `/api/v1/executions/${workflow.id}`, permission: 'execution_stop' },
  ];

  it("another operator is refused every route of a user's workflow and its children, naming the execution", async () => {
    for (const r of routes()) {
      const res = await api.request(r.method, r.path, { token: bob, body: r.body });
      expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({
        route: `${r.method} ${r.path}`,
        status: 403,
      });
      expect(String(res.body.faultstring)).toContain(`"${r.permission}"`);
      expect(String(res.body.faultstring)).toContain('execution:');
    }
    // Nothing was changed by the refused requests.
    expect((await api.services.store.executions.get(workflow.id))?.status).toBe('running');
    expect((await api.request('GET', '/api/v1/executions', { token: bob })).body).toEqual([]);
  });

  it('the user who runs it, and an admin, read it and its children', async () => {
    for (const token of [alice, api.adminToken]) {
      const kids = await api.request('GET', `/api/v1/executions/${workflow.id}/children`, { token });
      expect(kids.status).toBe(200);
      expect(kids.body.map((k: { id: string }) => k.id)).toEqual([child.id]);
      const one = await api.request('GET', `/api/v1/executions/${workflow.id}`, { token });
      expect(one.body.children).toEqual([child.id]);
      const result = await api.request('GET', `/api/v1/executions/${child.id}/result`, { token });
      expect(result.body).toEqual({ stdout: 'alice-only', succeeded: true });
    }
  });
  it("another operator cannot run a user's workflow again from its state by naming it in a new execution's context.re_run", async () => {
    const started = await api.request('POST', '/api/v1/executions', {
      token: alice,
      body: { action: 'examples.orquesta-sequential', parameters: { name: 'alice-private-name' } },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const done = await waitFor(async () => {
      const e = await api.services.store.executions.get(started.body.id);
      return e && ['succeeded', 'failed'].includes(e.status) ? e : null;
    }, "alice's workflow to finish");
    expect(done.status).toBe('succeeded');
    const forged = await api.request('POST', '/api/v1/executions', {
      token: bob,
      body: {
        action: 'examples.orquesta-sequential',
        parameters: { name: 'bob' },
        context: { re_run: { ref: done.id, tasks: ['task3'] } },
      },
    });
    expect(forged.status, JSON.stringify(forged.body)).toBe(400);
    expect(forged.body.faultstring).toContain('context.re_run');
    expect(JSON.stringify(await api.services.store.executions.find({ 'context.user': 'bob' }))).not.toContain(
      'alice-private-name',
    );
  });
});
