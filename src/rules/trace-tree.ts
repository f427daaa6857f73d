/**
 * A trace as a tree (the web UI's trace view): where the event came from → its trigger instances
 * → the rules that matched (enforcements) and those that did not → the executions → their
 * children → the chat posts and notifications they produced, and the trigger instances they
 * caused (action trigger, notify trigger), each under what caused it.
 */
import { type ApiRouter, authorize } from '../api/index.js';
import type { TraceNode, TraceTree } from '../api-types.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { Services } from '../service/index.js';
import type {
  AuditRecord,
  Json,
  RuleEnforcementRecord,
  RuleRecord,
  TraceRecord,
  TriggerInstanceRecord,
} from '../store/index.js';
import { traceHolding, withComponents } from '../traces/index.js';
import { kvContext, triggerInstanceReads } from '../triggers/index.js';
import { describeValue, lookupPayloadKey } from './criteria/index.js';
import { matchRule } from './engine.js';
import { ruleTriggerRef } from './rule-index.js';

/** Most records a tree reads of each kind: a runaway trace is cut, not read whole. */
const MAX_PER_KIND = 500;

const ids = (list: Array<{ object_id: string }>) =>
  [...new Set(list.map((c) => c.object_id))].slice(0, MAX_PER_KIND);

function sourceOf(instance: TriggerInstanceRecord): TraceNode | undefined {
  const source = typeof instance.source === 'string' ? instance.source : undefined;
  if (!source || source === 'actiontrigger') return undefined;
  const [kind, ...rest] = source.split(':');
  return {
    kind: 'source',
    id: source,
    title: rest.length ? `${kind} ${rest.join(':')}` : kind,
    ref: String(instance.trigger_type ?? instance.trigger),
    children: [],
  };
}

function deliveryNode(a: AuditRecord): TraceNode {
  const target = (a.target ?? {}) as { kind?: string; adapter?: string; channel?: string; url?: string };
  const where = target.kind === 'webhook' ? `webhook ${target.url}` : `${target.adapter} #${target.channel}`;
  const what = String(a.what ?? '');
  return {
    kind: 'chat_delivery',
    id: a.id,
    title: `${what.startsWith('notify') ? 'notification' : 'chat post'} → ${where}`,
    detail: typeof a.text === 'string' ? a.text : typeof a.error === 'string' ? a.error : what,
    status: String(a.outcome ?? ''),
    time: a.timestamp,
    children: [],
  };
}

/**
 * Why a rule did not match, with the pattern as the rule writes it (a rendered one may hold a
 * decrypted secret) and the payload's value as the trigger instance shows it (`shown`: an action
 * trigger's payload with its execution's secret output masked; the rule matched the real one).
 */
function notMatched(
  rule: RuleRecord,
  failed: { key: string; operator: string; value: unknown },
  shown: Json | undefined,
): string {
  const written = (rule.criteria as Record<string, { pattern?: unknown }> | undefined)?.[failed.key]?.pattern;
  const pattern = written === undefined ? '' : ` ${describeValue(written)}`;
  const value = shown === undefined ? failed.value : lookupPayloadKey(shown, failed.key);
  return `did not match: ${failed.key} ${failed.operator}${pattern}; the payload has ${describeValue(value)}`;
}

