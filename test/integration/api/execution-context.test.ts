import { afterAll, beforeAll, expect, it } from 'vitest';
import { allSubsystems, finishedExecution, startTestApi, type TestApi } from '../../support/api.js';
import { describeOnEachStore, freshMongoUrl } from '../../support/servers.js';

/**
 * POST /api/v1/executions takes a `context` (st2client sends `trace_context` for --trace-tag and
 * --trace-id). The keys Squall writes itself say where a run came from, and were believed: a
 * caller's `chat.user` was the requester an approval's different_from_requester compared in
 * chat, `parent` + `orquesta` put a task on another user's chat card, `trigger_instance` joined
 * a webhook's wait. They are refused, naming the key; what st2client sends still runs.
 */
describeOnEachStore('reserved keys in a new execution context', (target) => {
  let api: TestApi;
  let bob: string;

  beforeAll(async () => {
    api = await startTestApi({
      subsystems: await allSubsystems(),
      ...(target.kind === 'mongo' ? { mongoUrl: freshMongoUrl() } : {}),
      overrides: { 'rbac.permission_isolation': true },
    });
    bob = await api.tokenFor('bob', ['operator']);
  }, 120_000);
  afterAll(async () => api?.stop());

  const forged: Array<[string, unknown]> = [
    ['chat', { adapter: 'slack', channel: 'C0ADMINS', user: { id: 'U0ALICE', name: 'alice' } }],
    ['api_user', 'alice'],
    ['action_alias_ref', 'inqtest.deploy'],
    ['parent', { execution_id: '000000000000000000000001' }],
    ['workflow', { execution_id: '000000000000000000000001', request_key: 'k' }],
    ['workflow_execution', '000000000000000000000001'],
    ['orquesta', { task_name: 'approve-payroll' }],
    ['chain', { name: 'approve-payroll' }],
    ['rule', { id: 'r', ref: 'ops.deploy', name: 'deploy' }],
    ['trigger_instance', { id: '000000000000000000000002', name: null }],
    ['re_run', { ref: '000000000000000000000001' }],
  ];

  it.each(forged)('context.%s is refused with a 400 naming it, and nothing runs', async (key, value) => {
    const res = await api.request('POST', '/api/v1/executions', {
      token: bob,
      body: { action: 'core.noop', parameters: {}, context: { [key]: value } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.faultstring).toContain(`context.${key}`);
    expect(await api.services.store.executions.find({ 'context.user': 'bob' })).toEqual([]);
  });

  it("what st2client sends (trace_context) and st2's source_channel still run; pack is the action's", async () => {
    const res = await api.request('POST', '/api/v1/executions', {
      token: bob,
      body: {
        action: 'core.noop',
        parameters: {},
        context: { trace_context: { trace_tag: 'bob-tag' }, source_channel: 'ops', pack: 'examples' },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const done = await finishedExecution(api, res.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.context).toMatchObject({ user: 'bob', pack: 'core', source_channel: 'ops' });
  });
});
