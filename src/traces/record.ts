/**
 * Traces (st2-reference.md §13.2): everything that originates from one event — trigger
 * instances, rule enforcements, executions and their children — grouped under one record.
 * `trace_tag` is user-chosen and not unique (the newest trace with the tag is reused);
 * `trace_id` must name an existing trace.
 *
 * The trace record itself holds only its id, tag and start: it is written once and never grows.
 * Who belongs to it is read from the members' own records: a trigger instance's `trace_context`,
 * the enforcements of those instances, and a `trace_components` entry per execution (an
 * execution's record does not say which trace it joined). A record listing every member was
 * rewritten at each one (~8.8 KB per task at 100 tasks of a workflow) and stored each twice.
 * Traces stored before keep their lists; what joined them since is read the new way and added.
 */
import { ConflictError, SquallError } from '../errors.js';
import { newId } from '../ids.js';
import type { Services } from '../service/index.js';
import {
  whenDurable,
  type ExecutionRecord,
  type RuleEnforcementRecord,
  type Store,
  type TraceRecord,
  type TriggerInstanceRecord,
} from '../store/index.js';
import { LruMap } from '../lru-map.js';

export interface TraceContext {
  trace_id?: string;
  trace_tag?: string;
}

export type TraceComponentKind = 'trigger_instances' | 'rules' | 'action_executions';

export interface TraceComponent {
  object_id: string;
  ref?: string;
  caused_by?: { type: string; id: string };
  updated_at?: string;
  [extra: string]: unknown;
}

/** One member as a trace lists it. */
type Component = {
  object_id: string;
  ref?: string;
  updated_at: string;
  caused_by?: unknown;
  [extra: string]: unknown;
};

/** A trace as the API shows it: its members listed per kind. */
export type TraceView = TraceRecord & Record<TraceComponentKind, Component[]>;

const nowIso = () => new Date().toISOString();

/** The trace a context names, creating one tagged `defaultTag` (or the context's tag) when none exists. */
export async function resolveTrace(
  services: Services,
  context: TraceContext | undefined,
  defaultTag: string,
): Promise<TraceRecord> {
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
    return found;
  }
  const tag = context?.trace_tag || defaultTag;
  if (context?.trace_tag) {
    const existing = await store.traces.findOne({ trace_tag: tag }, { sort: { start_timestamp: -1 } });
    if (existing) return existing;
  }
  const trace: TraceRecord = { id: newId(), trace_tag: tag, start_timestamp: nowIso() };
  await store.traces.insert(trace);
  whenDurable(() => rememberTrace(store, trace));
  services.bus.publish('st2.trace__create', trace);
  return trace;
}

/**
 * Traces this process created lately, by store. A trace record is written once and deleted only
 * by retention, days later, so the executions requested from a trace's first trigger instance
 * (moments later, in this process) join it without reading it back: one round trip per webhook
 * on MongoDB.
 */
const recentTraces = new WeakMap<Store, LruMap<string, TraceRecord>>();

function rememberTrace(store: Store, trace: TraceRecord): void {
  let recent = recentTraces.get(store);
  if (!recent) recentTraces.set(store, (recent = new LruMap(1000)));
  recent.set(trace.id, trace);
}

/** The trace `id` names, from the ones this process created lately or else from the store. */
export async function traceById(services: Services, id: string): Promise<TraceRecord | null> {
  return recentTraces.get(services.store)?.get(id) ?? (await services.store.traces.get(id));
}

const executionKey = (executionId: string) => `action_executions:${executionId}`;

type TraceRef = Pick<TraceRecord, 'id' | 'start_timestamp'>;

/**
 * The trace each execution this process put into a trace lately joined, by store: a workflow's
 * tasks join their parent's trace without reading its entry back (one read per task). An entry is
 * deleted only by retention, whole days after its trace started (`traces_days` is at least 1), so
 * one remembered from a trace that started close to a day ago is read again instead.
 */
