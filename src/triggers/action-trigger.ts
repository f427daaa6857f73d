/**
 * core.st2.generic.actiontrigger's instances, stored without what their execution's record holds.
 *
 * st2 stores one instance per finished execution, repeating the execution (its parameters and
 * result: ~750 bytes per execution on the embedded store, bench/disk.mjs). Squall stores the
 * instance under its execution's id, without `payload`, `source` and `caused_by`, and builds them
 * again from the execution's record whenever the instance is read through triggerInstanceReads
 * (API list/get, re-emit, the rule tester, the rules engine, the trace tree; the payload by
 * Services.actionTriggerPayload, which the executions subsystem installs): every reader sees the
 * payload st2's notifier posts. Retention
 * deletes such an instance with its execution (src/scale/retention.ts), so the record it is built
 * from is there as long as the instance is.
 */
import type { Services } from '../service/index.js';
import type { ExecutionRecord, Filter, FindOptions, Json, TriggerInstanceRecord } from '../store/index.js';
import { instanceCause } from '../traces/index.js';
import { ACTION_TRIGGER_TYPE } from './refs.js';
import { MASK } from './triggers.js';

/** What dispatch records as the source of an action trigger's instance. */
export const ACTION_TRIGGER_SOURCE = 'actiontrigger';

/**
 * An action trigger's instance stored without what its execution gives (storedActionTrigger): it
 * has no `source` (every action trigger's instance stored in full has one), which tells it apart
 * also where a reader leaves `payload` out.
 */
export function isDerivedInstance(instance: TriggerInstanceRecord): boolean {
  return instance.trigger === ACTION_TRIGGER_TYPE && !('source' in instance);
}

/**
 * What is stored of an action trigger's instance: what its execution's record cannot give again.
 * Its id is its execution's: `caused_by` is not stored either.
 */
export function storedActionTrigger(instance: TriggerInstanceRecord): TriggerInstanceRecord {
  const { payload: _payload, source: _source, caused_by: _cause, ...stored } = instance;
  return stored as TriggerInstanceRecord;
}

/**
 * The store's trigger instances as readers see them: an action trigger's instance with the payload
 * and source dispatch gave it, built again from its execution's record (one read for all of a
 * find's instances). Every reader outside the store goes through it (eslint.config.js refuses a
 * direct read of `triggerInstances`): a reader that forgot to build the payload showed an action
 * trigger's instance without one.
 */
export interface TriggerInstanceReads {
  get(id: string): Promise<TriggerInstanceRecord | null>;
  findOne(filter: Filter, options?: FindOptions): Promise<TriggerInstanceRecord | null>;
  /** With a projection that leaves `payload` out, the instances as stored (no execution read). */
  find(filter?: Filter, options?: FindOptions): Promise<TriggerInstanceRecord[]>;
  /**
   * find()'s instances as rules see them (the payload whole), each action trigger's built one with
   * the payload the API shows (`shown`: its execution's secret output masked), both from one read of
   * their executions: for a reader that matches rules and then quotes the payload (the trace tree).
   * `shown` is undefined where the instance is shown as stored.
   */
  findMatchedAndShown(filter: Filter): Promise<Array<{ instance: TriggerInstanceRecord; shown?: Json }>>;
  count(filter?: Filter): Promise<number>;
}

/**
 * `shown`: for an API answer (the execution's secret output masked, as its own answer shows it), not
 * for rules and re-emit, which match and send the payload whole.
 */
export function triggerInstanceReads(services: Services, shown = false): TriggerInstanceReads {
  const stored = services.store.triggerInstances;
  const one = async (found: TriggerInstanceRecord | null) =>
    found && (await withPayloads(services, [found], shown))[0]!;
  return {
    get: async (id) => one(await stored.get(id)),
    findOne: async (filter, options) =>
      showsPayload(options) ? one(await stored.findOne(filter, options)) : stored.findOne(filter, options),
    find: async (filter, options) => {
      const found = await stored.find(filter, options);
      return showsPayload(options) ? withPayloads(services, found, shown) : found;
    },
    findMatchedAndShown: async (filter) => {
      const found = await stored.find(filter);
      const build = await payloadBuilder(services, found, true);
      return found.map((i) => ({
        instance: build(i, false),
        shown: isDerivedInstance(i) || wholeActionTrigger(i) ? build(i, true).payload : undefined,
      }));
    },
    count: (filter) => stored.count(filter),
  };
}

/** Whether a read with these options returns `payload` (a projection may leave it out). */
function showsPayload(options?: FindOptions): boolean {
  const projection = options?.projection;
  if (!projection || !Object.keys(projection).length) return true;
  const included = Object.values(projection).some((v) => v === 1);
  return included ? projection.payload === 1 : projection.payload !== 0;
}

/**
 * The instances as dispatch made them: a stored action trigger's payload and source built again from
 * its execution's record (one read for all of them). An instance whose execution is gone (deleted
 * outside retention) keeps the execution id as its payload. `shown`: for an API answer, the
 * execution's result as its own answer shows it (secret output masked): the payload, built from
 * the record, held the secret output in clear for anyone who may list trigger instances. An action
 * trigger's instance stored whole (before the compact record, or one re-emitted, which keeps its
 * payload) is shown with its stored result masked by the same execution's output_schema.
 */
