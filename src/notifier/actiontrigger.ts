import type { ExecutionService } from '../executions/index.js';
import { splitRef } from '../names.js';
import type { Services } from '../service/index.js';
import type { ExecutionRecord } from '../store/index.js';
import { traceHolding } from '../traces/index.js';
import { ACTION_TRIGGER_TYPE, dispatchTrigger } from '../triggers/index.js';

/**
 * core.st2.generic.actiontrigger for a completed execution (st2-reference.md §3.2). st2's notifier
 * posts it next to the notify trigger, so the completion leaves through the notifier and reaches
 * the rules only as a new trigger instance. `rules.emit_actiontrigger` is st2's
 * `[action_sensor] enable`.
 *
 * Unlike st2, unless `rules.store_unheard_actiontrigger`, the instance is not stored when no rule
 * listens to the action trigger (this process's rule index, the one dispatch consults): it would
 * only repeat the execution's record (~750 bytes per execution, bench/disk.mjs). A rule made later
 * does not see it either way: an instance no rule listens to is stored processed, never matched again.
 */
export async function emitActionTrigger(
  services: Services,
  executions: () => ExecutionService,
  execution: ExecutionRecord,
): Promise<void> {
  if (services.config.rules?.emit_actiontrigger === false) return;
  if (
    !services.config.rules?.store_unheard_actiontrigger &&
    (await services.noRulesFor?.(ACTION_TRIGGER_TYPE))
  )
    return;
  const presented = executions().present(execution) as { parameters?: unknown };
  const trace = await traceHolding(services, 'action_executions', execution.id);
  await dispatchTrigger(services, {
    trigger: ACTION_TRIGGER_TYPE,
    payload: {
      execution_id: execution.id,
      status: execution.status,
      start_timestamp: execution.start_timestamp,
      action_name: execution.action.name ?? splitRef(execution.action.ref).name,
      action_ref: execution.action.ref,
      runner_ref: execution.runner.name,
      parameters: presented.parameters ?? {},
      result: execution.result ?? {},
    },
    ...(trace ? { traceContext: { trace_id: trace.id }, trace } : {}),
    source: 'actiontrigger',
    causedBy: { type: 'action_execution', id: execution.id },
  });
}