const recentMembers = new WeakMap<Store, LruMap<string, TraceRef>>();
const MEMBER_TRUSTED_MS = 23 * 3_600_000;

function rememberMember(store: Store, executionId: string, trace: TraceRef): void {
  let recent = recentMembers.get(store);
  if (!recent) recentMembers.set(store, (recent = new LruMap(1000)));
  recent.set(executionId, { id: trace.id, start_timestamp: trace.start_timestamp });
}

/**
 * Executions this process is putting into a trace right now, by store, with that trace. The entry
 * is written from the execution's create event, not awaited by its request, and its insert
 * resolves only at its commit: a rule-fired core.noop completes (and its action trigger asks for
 * the trace) before that. Answered from here, it is neither read back (one read per webhook on
 * the embedded store) nor waited for (which split the completion's commit in two).
 */
const joining = new WeakMap<Store, Map<string, TraceRef>>();

function joiningOf(store: Store): Map<string, TraceRef> {
  let inFlight = joining.get(store);
  if (!inFlight) joining.set(store, (inFlight = new Map()));
  return inFlight;
}

/** The trace holding this execution (id and start), if any: what its `trace_components` entry says. */
export async function traceOfExecution(services: Services, executionId: string): Promise<TraceRef | null> {
  const known =
    joining.get(services.store)?.get(executionId) ?? recentMembers.get(services.store)?.get(executionId);
  if (known && Date.now() - Date.parse(known.start_timestamp) < MEMBER_TRUSTED_MS) {
    rememberMember(services.store, executionId, known);
    return known;
  }
  const entry = await services.store.traceComponents.get(executionKey(executionId));
  if (!entry) return null;
  const trace = { id: entry.trace_id, start_timestamp: entry.start_timestamp };
  rememberMember(services.store, executionId, trace);
  return trace;
}

/**
 * Records that this execution belongs to this trace (`trace_components`, one insert by a unique
 * key), unless a newer trace already holds it.
 */
export async function joinTrace(services: Services, trace: TraceRef, executionId: string): Promise<void> {
  const inFlight = joiningOf(services.store);
  inFlight.set(executionId, { id: trace.id, start_timestamp: trace.start_timestamp });
  try {
    await insertMember(services, trace, executionId);
  } finally {
    inFlight.delete(executionId);
  }
}

async function insertMember(services: Services, trace: TraceRef, executionId: string): Promise<void> {
  const { traceComponents } = services.store;
  const id = executionKey(executionId);
  const entry = { id, trace_id: trace.id, start_timestamp: trace.start_timestamp };
  try {
    await traceComponents.insert(entry);
    rememberMember(services.store, executionId, trace);
    return;
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
  }
  // Held by a trace already (the same execution joined again): that entry decides, not the map.
  joining.get(services.store)?.delete(executionId);
  const known = await traceComponents.get(id);
  if (known && (known.trace_id === trace.id || known.start_timestamp > trace.start_timestamp)) {
    rememberMember(services.store, executionId, {
      id: known.trace_id,
      start_timestamp: known.start_timestamp,
    });
    return;
  }
  await traceComponents.replace(entry);
  rememberMember(services.store, executionId, trace);
}

/** The id of the trace holding this execution or trigger instance, if any (it may be gone). */
export async function traceIdHolding(
  services: Services,
  kind: Exclude<TraceComponentKind, 'rules'>,
  objectId: string,
): Promise<string | undefined> {
  if (kind === 'action_executions')
    return (await services.store.traceComponents.get(executionKey(objectId)))?.trace_id;
  // eslint-disable-next-line no-restricted-syntax -- its trace_context only (src/triggers imports this folder)
  const instance = await services.store.triggerInstances.get(objectId);
  return (instance?.trace_context as TraceContext | undefined)?.trace_id;
}

