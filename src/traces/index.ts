/**
 * Traces (st2's st2common/services/trace.py, st2-reference.md §13.2): one record groups what one
 * event set off — trigger instances, rule enforcements, executions and their children. Triggers,
 * rules and the notifier write into a trace through this room; the trace views read it.
 */
export {
  resolveTrace,
  resolveTraceWith,
  indexAdded,
  addToTrace,
  traceHolding,
  type TraceContext,
  type TraceComponent,
  type TraceComponentKind,
} from './record.js';
export { traceExecution, type TracedExecution } from './execution.js';
