import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/errors.js';
import type { Services } from '../../../src/service/index.js';
import { joinTrace, traceHolding } from '../../../src/traces/index.js';

type Entry = { id: string; trace_id: string; start_timestamp: string };

/** A store whose trace entry inserts resolve only when `commit()` is called (the embedded store's group commit). */
function services(held?: Entry) {
  const reads: string[] = [];
  let commit: () => void = () => undefined;
  const committed = new Promise<void>((resolve) => (commit = resolve));
  const traces = new Map([
    ['t-new', { id: 't-new', trace_tag: 'new', start_timestamp: new Date().toISOString() }],
    [
      't-held',
      { id: 't-held', trace_tag: 'held', start_timestamp: new Date(Date.now() + 1000).toISOString() },
    ],
  ]);
  const store = {
    traceComponents: {
      insert: async () => {
        await committed;
        if (held) throw new ConflictError('duplicate key');
      },
      get: async (id: string) => {
        reads.push(id);
        return held ?? null;
      },
      replace: async () => undefined,
    },
    traces: { get: async (id: string) => traces.get(id) ?? null },
  };
  return { services: { store } as unknown as Services, reads, commit, traces };
}

describe("an execution's trace asked for while it is joining it", () => {
  it('is the trace being joined, before the entry is committed, with no read', async () => {
    const s = services();
    const trace = s.traces.get('t-new')!;
    const join = joinTrace(s.services, trace, 'e1');
    expect((await traceHolding(s.services, 'action_executions', 'e1'))?.id).toBe('t-new');
    expect(s.reads).toEqual([]);
    s.commit();
    await join;
  });

  it('is the trace already holding it when the same execution joins again (its entry decides)', async () => {
    const s = services({
      id: 'action_executions:e2',
      trace_id: 't-held',
      start_timestamp: new Date(Date.now() + 1000).toISOString(),
    });
    const join = joinTrace(s.services, s.traces.get('t-new')!, 'e2');
    s.commit();
    await join;
    expect((await traceHolding(s.services, 'action_executions', 'e2'))?.id).toBe('t-held');
  });
});
