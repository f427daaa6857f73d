import type { Services } from '../service/index.js';
import { joinTrace, resolveTrace, traceById, traceOfExecution, type TraceContext } from './record.js';

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
 * The trace record is not rewritten: the execution's own entry says which trace holds it.
 */
export async function traceExecution(services: Services, execution: TracedExecution): Promise<void> {
  const ctx = execution.context ?? {};
  const given = (ctx.trace_context ?? {}) as Record<string, unknown>;
  // The caller's context (POST /executions takes any): only text names a trace. An object was a
  // query operator in the store's lookup (`{"$ne": null}` joined the newest trace of anyone).
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const tc: TraceContext = { trace_id: text(given.trace_id), trace_tag: text(given.trace_tag) };
  // st2's own name for it is `id_` (st2common TraceContext; `st2 run --trace-id` sends it).
  const traceId = tc.trace_id ?? text(given.id_);
  if (traceId) {
    // A trace that no longer exists (retention) is not joined: the execution gets a trace of its own.
    const named = await traceById(services, traceId);
    if (named) return joinTrace(services, named, execution.id);
  }
  if (execution.parent) {
    // The parent's entry exists only while its trace does (retention deletes both by the trace's start).
    const parentTrace = await traceOfExecution(services, execution.parent);
    if (parentTrace) return joinTrace(services, parentTrace, execution.id);
  }
  const trace = await resolveTrace(
    services,
    tc.trace_tag ? { trace_tag: tc.trace_tag } : undefined,
    `execution-${execution.id}`,
  );
  await joinTrace(services, trace, execution.id);
}
