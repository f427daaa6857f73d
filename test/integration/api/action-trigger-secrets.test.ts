import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRecord, TriggerInstanceRecord } from '../../../src/store/index.js';
import { triggerInstanceReads } from '../../../src/triggers/index.js';
import { allSubsystems, startTestApi, type TestApi } from '../../support/api.js';
import { executionRecord } from '../../support/history.js';

/**
 * An action trigger's instance is stored without its payload and built again from its execution
 * whenever it is read. The execution's own answer masks what the action's output_schema marks
 * secret; the payload built for the trigger instances API put that output in clear before anyone
 * who may list trigger instances (an observer).
 */
describe("an action trigger's payload in the API", () => {
  let api: TestApi;
  let observer: string;
  let execution: ExecutionRecord;
  let instance: TriggerInstanceRecord;

  beforeAll(async () => {
    api = await startTestApi({ subsystems: await allSubsystems() });
    observer = await api.tokenFor('olive', ['observer']);
    const base = executionRecord({ action: 'vault.issue', status: 'succeeded', minutesAgo: 1 });
    execution = {
      ...base,
      action: { ...base.action, output_schema: { token: { type: 'string', secret: true } } },
      runner: { name: 'nodejs', runner_parameters: {} },
      result: { result: { token: 'hunter2-output', lease: 60 }, exit_code: 0 },
    } as ExecutionRecord;
    instance = {
      id: execution.id,
      trigger: 'core.st2.generic.actiontrigger',
      trigger_type: 'core.st2.generic.actiontrigger',
      occurrence_time: execution.end_timestamp,
      status: 'processed',
    } as unknown as TriggerInstanceRecord;
    await api.services.store.executions.insert(execution);
    await api.services.store.triggerInstances.insert(instance);
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('shows the secret output masked, as the execution does, in the list and by id', async () => {
    const shown = { result: { token: '********', lease: 60 }, exit_code: 0 };
    const own = await api.request('GET', `/api/v1/executions/${execution.id}/result`, { token: observer });
    expect(own.body).toEqual(shown);
    const one = await api.request('GET', `/api/v1/triggerinstances/${instance.id}`, { token: observer });
    expect(one.status).toBe(200);
    expect(one.body.payload).toMatchObject({ execution_id: execution.id, result: shown });
    const list = await api.request('GET', '/api/v1/triggerinstances?trigger=core.st2.generic.actiontrigger', {
      token: observer,
    });
    expect(list.body.map((i: { payload: unknown }) => i.payload)).toEqual([one.body.payload]);
    expect(JSON.stringify([one.body, list.body])).not.toContain('hunter2-output');
  });

  it('gives rules the output whole, as st2 does', async () => {
    const forRules = await triggerInstanceReads(api.services).get(instance.id);
    expect((forRules?.payload as { result: unknown }).result).toEqual(execution.result);
  });
});
