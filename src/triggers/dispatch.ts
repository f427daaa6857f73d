/**
 * The one way a trigger instance enters Squall (webhooks, timers, sensors, the datastore, the
 * action trigger, re-emit): validate, store (status pending), trace, and hand it to the rules
 * engine through the durable Agenda job `trigger.process`, so a crash never loses it.
 */
import { ConflictError, NotFoundError, SquallError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import type { Services } from '../service/index.js';
import type { TraceRecord, TriggerInstanceRecord, TriggerRecord, TriggerTypeRecord } from '../store/index.js';
import { hasParameters, triggerRefFor } from './refs.js';
import { isMeaningfulSchema, schemaChecker } from './schema-check.js';
import { forgetStored, rememberStored } from './just-stored.js';
import { enterPending, TRIGGER_PROCESS_JOB } from './pending.js';
import { resolveTrace, type TraceContext } from '../traces/index.js';
import { shownOnBus, storedActionTrigger, triggerInstanceReads } from './action-trigger.js';

export { TRIGGER_PROCESS_JOB } from './pending.js';

export interface DispatchInput {
  /**
   * A trigger type ref (`core.st2.key_value_pair.create`, `mypack.event`), a parameterised
   * trigger's ref (`core.5c1b…`), or `{type, parameters}` naming the parameterised trigger.
   */
  trigger: string | { type: string; parameters?: Record<string, unknown> };
  payload: unknown;
  /** st2 `trace_tag`: joins (or starts) the newest trace with this tag. */
  traceTag?: string;
  /** st2 `trace_context`: `trace_id` must name an existing trace. */
  traceContext?: TraceContext;
  /** The trace `traceContext.trace_id` names, when the caller has just read it (not read again). */
  trace?: TraceRecord;
  /** Who dispatched it (`webhook`, `sensor:<ref>`, `timer`, `actiontrigger`, `re_emit`...). */
  source?: string;
  /** What caused it, recorded in the trace (e.g. `{type: 'action_execution', id}`). */
  causedBy?: { type: string; id: string };
  /** The instance this one re-emits (stored as `re_emit_of`). */
  reEmitOf?: string;
  /**
   * The instance's id, for a dispatch that may be a retry of one that died (a webhook
   * redelivery): when that instance is already stored it is handed to the rules engine again
   * (which enforces each rule once per instance) instead of being stored twice.
   */
  instanceId?: string;
  /**
   * What is stored under `instanceId`, when the caller has just looked it up (a takeover's
   * storedIds): the record, or null for none. Dispatch then does not read it again; left out,
   * it reads it.
   */
  storedInstance?: TriggerInstanceRecord | null;
  /**
   * The action trigger's instance: stored without its payload, which its execution's record gives
   * again when it is read (./action-trigger.ts). The instance returned, published and handed to the
   * rules engine has it.
   */
  derivedPayload?: boolean;
}

export interface ResolvedTrigger {
  /** What the instance's `trigger` field holds and what rules are indexed by. */
  ref: string;
  type: TriggerTypeRecord;
  trigger?: TriggerRecord;
}

/** Finds the trigger type (and parameterised trigger) a dispatch names. */
export async function resolveTrigger(
  services: Services,
  trigger: DispatchInput['trigger'],
): Promise<ResolvedTrigger> {
  const { store } = services;
  if (typeof trigger === 'object' && trigger !== null) {
    const type = await store.triggerTypes.findOne({ ref: trigger.type });
    if (!type) throw new NotFoundError('TriggerType', trigger.type, { field: 'trigger.type' });
    const ref = triggerRefFor(trigger.type, trigger.parameters);
    if (!hasParameters(trigger.parameters)) return { ref, type };
    const bound = await store.triggers.findOne({ ref });
    return { ref, type, ...(bound ? { trigger: bound } : {}) };
  }
  if (typeof trigger !== 'string' || trigger === '') {
    throw new ValidationError('trigger: expected a trigger type ref or a trigger ref', { trigger });
  }
  const bound = await store.triggers.findOne({ ref: trigger });
  if (bound) {
    const type = await store.triggerTypes.findOne({ ref: bound.type });
    if (!type) throw new NotFoundError('TriggerType', bound.type, { trigger: trigger, field: 'trigger' });
    return { ref: trigger, type, trigger: bound };
  }
  const type = await store.triggerTypes.findOne({ ref: trigger });
  if (!type) {
    throw new NotFoundError('Trigger', trigger, {
      field: 'trigger',
      hint: 'name a trigger type ref (see `squall trigger list` / GET /api/v1/triggertypes)',
    });
  }
  return { ref: trigger, type };
}

/** Rejects a payload that does not follow the trigger type's payload_schema (st2 validate_trigger_payload). */
export function validateTriggerPayload(type: TriggerTypeRecord, payload: unknown): void {
  const schema = type.payload_schema;
  if (!isMeaningfulSchema(schema)) return;
  const checker = schemaChecker(schema);
  const filled: string[] = [];
  // A default the schema gives is the schema author's, not the sender's: its `format` is not held
  // against the payload (st2's own examples.sample_trigger defaults executed_at to a date-time
  // without a time zone; st2 checks no formats).
  const problems = checker
    .problems(checker.withDefaults(payload, 'payload', filled), 'payload')
    .filter((p) => !filled.some((f) => p.startsWith(`${f}: must match format`)));
  if (problems.length) {
    throw new ValidationError(
      `payload of trigger "${type.ref}" does not match its payload_schema: ${problems.join('; ')}`,
      { trigger_type: type.ref, errors: problems },
    );
  }
}

export async function dispatchTrigger(
  services: Services,
  input: DispatchInput,
): Promise<TriggerInstanceRecord> {
  const resolved = await resolveTrigger(services, input.trigger);
  validateTriggerPayload(resolved.type, input.payload ?? {});
  // The trace, the pending entry, the instance and its job: written in this
  // order, acknowledged together (one commit on the embedded store).
  return services.store.transaction(() => storeInstance(services, input, resolved));
}

async function storeInstance(
  services: Services,
  input: DispatchInput,
  resolved: ResolvedTrigger,
): Promise<TriggerInstanceRecord> {
  if (input.instanceId) {
    const stored =
      input.storedInstance !== undefined
        ? input.storedInstance
        : await triggerInstanceReads(services).get(input.instanceId);
    if (stored) return processAgain(services, stored);
  }
  const id = input.instanceId ?? newId();
  const traceCtx: TraceContext = {
    ...(input.traceContext ?? {}),
    ...(input.traceTag ? { trace_tag: input.traceTag } : {}),
  };
  // No rule listens to it here: stored processed, with no pending entry and no job to match
  // nothing (each a handful of round trips on MongoDB; every execution's action trigger is one).
  const unmatched = (await services.noRulesFor?.(resolved.ref)) ?? false;
  // The instance's trace_context is what puts it in its trace (the trace record is not rewritten).
  const known = input.trace && input.trace.id === traceCtx.trace_id ? input.trace : undefined;
  const trace = known ?? (await resolveTrace(services, traceCtx, `trigger_instance-${id}`));
  const instance: TriggerInstanceRecord = {
    id,
    trigger: resolved.ref,
    trigger_type: resolved.type.ref,
    payload: input.payload ?? {},
    occurrence_time: new Date().toISOString(),
    status: unmatched ? 'processed' : 'pending',
    trace_context: { trace_id: trace.id, trace_tag: trace.trace_tag },
    // What its trace shows as the instance's cause.
    ...(input.causedBy ? { caused_by: input.causedBy } : {}),
    ...(input.source ? { source: input.source } : {}),
    ...(input.reEmitOf ? { re_emit_of: input.reEmitOf } : {}),
  };
  // Entered first: stored without its entry, an instance whose job is lost would stay pending.
  if (!unmatched) await enterPending(services, id);
  try {
    await services.store.triggerInstances.insert(
      input.derivedPayload ? storedActionTrigger(instance) : instance,
    );
  } catch (err) {
    // A retry racing its first attempt: that one stored it first.
    const stored =
      input.instanceId && err instanceof ConflictError ? await triggerInstanceReads(services).get(id) : null;
    if (stored) return processAgain(services, stored);
    throw err;
  }
  if (unmatched) {
    services.bus.publish('st2.trigger_instance__create', shownOnBus(services, instance));
    return instance;
  }
  // Before the job: its run may start before now() resolves. The action trigger's too: its id is
  // its execution's, new since its insert just succeeded (a completion run again conflicts above).
  if (!input.instanceId || input.derivedPayload) rememberStored(services, instance);
  try {
    await services.scheduler.now(TRIGGER_PROCESS_JOB, { id });
  } catch (err) {
    forgetStored(services, id);
    await services.store.triggerInstances.updateOne(
      { id },
      {
        $set: { status: 'processing_failed', status_reason: `could not schedule processing: ${String(err)}` },
      },
    );
    throw new SquallError(
      'TRIGGER_SCHEDULE_FAILED',
      `trigger instance ${id} of "${resolved.ref}" was stored but could not be handed to the rules engine`,
      { id, trigger: resolved.ref, cause: String(err) },
      503,
    );
  }
  services.bus.publish('st2.trigger_instance__create', shownOnBus(services, instance));
  return instance;
}

/** An instance a retry found stored: its processing job may never have been created, so create one. */
async function processAgain(
  services: Services,
  instance: TriggerInstanceRecord,
): Promise<TriggerInstanceRecord> {
  if (instance.status === 'pending' || instance.status === 'processing')
    await services.scheduler.now(TRIGGER_PROCESS_JOB, { id: instance.id });
  return instance;
}
