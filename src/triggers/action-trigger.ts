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
import type { Filter, FindOptions, Json, TriggerInstanceRecord } from '../store/index.js';
import { instanceCause } from '../traces/index.js';
import { ACTION_TRIGGER_TYPE } from './refs.js';

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
      const build = await payloadBuilder(services, found);
      return found.map((i) => ({
        instance: build(i, false),
        shown: isDerivedInstance(i) ? build(i, true).payload : undefined,
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
 * the record, held the secret output in clear for anyone who may list trigger instances.
 */
async function withPayloads(
  services: Services,
  instances: TriggerInstanceRecord[],
  shown = false,
): Promise<TriggerInstanceRecord[]> {
  if (!instances.some(isDerivedInstance)) return instances;
  const build = await payloadBuilder(services, instances);
  return instances.map((i) => build(i, shown));
}

/** Reads the executions of these instances' derived payloads, once; `build` gives one instance. */
async function payloadBuilder(
  services: Services,
  instances: TriggerInstanceRecord[],
): Promise<(instance: TriggerInstanceRecord, shown: boolean) => TriggerInstanceRecord> {
  const ids = [...new Set(instances.filter(isDerivedInstance).map((i) => i.id))];
  const executions = ids.length ? await services.store.executions.find({ id: { $in: ids } }) : [];
  const byId = new Map(executions.map((e) => [e.id, e]));
  return (i, shown) => {
    if (!isDerivedInstance(i)) return i;
    const execution = byId.get(i.id);
    const payload = execution && services.actionTriggerPayload?.(execution, shown);
    return withPayload(i, payload ?? { execution_id: i.id });
  };
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
