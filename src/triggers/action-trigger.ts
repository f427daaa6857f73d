/**
 * core.st2.generic.actiontrigger's instances, stored without what their execution's record holds.
 *
 * st2 stores one instance per finished execution, repeating the execution (its parameters and
 * result: ~750 bytes per execution on the embedded store, bench/disk.mjs). Squall stores the
 * instance under its execution's id, without `payload`, `source` and `caused_by`, and builds them
 * again from the execution's record whenever the instance is read (API list/get, re-emit, the rule
 * tester, the rules engine, the trace tree; the payload by Services.actionTriggerPayload, which the
 * executions subsystem installs): every reader sees the payload st2's notifier posts. Retention
 * deletes such an instance with its execution (src/scale/retention.ts), so the record it is built
 * from is there as long as the instance is.
 */
import type { Services } from '../service/index.js';
import type { Json, TriggerInstanceRecord } from '../store/index.js';
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
 * The instances as dispatch made them: a stored action trigger's payload and source built again from
 * its execution's record (one read for all of them). An instance whose execution is gone (deleted
 * outside retention) keeps the execution id as its payload. `shown`: for an API answer, the
 * execution's result as its own answer shows it (secret output masked): the payload, built from
 * the record, held the secret output in clear for anyone who may list trigger instances.
 */
export async function withPayloads(
  services: Services,
  instances: TriggerInstanceRecord[],
  shown = false,
): Promise<TriggerInstanceRecord[]> {
  const derived = instances.filter(isDerivedInstance);
  if (!derived.length) return instances;
  const ids = [...new Set(derived.map((i) => i.id))];
  const executions = await services.store.executions.find({ id: { $in: ids } });
  const byId = new Map(executions.map((e) => [e.id, e]));
  return instances.map((i) => {
    if (!isDerivedInstance(i)) return i;
    const execution = byId.get(i.id);
    const payload = execution && services.actionTriggerPayload?.(execution, shown);
    return withPayload(i, payload ?? { execution_id: i.id });
  });
}

/** One instance as dispatch made it (withPayloads). */
export async function withPayloadOf(
  services: Services,
  instance: TriggerInstanceRecord,
  shown = false,
): Promise<TriggerInstanceRecord> {
  return (await withPayloads(services, [instance], shown))[0]!;
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
