/**
 * Traces (st2's st2common/services/trace.py, st2-reference.md §13.2): one record groups what one
 * event set off — trigger instances, rule enforcements, executions and their children. Triggers
 * and executions name their trace through this room; the trace views read it.
 */
export {
  resolveTrace,
  joinTrace,
  traceHolding,
  traceIdHolding,
  traceIdsHolding,
  withComponents,
  executionCause,
  instanceCause,
  type TraceContext,
  type TraceComponent,
  type TraceComponentKind,
  type TraceView,
} from './record.js';
export { traceExecution, type TracedExecution } from './execution.js';