export async function buildTraceTree(services: Services, trace: TraceRecord): Promise<TraceTree> {
  const { store } = services;
  const instanceIds = ids(trace.trigger_instances ?? []);
  const executionIds = ids(trace.action_executions ?? []);
  const [read, executions, enforcements, audits] = await Promise.all([
    // Rules match the payload whole; the tree quotes it as the API shows it (secret output masked).
    triggerInstanceReads(services).findMatchedAndShown({ id: { $in: instanceIds } }),
    store.executions.find(
      { id: { $in: executionIds } },
      { projection: { result: 0, parameters: 0 }, sort: { start_timestamp: 1 } },
    ),
    store.ruleEnforcements.find({ trigger_instance_id: { $in: instanceIds } }, { sort: { enforced_at: 1 } }),
    store.audit.find(
      { kind: { $in: ['chat.delivery', 'chat.command'] }, execution_id: { $in: executionIds } },
      { sort: { timestamp: 1 }, limit: MAX_PER_KIND },
    ),
  ]);
  const instances = read.map((r) => r.instance);
  const shown = new Map(read.map((r) => [r.instance.id, r.shown]));
  const causeOf = new Map<string, { type?: string; id?: string }>();
  for (const c of trace.trigger_instances ?? [])
    if (c.caused_by) causeOf.set(c.object_id, c.caused_by as { type?: string; id?: string });

  const execNodes = new Map<string, TraceNode>();
  for (const e of executions) {
    execNodes.set(e.id, {
      kind: 'execution',
      id: e.id,
      title: e.action.ref,
      ref: e.action.ref,
      status: e.status,
      time: e.start_timestamp,
      children: [],
    });
  }
  const commands = new Map<string, AuditRecord>();
  for (const a of audits) {
    const node = execNodes.get(String(a.execution_id));
    if (!node) continue;
    if (a.kind === 'chat.delivery') node.children.push(deliveryNode(a));
    else commands.set(String(a.execution_id), a);
  }

  const kv = await kvContext(services);
  const instanceNodes = new Map<string, TraceNode>();
  for (const i of [...instances].sort((a, b) => (a.occurrence_time < b.occurrence_time ? -1 : 1))) {
    const node: TraceNode = {
      kind: 'trigger_instance',
      id: i.id,
      title: String(i.trigger_type ?? i.trigger),
      ref: String(i.trigger_type ?? i.trigger),
      status: i.status,
      time: i.occurrence_time,
      children: [],
    };
    const mine = enforcements.filter((e) => e.trigger_instance_id === i.id);
    for (const e of mine) node.children.push(enforcementNode(e, execNodes));
    // Rules on this trigger that have no enforcement: why they did not match, as they read now.
    const enforced = new Set(mine.map((e) => e.rule.id));
    const rules = await store.rules.find({ 'trigger.type': i.trigger_type ?? i.trigger, enabled: true });
    for (const r of rules) {
      if (enforced.has(r.id) || ruleTriggerRef(r) !== i.trigger) continue;
      const verdict = matchRule(r, i.payload, kv);
      node.children.push({
        kind: 'rule_not_matched',
        id: r.ref,
        title: r.ref,
        ref: r.ref,
        detail: verdict.matched
          ? 'matches now, but was not enforced (changed or created since)'
          : verdict.failed
            ? notMatched(r, verdict.failed, shown.get(i.id))
            : 'did not match',
        children: [],
      });
    }
    instanceNodes.set(i.id, node);
  }

  const roots: TraceNode[] = [];
  const placed = new Set<string>();
  for (const i of instances) {
    const node = instanceNodes.get(i.id)!;
    const cause = causeOf.get(i.id);
    const parent = cause?.type === 'action_execution' ? execNodes.get(String(cause.id)) : undefined;
    if (parent) {
      parent.children.push(node);
      continue;
    }
    const source = sourceOf(i);
    if (source) {
      source.children.push(node);
      roots.push(source);
    } else roots.push(node);
  }
  for (const node of instanceNodes.values())
    for (const child of node.children) for (const c of child.children) placed.add(c.id);
  for (const e of executions) {
    const node = execNodes.get(e.id)!;
    const parent = e.parent ? execNodes.get(e.parent) : undefined;
    if (parent) {
      parent.children.push(node);
      continue;
    }
    if (placed.has(e.id)) continue;
    const command = commands.get(e.id);
    if (command) {
      const user = command.user as { name?: string } | undefined;
      roots.push({
        kind: 'chat_command',
        id: command.id,
        title: `chat command from ${String(command.adapter)} #${String(command.channel)}${user?.name ? ` by ${user.name}` : ''}`,
        detail: typeof command.text === 'string' ? command.text : undefined,
        status: String(command.outcome ?? ''),
        time: command.timestamp,
        children: [node],
      });
    } else roots.push(node);
  }
  return {
    trace: { id: trace.id, trace_tag: trace.trace_tag, start_timestamp: trace.start_timestamp },
    roots,
  };
}

function enforcementNode(e: RuleEnforcementRecord, execNodes: Map<string, TraceNode>): TraceNode {
  const exec = e.execution_id ? execNodes.get(e.execution_id) : undefined;
  return {
    kind: 'rule_enforcement',
    id: e.id,
    title: e.rule.ref,
    ref: e.rule.ref,
    status: e.status,
    time: e.enforced_at,
    ...(e.failure_reason ? { detail: e.failure_reason } : {}),
    children: exec ? [exec] : [],
  };
}

/** The trace holding an execution, a trigger instance or a rule enforcement. */
async function traceOf(services: Services, query: Record<string, unknown>): Promise<TraceRecord> {
  const { store } = services;
  let trace: TraceRecord | null = null;
  let named: string;
  if (typeof query.trace === 'string' && query.trace) {
    named = `trace ${query.trace}`;
    trace = await store.traces.get(query.trace);
  } else if (typeof query.execution === 'string' && query.execution) {
    named = `execution ${query.execution}`;
    trace = await traceHolding(services, 'action_executions', query.execution);
  } else if (typeof query.trigger_instance === 'string' && query.trigger_instance) {
    named = `trigger instance ${query.trigger_instance}`;
    trace = await traceHolding(services, 'trigger_instances', query.trigger_instance);
  } else if (typeof query.rule_enforcement === 'string' && query.rule_enforcement) {
    named = `rule enforcement ${query.rule_enforcement}`;
    const e = await store.ruleEnforcements.get(query.rule_enforcement);
    if (!e) throw new NotFoundError('RuleEnforcement', query.rule_enforcement, { field: 'rule_enforcement' });
    trace = await traceHolding(services, 'trigger_instances', e.trigger_instance_id);
  } else {
    throw new ValidationError(
      'GET /api/v1/traces/views/tree needs one of ?execution=, ?trigger_instance=, ?rule_enforcement= or ?trace=',
      { field: 'execution' },
    );
  }
  if (!trace) throw new NotFoundError('Trace', `of ${named}`);
  const [view] = await withComponents(services, [trace]);
  return view!;
}

export function addTraceTreeRoute(router: ApiRouter, services: Services): void {
  router.add({
    method: 'get',
    path: '/api/v1/traces/views/tree',
    summary:
      'The whole trace holding an execution, trigger instance or rule enforcement, as a tree: source → trigger instances → rules (matched or not) → executions → children → chat posts',
    tag: 'traces',
    responses: { 404: 'No trace holds the record named (or the record does not exist).' },
    query: {
      type: 'object',
      properties: {
        execution: { type: 'string', description: 'Execution id.' },
        trigger_instance: { type: 'string', description: 'Trigger instance id.' },
        rule_enforcement: { type: 'string', description: 'Rule enforcement id.' },
        trace: { type: 'string', description: 'Trace id.' },
      },
    },
    handler: async ({ req, query }) => {
      authorize(services, req, 'trace_view');
      // The tree shows executions and chat posts: what the chat log and History show.
      authorize(services, req, 'execution_list');
      return buildTraceTree(services, await traceOf(services, query));
    },
  });
}
