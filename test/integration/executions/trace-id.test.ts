import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSubsystems, finishedExecution, startTestApi, type TestApi } from '../../support/api.js';
import { waitFor } from '../../support/wait.js';

/**
 * `st2 run --trace-tag T` sends context.trace_context {trace_tag}; `st2 run --trace-id ID` sends
 * {id_: ID}, st2's own field name: the second execution joins the first one's trace.
 */
describe('an execution requested with trace_context.id_ joins that trace', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ subsystems: await allSubsystems() });
  }, 120_000);
  afterAll(async () => api?.stop());

  const run = async (trace_context: Record<string, unknown>): Promise<string> => {
    const res = await api.request('POST', '/api/v1/executions', {
      body: { action: 'core.noop', parameters: {}, context: { trace_context } },
    });
    expect(res.status).toBe(201);
    await finishedExecution(api, res.body.id);
    return res.body.id;
  };

  it('as st2 run --trace-id does after st2 run --trace-tag', async () => {
    const first = await run({ trace_tag: 'joined-by-id' });
    const traces = await waitFor(async () => {
      const list = (await api.request('GET', '/api/v1/traces?trace_tag=joined-by-id')).body;
      return Array.isArray(list) && list.length === 1 ? list : undefined;
    }, 'the trace tagged joined-by-id');
    const second = await run({ id_: traces[0].id });
    const trace = (await api.request('GET', `/api/v1/traces/${traces[0].id}`)).body;
    expect(trace.action_executions.map((e: { object_id: string }) => e.object_id).sort()).toEqual(
      [first, second].sort(),
    );
  });

  it('a trace id or tag that is not text (a query operator) joins no trace: the execution gets its own', async () => {
    const someone = await run({ trace_tag: 'someone-elses' });
    const traceOf = (id: string) =>
      waitFor(async () => {
        const list = (await api.request('GET', `/api/v1/traces?execution=${id}`)).body;
        return Array.isArray(list) && list.length === 1
          ? (list[0] as { id: string; trace_tag: string })
          : undefined;
      }, `the trace of ${id}`);
    const theirs = await traceOf(someone);
    for (const trace_context of [
      { trace_tag: { $ne: null } },
      { trace_id: { $ne: null } },
      { id_: { $gt: '' } },
    ]) {
      const forged = await run(trace_context);
      const own = await traceOf(forged);
      expect({ trace_context, joined: own.id === theirs.id }).toEqual({ trace_context, joined: false });
      expect(own.trace_tag).toBe(`execution-${forged}`);
    }
  });
});