/** The trace holding this execution or trigger instance, if any (the record, without its members). */
export async function traceHolding(
  services: Services,
  kind: Exclude<TraceComponentKind, 'rules'>,
  objectId: string,
): Promise<TraceRecord | null> {
  // An execution's from what this process remembers (its completion asks right after its start).
  if (kind === 'action_executions') {
    const ref = await traceOfExecution(services, objectId);
    return ref ? traceById(services, ref.id) : null;
  }
  const id = await traceIdHolding(services, kind, objectId);
  return id ? services.store.traces.get(id) : null;
}

/**
 * The ids of the traces holding an execution, a trigger instance or a rule's enforcements (the
 * API's `?execution=`, `?trigger_instance=`, `?rule=`), found from the members' own records (a
 * trace stored before may list it too: the caller asks those traces' lists as well).
 */
export async function traceIdsHolding(
  services: Services,
  kind: TraceComponentKind,
  objectId: string,
): Promise<string[]> {
  const { store } = services;
  if (kind !== 'rules') {
    const id = await traceIdHolding(services, kind, objectId);
    return id ? [id] : [];
  }
  const rule = await store.rules.get(objectId);
  const enforcements = await store.ruleEnforcements.find(
    rule ? { 'rule.ref': rule.ref } : { 'rule.id': objectId },
    {
      projection: { id: 1, trigger_instance_id: 1, rule: 1 },
      sort: { enforced_at: -1 },
      limit: RULE_TRACES_READ,
    },
  );
  const instanceIds = [
    ...new Set(enforcements.filter((e) => e.rule?.id === objectId).map((e) => e.trigger_instance_id)),
  ];
  if (!instanceIds.length) return [];
  // eslint-disable-next-line no-restricted-syntax -- their trace_context only
  const instances = await store.triggerInstances.find(
    { id: { $in: instanceIds } },
    { projection: { id: 1, trace_context: 1 } },
  );
  const ids = instances.map((i) => (i.trace_context as TraceContext | undefined)?.trace_id);
  return [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
}

/** The newest enforcements of a rule read to find its traces: a rule's traces are listed, not all of history. */
const RULE_TRACES_READ = 1000;

/** Each trace with its members (trigger instances, rules, executions), read together for a page. */
export async function withComponents(services: Services, traces: TraceRecord[]): Promise<TraceView[]> {
  if (!traces.length) return [];
  const { store } = services;
  const traceIds = traces.map((t) => t.id);
  const [instances, rows] = await Promise.all([
    // eslint-disable-next-line no-restricted-syntax -- a trace's list shows no payload
    store.triggerInstances.find(
      { 'trace_context.trace_id': { $in: traceIds } },
      { projection: { payload: 0 }, sort: { occurrence_time: 1 } },
    ),
    store.traceComponents.find({ trace_id: { $in: traceIds } }, { sort: { id: 1 } }),
  ]);
  // Entries of traces stored before name trigger instances too: those are read from the instances.
  const executionRows = rows.filter((r) => r.id.startsWith('action_executions:'));
  const executionIds = executionRows.map((r) => r.id.slice('action_executions:'.length));
  const [enforcements, executions] = await Promise.all([
    instances.length
      ? store.ruleEnforcements.find(
          { trigger_instance_id: { $in: instances.map((i) => i.id) } },
          { sort: { enforced_at: 1 } },
        )
      : Promise.resolve([] as RuleEnforcementRecord[]),
    executionIds.length
      ? store.executions.find(
          { id: { $in: executionIds } },
          { projection: { id: 1, action: 1, parent: 1, context: 1, start_timestamp: 1 } },
        )
      : Promise.resolve([] as ExecutionRecord[]),
  ]);
  const traceOfInstance = new Map<string, string>();
  const members = new Map(
    traceIds.map((id) => [
      id,
      { trigger_instances: [], rules: [], action_executions: [] } as Record<TraceComponentKind, Component[]>,
    ]),
  );
  for (const i of instances) {
    const traceId = (i.trace_context as TraceContext).trace_id!;
    traceOfInstance.set(i.id, traceId);
    members.get(traceId)?.trigger_instances.push(instanceComponent(i));
  }
  for (const e of enforcements) {
    const traceId = traceOfInstance.get(e.trigger_instance_id);
    if (traceId) members.get(traceId)?.rules.push(ruleComponent(e));
  }
  const executionById = new Map(executions.map((e) => [e.id, e]));
  const executionComponents = executionRows.map((r) => {
    const id = r.id.slice('action_executions:'.length);
    const e = executionById.get(id);
    // An execution retention has deleted is still named, as the trace's list named it.
    return {
      traceId: r.trace_id,
      c: e ? executionComponent(e) : { object_id: id, updated_at: r.start_timestamp },
    };
  });
  executionComponents.sort((a, b) =>
    a.c.updated_at < b.c.updated_at ? -1 : a.c.updated_at > b.c.updated_at ? 1 : 0,
  );
  for (const { traceId, c } of executionComponents) members.get(traceId)?.action_executions.push(c);
  return traces.map((t) => {
    const derived = members.get(t.id)!;
    return {
      ...t,
      trigger_instances: merged(t.trigger_instances, derived.trigger_instances),
      rules: merged(t.rules, derived.rules),
      action_executions: merged(t.action_executions, derived.action_executions),
    };
  });
}

/** A trace's stored list (traces stored before), then what joined it since and is not listed. */
function merged(stored: Component[] | undefined, derived: Component[]): Component[] {
  if (!stored?.length) return derived;
  const key = (c: Component) =>
    `${c.object_id}\u0000${(c.caused_by as { id?: string } | undefined)?.id ?? ''}`;
  const listed = new Set(stored.map(key));
  return [...stored, ...derived.filter((c) => !listed.has(key(c)))];
}

/**
 * What caused a trigger instance. The action trigger's instance is stored under its execution's
 * id with neither its cause nor its source (src/triggers/action-trigger.ts): it is its execution's.
 */
export function instanceCause(i: TriggerInstanceRecord): TriggerInstanceRecord['caused_by'] {
  if (i.trigger === 'core.st2.generic.actiontrigger' && !('source' in i) && !('caused_by' in i))
    return { type: 'action_execution', id: i.id };
  return i.caused_by;
}

function instanceComponent(i: TriggerInstanceRecord): Component {
  const cause = instanceCause(i);
  return {
    object_id: i.id,
    ref: i.trigger,
    ...(cause ? { caused_by: cause } : {}),
    updated_at: i.occurrence_time,
  };
}

function ruleComponent(e: RuleEnforcementRecord): Component {
  return {
    object_id: e.rule.id,
    ref: e.rule.ref,
    caused_by: { type: 'trigger_instance', id: e.trigger_instance_id },
    rule_enforcement_id: e.id,
    updated_at: e.enforced_at,
  };
}

/** What caused an execution, as its trace names it: the rule and instance, else its parent. */
export function executionCause(e: {
  parent?: unknown;
  context?: unknown;
}): { type: string; id: string } | undefined {
  const ctx = (e.context ?? {}) as Record<string, unknown>;
  const rule = ctx.rule as { id?: string } | undefined;
  const ti = ctx.trigger_instance as { id?: string } | undefined;
  if (rule?.id && ti?.id) return { type: 'rule', id: `${rule.id}:${ti.id}` };
  return typeof e.parent === 'string' && e.parent ? { type: 'action_execution', id: e.parent } : undefined;
}

function executionComponent(e: ExecutionRecord): Component {
  const causedBy = executionCause(e);
  return {
    object_id: e.id,
    ...(e.action?.ref ? { ref: e.action.ref } : {}),
    ...(causedBy ? { caused_by: causedBy } : {}),
    updated_at: e.start_timestamp,
  };
}
