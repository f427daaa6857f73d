import type { Services } from '../service/index.js';
import type { ExecutionRecord } from '../store/index.js';
import { traceHolding } from '../traces/index.js';
import { actionTriggerPayload } from '../executions/index.js';
import { ACTION_TRIGGER_SOURCE, ACTION_TRIGGER_TYPE, builtFrom, dispatchTrigger } from '../triggers/index.js';

/**
 * core.st2.generic.actiontrigger for a completed execution (st2-reference.md §3.2). st2's notifier
 * posts it next to the notify trigger, so the completion leaves through the notifier and reaches
 * the rules only as a new trigger instance. `rules.emit_actiontrigger` is st2's
 * `[action_sensor] enable`.
 *
 * Stored without its payload, which the execution's record gives again when it is read
 * (src/triggers/action-trigger.ts): it is kept under the execution's id, and written in the
 * completion's store transaction (ExecutionService.setStatus). Only while a rule listens, unless
 * `rules.store_unheard_actiontrigger` (st2 stores one per execution, whether a rule listens or
 * not; the record only mirrors the execution, ~460 bytes of disk each).
 */
export async function emitActionTrigger(services: Services, execution: ExecutionRecord): Promise<void> {
  const rules = services.config.rules;
  if (rules?.emit_actiontrigger === false) return;
  if (rules?.store_unheard_actiontrigger !== true && (await services.noRulesFor?.(ACTION_TRIGGER_TYPE)))
    return;
  const trace = await traceHolding(services, 'action_executions', execution.id);
  const payload = actionTriggerPayload(execution);
  // Its events show the result as the execution's answer does (shownOnBus).
  builtFrom(payload, execution);
  await dispatchTrigger(services, {
    trigger: ACTION_TRIGGER_TYPE,
    payload,
    ...(trace ? { traceContext: { trace_id: trace.id }, trace } : {}),
    source: ACTION_TRIGGER_SOURCE,
    causedBy: { type: 'action_execution', id: execution.id },
    // One instance per execution: a completion run again after a crash finds it stored. Nothing
    // is stored under that id before, so it is not looked up first.
    instanceId: execution.id,
    storedInstance: null,
    derivedPayload: true,
  });
}
