import type { Services } from '../service/index.js';
import { addToTrace, resolveTrace, traceIdHolding, type TraceContext } from './record.js';

/** What traceExecution reads of a newly requested execution (the `st2.execution__create` payload). */
export interface TracedExecution {
  id: string;
  action?: { ref?: string };
  parent?: string;
  context?: Record<string, unknown>;
}

/**
 * Puts a newly requested execution into its trace: the one its context names, its parent's,
 * the newest with its trace tag, or a new `execution-<id>` trace (st2 traces every execution).
 */
export async function traceExecution(services: Services, execution: TracedExecution): Promise<void> {
  const ctx = execution.context ?? {};
  const tc = (ctx.trace_context as TraceContext | undefined) ?? {};
  const rule = ctx.rule as { id?: string } | undefined;
  const ti = ctx.trigger_instance as { id?: string } | undefined;
  const causedBy =
    rule?.id && ti?.id
      ? { type: 'rule', id: `${rule.id}:${ti.id}` }
      : execution.parent
        ? { type: 'action_execution', id: execution.parent }
        : undefined;
  const component = {
    object_id: execution.id,
    ...(execution.action?.ref ? { ref: execution.action.ref } : {}),
    ...(causedBy ? { caused_by: causedBy } : {}),
  };
  // The trace the context names, else the parent's: each read once, by the add itself, which
  // answers null when that trace does not exist (any more). The execution was announced by its
  // create event, once, right after it was stored: no trace indexes it yet.
  const fresh = { fresh: true };
  if (tc.trace_id && (await addToTrace(services, tc.trace_id, 'action_executions', component, fresh))) return;
  if (execution.parent) {
    const parentTrace = await traceIdHolding(services, 'action_executions', execution.parent);
    if (parentTrace && (await addToTrace(services, parentTrace, 'action_executions', component, fresh)))
      return;
  }
  const trace = await resolveTrace(
    services,
    tc.trace_tag ? { trace_tag: tc.trace_tag } : undefined,
    `execution-${execution.id}`,
  );
  await addToTrace(services, trace.id, 'action_executions', component, fresh);
}
