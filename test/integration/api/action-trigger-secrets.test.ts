import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ExecutionRecord, TraceRecord, TriggerInstanceRecord } from '../../../src/store/index.js';
import { emitActionTrigger } from '../../../src/notifier/actiontrigger.js';
import { triggerInstanceReads } from '../../../src/triggers/index.js';
import { allSubsystems, startTestApi, type TestApi } from '../../support/api.js';
import { executionRecord } from '../../support/history.js';
import { describeOnEachStore, freshMongoUrl } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';

/**
 * An action trigger's instance is stored without its payload and built again from its execution
 * whenever it is read. The execution's own answer masks what the action's output_schema marks
 * secret; the payload built for the trigger instances API put that output in clear before anyone
 * who may list trigger instances (an observer).
 */
describeOnEachStore("an action trigger's payload in the API", (target) => {
  let api: TestApi;
  let observer: string;
  let execution: ExecutionRecord;
  let instance: TriggerInstanceRecord;

  beforeAll(async () => {
    api = await startTestApi({
      subsystems: await allSubsystems(),
      ...(target.kind === 'mongo' ? { mongoUrl: freshMongoUrl() } : {}),
    });
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

  /** The observer's stream of trigger instance events, read as it comes. */
  const openStream = async () => {
    const res = await fetch(`${api.url}/stream/v1/stream?events=st2.trigger_instance__*`, {
      headers: { 'X-Auth-Token': observer },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    const reading = (async () => {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) return;
        text += new TextDecoder().decode(chunk.value);
      }
    })();
    return {
      text: () => text,
      close: async () => {
        await reader.cancel();
        await reading.catch(() => undefined);
      },
    };
  };

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

  it("quotes the masked output where a trace's tree says why a rule did not match it", async () => {
    const admin = await api.tokenFor('ada', ['admin']);
    const rule = await api.request('POST', '/api/v1/rules', {
      token: admin,
      body: {
        name: 'watch_tokens',
        pack: 'core',
        enabled: true,
        trigger: { type: 'core.st2.generic.actiontrigger' },
        criteria: { 'trigger.result.result.token': { type: 'equals', pattern: 'another-token' } },
        action: { ref: 'core.noop' },
      },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const trace = { id: 'aaaaaaaaaaaaaaaaaaaaaaaa' };
    await api.services.store.traces.insert({
      id: trace.id,
      trace_tag: 'vault-issue',
      start_timestamp: execution.end_timestamp!,
      trigger_instances: [{ object_id: instance.id, updated_at: execution.end_timestamp! }],
    } as unknown as TraceRecord);
    // One read of the instances and one of their executions give the payload to match and to quote.
    const { store } = api.services;
    const reads: string[] = [];
    const findInstances = store.triggerInstances.find.bind(store.triggerInstances);
    const findExecutions = store.executions.find.bind(store.executions);
    // (Reads of other instances, a sweep's, are not the tree's.)
    const names = (filter: unknown) => JSON.stringify(filter ?? {}).includes(instance.id);
    store.triggerInstances.find = (filter, options) => {
      if (names(filter)) reads.push('instances');
      return findInstances(filter, options);
    };
    store.executions.find = (filter, options) => {
      // The trace's own executions are read apart, without their results.
      if (names(filter) && !options?.projection) reads.push('executions of the instances');
      return findExecutions(filter, options);
    };
    let tree: Awaited<ReturnType<typeof api.request>>;
    try {
      tree = await api.request('GET', `/api/v1/traces/views/tree?trace=${trace.id}`, { token: observer });
    } finally {
      store.triggerInstances.find = findInstances;
      store.executions.find = findExecutions;
    }
    expect(tree.status, JSON.stringify(tree.body)).toBe(200);
    expect(reads.sort()).toEqual(['executions of the instances', 'instances']);
    const text = JSON.stringify(tree.body);
    expect(text, text).toContain(
      "did not match: trigger.result.result.token equals 'another-token'; the payload has '********'",
    );
    expect(text).not.toContain('hunter2-output');
  });

  it('masks the secret output in the trigger instance events of the stream (create and update)', async () => {
    // A rule listens (the second test made one), so the instance is stored and processed.
    const second = { ...execution, id: 'bbbbbbbbbbbbbbbbbbbbbbbb' } as ExecutionRecord;
    await api.services.store.executions.insert(second);
    const stream = await openStream();
    // The stream subscribes once its answer is sent; the action trigger comes after.
    await emitActionTrigger(api.services, second);
    await waitFor(
      () =>
        stream.text().includes('st2.trigger_instance__create') && /"status":"processed"/.test(stream.text()),
      'the instance created and processed on the stream',
    );
    await stream.close();
    expect(stream.text()).toContain('"token":"********"');
    expect(stream.text()).not.toContain('hunter2-output');
  });

  it('masks it in a re-emitted instance (the answer, and the new instance as read) and in one stored whole by an earlier version', async () => {
    const admin = await api.tokenFor('ada', ['admin']);
    const shown = { result: { token: '********', lease: 60 }, exit_code: 0 };
    const reemit = await api.request('POST', `/api/v1/triggerinstances/${instance.id}/re_emit`, {
      token: admin,
    });
    expect(reemit.status, JSON.stringify(reemit.body)).toBe(200);
    expect(reemit.body.payload).toMatchObject({ execution_id: execution.id, result: shown });
    const copy = await api.request('GET', `/api/v1/triggerinstances/${reemit.body.trigger_instance.id}`, {
      token: observer,
    });
    expect(copy.body).toMatchObject({ source: 're_emit', payload: { result: shown } });
    const stored = { execution_id: execution.id, status: 'succeeded', result: execution.result };
    const old = {
      id: 'cccccccccccccccccccccccc',
      trigger: 'core.st2.generic.actiontrigger',
      trigger_type: 'core.st2.generic.actiontrigger',
      payload: stored,
      occurrence_time: execution.end_timestamp,
      status: 'processed',
      source: 'actiontrigger',
    } as unknown as TriggerInstanceRecord;
    const gone = {
      ...old,
      id: 'dddddddddddddddddddddddd',
      payload: { ...stored, execution_id: 'eeeeeeeeeeeeeeeeeeeeeeee' },
    };
    await api.services.store.triggerInstances.insertMany([old, gone] as TriggerInstanceRecord[]);
    const oldShown = await api.request('GET', `/api/v1/triggerinstances/${old.id}`, { token: observer });
    expect(oldShown.body.payload).toEqual({ ...stored, result: shown });
    // Its execution deleted, what it marked secret is unknown: the result is not shown.
    const goneShown = await api.request('GET', `/api/v1/triggerinstances/${gone.id}`, { token: observer });
    expect(goneShown.body.payload.result).toBe('********');
    const list = await api.request('GET', '/api/v1/triggerinstances?limit=100', { token: observer });
    expect(JSON.stringify([reemit.body, copy.body, list.body])).not.toContain('hunter2-output');
  });

  it("shows a re-emitted instance's events on the stream masked by output_schema, not masked whole", async () => {
    const admin = await api.tokenFor('ada', ['admin']);
    const stream = await openStream();
    const events = (id: string) =>
      stream
        .text()
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)) as { id: string; status: string; payload: { result: unknown } })
        .filter((e) => e.id === id);
    // The first re-emits the derived instance; the second re-emits that re-emitted one (stored whole).
    let from = instance.id;
    try {
      for (const round of [1, 2]) {
        const reemit = await api.request('POST', `/api/v1/triggerinstances/${from}/re_emit`, {
          token: admin,
        });
        const id = reemit.body.trigger_instance.id as string;
        await waitFor(() => events(id).some((e) => e.status === 'processed'), `re-emit ${round} processed`);
        expect(events(id).map((e) => e.status)).toEqual(['pending', 'processing', 'processed']);
        for (const e of events(id))
          expect(e.payload.result, `re-emit ${round}`).toEqual({
            result: { token: '********', lease: 60 },
            exit_code: 0,
          });
        from = id;
      }
    } finally {
      await stream.close();
    }
  });

  it('gives rules the output whole, as st2 does', async () => {
    const forRules = await triggerInstanceReads(api.services).get(instance.id);
    expect((forRules?.payload as { result: unknown }).result).toEqual(execution.result);
  });
});