async function withPayloads(
  services: Services,
  instances: TriggerInstanceRecord[],
  shown = false,
): Promise<TriggerInstanceRecord[]> {
  const whole = shown && instances.some(wholeActionTrigger);
  if (!instances.some(isDerivedInstance) && !whole) return instances;
  const build = await payloadBuilder(services, instances, shown);
  return instances.map((i) => build(i, shown));
}

/**
 * Reads the executions of these instances' derived payloads (and, `shownToo`, of their whole action
 * trigger payloads), once; `build` gives one instance, as rules see it or as the API shows it.
 */
async function payloadBuilder(
  services: Services,
  instances: TriggerInstanceRecord[],
  shownToo: boolean,
): Promise<(instance: TriggerInstanceRecord, shown: boolean) => TriggerInstanceRecord> {
  const ids = new Set(instances.filter(isDerivedInstance).map((i) => i.id));
  if (shownToo) for (const i of instances) if (wholeActionTrigger(i)) ids.add(wholeExecutionId(i)!);
  const executions = ids.size ? await services.store.executions.find({ id: { $in: [...ids] } }) : [];
  const byId = new Map(executions.map((e) => [e.id, e]));
  return (i, shown) => {
    if (isDerivedInstance(i)) {
      const execution = byId.get(i.id);
      const payload = execution && services.actionTriggerPayload?.(execution, shown);
      if (execution && payload) builtFrom(payload, execution);
      return withPayload(i, payload ?? { execution_id: i.id });
    }
    if (!shown || !wholeActionTrigger(i)) return i;
    return { ...i, payload: shownWholePayload(services, i, byId.get(wholeExecutionId(i)!)) };
  };
}

/**
 * The execution each action trigger payload in this process was built from (here and by the
 * notifier), for the instance's events (shownOnBus); weak, so it lives as long as the payload.
 */
const executionsOf = new WeakMap<object, ExecutionRecord>();

/** Notes that `payload` (an action trigger's) was built from `execution`. */
export function builtFrom(payload: unknown, execution: ExecutionRecord): void {
  if (typeof payload === 'object' && payload !== null) executionsOf.set(payload, execution);
}

/**
 * A trigger instance as its bus events carry it (st2.trigger_instance__create / __update), which
 * the event stream sends to anyone who may open one: an action trigger's result as its
 * execution's answer shows it (secret output masked; masked whole when the execution it was built
 * from is not known here). Rules do not read it from the event.
 */
export function shownOnBus(services: Services, instance: TriggerInstanceRecord): TriggerInstanceRecord {
  const payload = instance.payload;
  if (instance.trigger !== ACTION_TRIGGER_TYPE || typeof payload !== 'object' || payload === null)
    return instance;
  return { ...instance, payload: shownWholePayload(services, instance, executionsOf.get(payload)) };
}

/**
 * Notes the execution a whole action trigger payload names (a re-emitted instance), read once when
 * this process did not build that payload object: the instance to process is a copy (takeStored)
 * or a store read, so its status events masked the result whole instead of by output_schema.
 */
export async function noteWholeExecution(services: Services, instance: TriggerInstanceRecord): Promise<void> {
  if (!wholeActionTrigger(instance) || executionsOf.has(instance.payload as object)) return;
  const execution = await services.store.executions.get(wholeExecutionId(instance)!);
  if (execution) builtFrom(instance.payload, execution);
}

/** An action trigger's instance stored with its payload (source `actiontrigger` or `re_emit`). */
function wholeActionTrigger(instance: TriggerInstanceRecord): boolean {
  return (
    instance.trigger === ACTION_TRIGGER_TYPE &&
    'source' in instance &&
    wholeExecutionId(instance) !== undefined
  );
}

/** The execution a whole action trigger payload names (what anyone who posts one may put there). */
function wholeExecutionId(instance: TriggerInstanceRecord): string | undefined {
  const payload = instance.payload as { execution_id?: unknown } | null | undefined;
  const id = payload && typeof payload === 'object' ? payload.execution_id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/**
 * A whole payload's result as its execution's answer would show it. Its execution gone, the
 * output_schema is unknown: the result is masked whole rather than shown in clear.
 */
function shownWholePayload(
  services: Services,
  instance: TriggerInstanceRecord,
  execution: ExecutionRecord | undefined,
): Json {
  const payload = instance.payload as Record<string, unknown>;
  if (!('result' in payload)) return payload as Json;
  if (!execution) return { ...payload, result: MASK } as Json;
  const rebuilt = services.actionTriggerPayload?.({ ...execution, result: payload.result as Json }, true) as
    { result?: unknown } | undefined;
  return { ...payload, result: rebuilt?.result ?? MASK } as Json;
}

/** The record in the shape and key order dispatch gives an instance. */
export function withPayload(stored: TriggerInstanceRecord, payload: Json): TriggerInstanceRecord {
  const { id, trigger, trigger_type, payload: _stored, caused_by: _cause, ...rest } = stored;
  return {
    id,
    trigger,
    ...(trigger_type === undefined ? {} : { trigger_type }),
    payload,
    ...rest,
    caused_by: instanceCause(stored),
    source: ACTION_TRIGGER_SOURCE,
  } as TriggerInstanceRecord;
}
