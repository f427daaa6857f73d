import { formatExecutionResult, type ExecutionLike } from '../../aliases/index.js';
import { errorMessage } from '../errors.js';
import { COMPLETED_STATUSES, FAILED_STATUSES, type ExecutionService } from '../executions/index.js';
import { idAt, idFor } from '../ids.js';
import type { Services } from '../service/index.js';
import {
  doOnce,
  storedIds,
  type ClaimedWork,
  type ExecutionRecord,
  type TriggerInstanceRecord,
} from '../store/index.js';
import { traceHolding } from '../traces/index.js';
import { dispatchTrigger } from '../triggers/index.js';
import { renderTemplate } from '../workflows/expressions/jinja/index.js';

export type NotifyEntry = {
  routes?: string[];
  channels?: string[];
  message?: string;
  data?: Record<string, unknown>;
};

/** What decides whether an ended execution notifies anyone. */
type Notifying = Pick<ExecutionRecord, 'action' | 'status'> & { notify?: unknown };

/** One rendered notification of one route, handed to whoever delivers routes (chat, webhooks). */
export interface RouteNotification {
  record: ExecutionRecord;
  route: string;
  message: string;
  data: unknown;
  /**
   * Named after the notification's claim: what is posted for it carries this key, so that a post
   * a dead process already made is not made again (OutgoingMessage.idempotencyKey).
   */
  key: string;
  /** Taken over from a dead process, which may have posted it. */
  resumed: boolean;
}

/** Delivers notify routes; chatops provides it (a chat thread, a chat channel or a webhook). */
export interface NotifyDelivery {
  deliver(notification: RouteNotification): Promise<void>;
}

/** Which notify entries apply to an execution that ended in `status` (st2 §2.2). */
export function applicableNotify(
  notify: Record<string, NotifyEntry | undefined>,
  status: string,
): Array<{ when: string; entry: NotifyEntry }> {
  const out: Array<{ when: string; entry: NotifyEntry }> = [];
  const add = (when: string) => {
    const entry = notify[when];
    if (entry) out.push({ when, entry });
  };
  add('on-complete');
  if (status === 'succeeded') add('on-success');
  if ((FAILED_STATUSES as readonly string[]).includes(status)) add('on-failure');
  return out;
}

/** Renders every string inside `value` with Jinja. */
function renderDeep(value: unknown, ctx: Record<string, unknown>, source: string): unknown {
  if (typeof value === 'string') return renderTemplate(value, ctx, { source });
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, ctx, source));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, ctx, source)]));
  return value;
}

/**
 * Squall's notifier (st2's st2actions/notifier, st2 §2.2, §13.4): when an execution ends it merges
 * the action's `notify` with the execution's and, for each route of each applicable entry, emits
 * `core.st2.generic.notifytrigger` and hands the rendered message to the route delivery. It runs in
 * every process, whatever its roles; one process handles each execution (store claim).
 */
export class Notifier {
  private unsubscribe: Array<() => void> = [];

  constructor(
    private readonly services: Services,
    private readonly executions: () => ExecutionService,
    private readonly delivery: () => NotifyDelivery | undefined,
  ) {}

