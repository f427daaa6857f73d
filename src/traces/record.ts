/**
 * Traces (st2-reference.md §13.2): everything that originates from one event — trigger
 * instances, rule enforcements, executions and their children — grouped under one record.
 * `trace_tag` is user-chosen and not unique (the newest trace with the tag is reused);
 * `trace_id` must name an existing trace.
 */
import { ConflictError, SquallError } from '../errors.js';
import { newId } from '../ids.js';
import { SerialPerKey } from '../serial.js';
import type { Services } from '../service/index.js';
import type { TraceRecord } from '../store/index.js';

export interface TraceContext {
  trace_id?: string;
  trace_tag?: string;
}

export type TraceComponentKind = 'trigger_instances' | 'rules' | 'action_executions';

export interface TraceComponent {
  object_id: string;
  ref?: string;
  caused_by?: { type: string; id: string };
  [extra: string]: unknown;
}

const nowIso = () => new Date().toISOString();

/** The trace a context names, creating one tagged `defaultTag` (or the context's tag) when none exists. */
export async function resolveTrace(
  services: Services,
  context: TraceContext | undefined,
  defaultTag: string,
): Promise<TraceRecord> {
  return (await resolveTraceWith(services, context, defaultTag)).trace;
}

/**
 * resolveTrace, and a trace it creates holds `first` from the start (`added`): the component's
 * push was a round trip of its own, and its event one more. The caller indexes it once its object
 * is stored (indexAdded); a trace that existed gets nothing (the caller adds to it).
 */
export async function resolveTraceWith(
  services: Services,
  context: TraceContext | undefined,
  defaultTag: string,
  first?: { kind: TraceComponentKind; component: TraceComponent },
): Promise<{ trace: TraceRecord; added: boolean }> {
  const { store } = services;
  if (context?.trace_id) {
    const found = await store.traces.get(context.trace_id);
    if (!found) {
      throw new SquallError(
        'TRACE_NOT_FOUND',
        `trace_context.trace_id "${context.trace_id}" does not name an existing trace (use trace_tag to start a new one)`,
        { trace_id: context.trace_id },
        400,
      );
    }
    return { trace: found, added: false };
  }
  const tag = context?.trace_tag || defaultTag;
  if (context?.trace_tag) {
    const existing = await store.traces.findOne({ trace_tag: tag }, { sort: { start_timestamp: -1 } });
    if (existing) return { trace: existing, added: false };
  }
  const trace: TraceRecord = {
    id: newId(),
    trace_tag: tag,
    start_timestamp: nowIso(),
    trigger_instances: [],
    rules: [],
    action_executions: [],
  };
  if (first) trace[first.kind] = [{ ...first.component, updated_at: trace.start_timestamp }];
  await store.traces.insert(trace);
  services.bus.publish('st2.trace__create', trace);
  return { trace, added: Boolean(first) };
}

/** Indexes the component a trace was created with (resolveTraceWith's `added`), as addToTrace would. */
export async function indexAdded(
  services: Services,
  trace: TraceRecord,
  kind: TraceComponentKind,
  objectId: string,
): Promise<void> {
  if (INDEXED_KINDS.has(kind)) await indexComponent(services, trace, kind, objectId);
}

/**
 * Adds of one trace run one after another in this process: each reads the trace to add a component
 * only once, so two concurrent adds of the same component would both push it.
 */
const traceQueues = new SerialPerKey();

export interface AddToTraceOptions {
  /**
   * The component's object was stored just now, by this call's caller (a trigger instance
   * inserted, an execution announced by its create event): no trace can hold it yet, so it is
   * pushed without reading the trace to see whether it is listed.
   */
  fresh?: boolean;
}

/** Adds one component to a trace (once: the same object with the same cause is not added again). */
export function addToTrace(
  services: Services,
  traceId: string,
  kind: TraceComponentKind,
  component: TraceComponent,
  options: AddToTraceOptions = {},
): Promise<TraceRecord | null> {
  return traceQueues.run(traceId, () => pushComponent(services, traceId, kind, component, options));
}

async function pushComponent(
  services: Services,
  traceId: string,
  kind: TraceComponentKind,
  component: TraceComponent,
  options: AddToTraceOptions,
): Promise<TraceRecord | null> {
  const { store } = services;
  // A fresh component is in no trace yet: the push alone tells whether the trace exists.
  if (!options.fresh) {
    const current = await store.traces.get(traceId);
    if (!current) return null;
    const causeOf = (c: { caused_by?: unknown }) => (c.caused_by as { id?: string } | undefined)?.id;
    const listed = (current[kind] ?? []).some(
      (c) => c.object_id === component.object_id && causeOf(c) === causeOf(component),
    );
    if (listed) {
      if (INDEXED_KINDS.has(kind)) await indexComponent(services, current, kind, component.object_id);
      return current;
    }
  }
  const entry = { ...component, updated_at: nowIso() };
  const updated = await store.traces.updateOne({ id: traceId }, { $push: { [kind]: entry } });
  if (updated) {
    if (INDEXED_KINDS.has(kind)) await indexComponent(services, updated, kind, component.object_id);
    services.bus.publish('st2.trace__update', updated);
  }
  return updated;
}

/**
 * Executions and trigger instances are looked up by component (traceHolding: an execution's
 * trace for its children and its action trigger, the trace tree of an execution, instance or
 * enforcement); rules never are, and an entry per rule was a write and ~100 bytes per event.
 */
const INDEXED_KINDS: ReadonlySet<TraceComponentKind> = new Set(['action_executions', 'trigger_instances']);

const componentKey = (kind: TraceComponentKind, objectId: string) => `${kind}:${objectId}`;

/** Points `<kind>:<object id>` at this trace, unless a newer trace already holds the component. */
async function indexComponent(
  services: Services,
  trace: TraceRecord,
  kind: TraceComponentKind,
  objectId: string,
): Promise<void> {
  const { traceComponents } = services.store;
  const id = componentKey(kind, objectId);
  const entry = { id, trace_id: trace.id, start_timestamp: trace.start_timestamp };
  // Nearly every component is new to every trace: one insert (a unique key), where reading first
  // cost a round trip per component (~5 per webhook). Only one already held is read and compared.
  try {
    await traceComponents.insert(entry);
    return;
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
  }
  const known = await traceComponents.get(id);
  if (known && (known.trace_id === trace.id || known.start_timestamp > trace.start_timestamp)) return;
  await traceComponents.replace(entry);
}

/** The id of the newest trace holding this execution or trigger instance, if any (it may be gone). */
export async function traceIdHolding(
  services: Services,
  kind: Exclude<TraceComponentKind, 'rules'>,
  objectId: string,
): Promise<string | undefined> {
  return (await services.store.traceComponents.get(componentKey(kind, objectId)))?.trace_id;
}

/** The newest trace holding this execution or trigger instance, if any. */
export async function traceHolding(
  services: Services,
  kind: Exclude<TraceComponentKind, 'rules'>,
  objectId: string,
): Promise<TraceRecord | null> {
  // One read by id: a query into the traces' component arrays reads every trace on FerretDB, and
  // each completed execution asks this once.
  const known = await services.store.traceComponents.get(componentKey(kind, objectId));
  return known ? services.store.traces.get(known.trace_id) : null;
}