  start(): void {
    this.unsubscribe.push(
      this.services.bus.subscribe('st2.execution__update', (event) => {
        // The execution as the API shows it: the notify it was asked with is its liveaction's.
        const e = event.payload as {
          id: string;
          status: string;
          liveaction?: { notify?: unknown };
        } & Partial<Notifying>;
        if ((COMPLETED_STATUSES as readonly string[]).includes(e.status))
          void this.completed(e.id, { action: e.action, status: e.status, notify: e.liveaction?.notify });
      }),
    );
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  private log() {
    return this.services.logger.child({ component: 'notifier' });
  }

  /**
   * Notifies once per finished execution, whichever process sees the event first; one killed
   * after claiming it leaves the claim open for the sweep to take over (notifyWork).
   */
  async completed(id: string, seen?: Partial<Notifying>): Promise<void> {
    try {
      // Most executions notify nobody: they take no claim. The update event carries what decides
      // it (the action's ref, the execution's notify and final status, none of which change once
      // it ended), which spares every process a read of the execution per completion.
      const record = seen?.action?.ref && seen.status ? (seen as Notifying) : await this.executions().get(id);
      if ((await this.notifications(record)).length === 0) return;
      await doOnce(this.services.store, this.notifyWork, id, this.executions().workerId);
    } catch (err) {
      this.log().error({ err, execution: id }, 'notification of a finished execution failed');
    }
  }

  /** The notify triggers' instance ids are derived from the claim: a taker stores each once. */
  readonly notifyWork: ClaimedWork = {
    prefix: 'chatops:notify:',
    run: async (id, how) => {
      const record = await this.executions().get(id);
      for (const { when, entry } of await this.notifications(record)) {
        for (const route of entry.routes ?? entry.channels ?? [])
          await this.notifyRoute(record, route, entry, when, how?.resumed ?? false);
      }
    },
  };

  /** The notify entries of the action and the execution that apply to how it ended. */
  private async notifications(record: Notifying): Promise<Array<{ when: string; entry: NotifyEntry }>> {
    const action = await this.services.store.actions.findOne({ ref: record.action.ref });
    const notify = {
      ...((action?.notify ?? {}) as Record<string, NotifyEntry>),
      ...((record.notify ?? {}) as Record<string, NotifyEntry>),
    };
    return applicableNotify(notify, record.status);
  }

  private async notifyRoute(
    record: ExecutionRecord,
    route: string,
    entry: NotifyEntry,
    when: string,
    resumed: boolean,
  ): Promise<void> {
    const shown = this.executions().present(record);
    const ctx = {
      action_parameters: shown.parameters,
      action_results: record.result ?? null,
      action_context: record.context,
      execution: shown,
    };
    let message: string;
    let data: unknown;
    try {
      message = entry.message
        ? renderTemplate(entry.message, ctx, { source: `notify ${when} message of ${record.action.ref}` })
        : formatExecutionResult(shown as unknown as ExecutionLike).fullText;
      data = renderDeep(entry.data ?? {}, ctx, `notify ${when} data of ${record.action.ref}`);
    } catch (err) {
      message = `${record.action.ref} ${record.status} (execution ${record.id}); the notify message failed to render: ${errorMessage(err)}`;
      data = {};
    }
    // What this notification stores and posts is named after its claim: a taker repeats nothing.
    const key = `${this.notifyWork.prefix}${record.id}:${when}:${route}`;
    // st2's notifier dispatches the notify trigger in the execution's trace.
    const traceId =
      (await traceHolding(this.services, 'action_executions', record.id))?.id ??
      (record.context?.trace_context as { trace_id?: string } | undefined)?.trace_id;
    // From the execution's end, which every process notifying it reads the same (idAt: instances
    // sort by it); a dead owner of an older version named it with idFor alone, which storedIds finds.
    let instanceId = record.end_timestamp ? idAt(key, record.end_timestamp) : idFor(key);
    let storedInstance: TriggerInstanceRecord | null | undefined;
    if (resumed) {
      const [found] = await storedIds(this.services.store.triggerInstances, [{ key, id: instanceId }]);
      // Just looked up: dispatch need not read it again.
      ({ id: instanceId, record: storedInstance = null } = found);
    }
    // Dispatched here, not through the rules' bus listener: the completion reaches the rules only
    // as a stored trigger instance. Not awaited, as the bus listener did not: the route is
    // delivered whether or not the trigger instance could be stored.
    dispatchTrigger(this.services, {
      ...(traceId ? { traceContext: { trace_id: traceId } } : {}),
      causedBy: { type: 'action_execution', id: record.id },
      instanceId,
      ...(storedInstance !== undefined ? { storedInstance } : {}),
      trigger: 'core.st2.generic.notifytrigger',
      payload: {
        execution_id: record.id,
        status: record.status,
        start_timestamp: record.start_timestamp,
        end_timestamp: record.end_timestamp ?? null,
        action_ref: record.action.ref,
        runner_ref: record.runner.name,
        route,
        channel: route,
        message,
        data,
      },
    }).catch((err) =>
      this.log().error({ err, execution: record.id, route }, 'dispatching the notify trigger failed'),
    );
    const delivery = this.delivery();
    if (!delivery) {
      this.log().warn(
        { route, execution: record.id },
        `notify route "${route}": no route delivery in this process`,
      );
      return;
    }
    await delivery.deliver({ record, route, message, data, key, resumed });
  }
}
