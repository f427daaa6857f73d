/**
 * /api/v1/rules, /ruletypes, /ruleenforcements and /traces in st2's shapes
 * (st2-reference.md §4.4, §4.6, §11.1, §13.2).
 */
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { type RouteModule, authorize, listQuerySchema, listRecords, requestUser } from '../api/index.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { isId, newId } from '../ids.js';
import type { Services } from '../service/index.js';
import type { Filter, RuleEnforcementRecord, RuleRecord, TraceRecord } from '../store/index.js';
import { MASK, maskTriggerParameters, syncTriggers, triggerInstanceReads } from '../triggers/index.js';
import { ruleTriggerRef } from './rule-index.js';
import { type TraceComponentKind, type TraceView, traceIdsHolding, withComponents } from '../traces/index.js';
import { ruleTestRoute } from './test-api.js';
import { addTraceTreeRoute } from './trace-tree.js';
import { RULE_TYPES, validateRule } from './validate.js';

/** A rule as the API shows it: with its bound trigger's ref, webhook secrets masked. */
export function presentRule(rule: RuleRecord): Record<string, unknown> {
  const t = (rule.trigger ?? {}) as { type: string; parameters?: Record<string, unknown> };
  const { pack_dir: _dir, ...rest } = rule as RuleRecord & { pack_dir?: unknown };
  return {
    ...rest,
    trigger: { ...t, parameters: maskTriggerParameters(t.parameters), ref: ruleTriggerRef(rule) },
  };
}

export async function findRule(services: Services, refOrId: string): Promise<RuleRecord> {
  const { rules } = services.store;
  const rule = isId(refOrId) ? await rules.get(refOrId) : await rules.findOne({ ref: refOrId });
  if (!rule) throw new NotFoundError('Rule', refOrId, { hint: 'list rules with `squall rule list`' });
  return rule;
}

/** After a rule changed: trigger records, then the event the rules engines reload on. */
async function ruleChanged(
  services: Services,
  op: 'create' | 'update' | 'delete',
  rule: RuleRecord,
  afterChange?: (op: 'create' | 'update' | 'delete', rule: RuleRecord) => Promise<void>,
): Promise<void> {
  await syncTriggers(services);
  // This process's engine sees the change before the API answers; others follow the event.
  await afterChange?.(op, rule);
  services.bus.publish(`st2.rule__${op}`, presentRule(rule));
}

/**
 * st2 records who created or last changed a rule (`context.user`); the caller cannot set it.
 * The rules engine decrypts the rule's templates with that user's rights.
 */
function authorContext(req: Request, draft: Record<string, unknown>): Record<string, unknown> {
  const given = draft.context && typeof draft.context === 'object' ? (draft.context as object) : {};
  return { ...given, user: requestUser(req).name };
}

/** A rule read back from the API has its webhook secret masked: sending it back keeps the secret. */
function keepMaskedSecret(body: Record<string, unknown>, existing: RuleRecord): Record<string, unknown> {
  const t = body.trigger as { parameters?: { hmac?: { secret?: unknown } } } | undefined;
  const old = (existing.trigger as { parameters?: { hmac?: { secret?: unknown } } } | undefined)?.parameters
    ?.hmac;
  if (t?.parameters?.hmac?.secret !== MASK || old?.secret === undefined) return body;
  return {
    ...body,
    trigger: { ...t, parameters: { ...t.parameters, hmac: { ...t.parameters.hmac, secret: old.secret } } },
  };
}

function timeRange(filter: Filter, field: string, gt: unknown, lt: unknown): void {
  const range: Record<string, string> = {};
  if (gt) range.$gt = String(gt);
  if (lt) range.$lt = String(lt);
  if (Object.keys(range).length) filter[field] = range;
}

/** `afterChange` runs after every rule change, before the answer (e.g. reload the local rule index). */
export function rulesRoutes(
  afterChange?: (op: 'create' | 'update' | 'delete', rule: RuleRecord) => Promise<void>,
): RouteModule {
  return (router, services) => {
    const { store } = services;
    const max = services.config.api.max_page_size;

    const ruleListQuery = {
      type: 'object',
      properties: {
        ...listQuerySchema,
        pack: { type: 'string' },
        name: { type: 'string' },
        enabled: { type: 'boolean' },
        action: { type: 'string', description: 'Action ref.' },
        trigger: { type: 'string', description: 'Trigger type ref.' },
      },
    };
    const ruleFilter = (query: Record<string, unknown>): Filter => {
      const filter: Filter = {};
      if (query.pack) filter.pack = query.pack;
      if (query.name) filter.name = query.name;
      if (query.enabled !== undefined) filter.enabled = query.enabled;
      if (query.action) filter['action.ref'] = query.action;
      if (query.trigger) filter['trigger.type'] = query.trigger;
      return filter;
    };

    router.add({
      method: 'get',
      path: '/api/v1/rules',
      summary: 'List rules',
      tag: 'rules',
      query: ruleListQuery,
      handler: async ({ req, res, query }) => {
        authorize(services, req, 'rule_list');
        return listRecords<RuleRecord>(req, res, {
          collection: store.rules,
          filter: ruleFilter(query),
          sort: { ref: 1 },
          maxPageSize: max,
          defaultLimit: null, // st2 answers every rule when no limit is given
          present: presentRule,
        });
      },
    });

    const view = async (rule: RuleRecord) => {
      const t = rule.trigger as { type: string };
      const a = rule.action as { ref: string };
      const [tt, action] = await Promise.all([
        store.triggerTypes.findOne({ ref: t.type }),
        store.actions.findOne({ ref: a.ref }),
      ]);
      const shown = presentRule(rule) as { trigger: object; action: object };
      return {
        ...shown,
        trigger: { ...shown.trigger, description: tt?.description ?? '' },
        action: { ...shown.action, description: action?.description ?? '' },
      };
    };

    router.add({
      method: 'get',
      path: '/api/v1/rules/views',
      summary: 'Rules with the descriptions of their trigger type and action',
      tag: 'rules',
      query: ruleListQuery,
      handler: async ({ req, res, query }) => {
        authorize(services, req, 'rule_list');
        return listRecords<RuleRecord>(req, res, {
          collection: store.rules,
          filter: ruleFilter(query),
          sort: { ref: 1 },
          maxPageSize: max,
          defaultLimit: null, // st2 answers every rule when no limit is given
          // The view reads the whole rule, so it is built before include_attributes picks fields
          // (a view of a picked rule failed: schemathesis, include_attributes=Ü).
          present: view,
        });
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/rules/views/:ref_or_id',
      summary: 'One rule with the descriptions of its trigger type and action',
      tag: 'rules',
      handler: async ({ req, params }) => {
        const rule = await findRule(services, params.ref_or_id);
        authorize(services, req, 'rule_view', { uid: rule.uid, pack: rule.pack });
        return view(rule);
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/rules/:ref_or_id',
      summary: 'One rule',
      tag: 'rules',
      handler: async ({ req, params }) => {
        const rule = await findRule(services, params.ref_or_id);
        authorize(services, req, 'rule_view', { uid: rule.uid, pack: rule.pack });
        return presentRule(rule);
      },
    });

    router.add({
      method: 'post',
      path: '/api/v1/rules',
      summary: 'Create a rule (the JSON of a rule YAML file, as `st2 rule create FILE` sends it)',
      tag: 'rules',
      status: 201,
      body: { type: 'object' },
      handler: async ({ req, body }) => {
        const draft = await validateRule(store, body, 'rule');
        authorize(services, req, 'rule_create', { uid: draft.uid, pack: draft.pack });
        if (await store.rules.findOne({ ref: draft.ref }))
          throw new ConflictError(
            `Rule "${draft.ref}" already exists; update it with PUT /api/v1/rules/${draft.ref}`,
            {
              ref: draft.ref,
            },
          );
        const rule = { ...draft, id: newId(), context: authorContext(req, draft) } as RuleRecord;
        try {
          await store.rules.insert(rule);
        } catch (err) {
          if (err instanceof ConflictError)
            throw new ConflictError(`Rule "${draft.ref}" already exists`, { ref: draft.ref });
          throw err;
        }
        await ruleChanged(services, 'create', rule, afterChange);
        return presentRule(rule);
      },
    });

    ruleTestRoute(router, services);

    router.add({
      method: 'put',
      path: '/api/v1/rules/:ref_or_id',
      summary: 'Replace a rule (same shape as create; enable/disable by sending the rule with `enabled`)',
      tag: 'rules',
      body: { type: 'object' },
      handler: async ({ req, params, body }) => {
        const existing = await findRule(services, params.ref_or_id);
        authorize(services, req, 'rule_modify', { uid: existing.uid, pack: existing.pack });
        const b = keepMaskedSecret({ pack: existing.pack, ...(body as Record<string, unknown>) }, existing);
        const draft = await validateRule(store, b, `rule ${existing.ref}`);
        if (draft.ref !== existing.ref && (await store.rules.findOne({ ref: draft.ref })))
          throw new ConflictError(
            `cannot rename rule "${existing.ref}" to "${draft.ref}": that rule exists`,
            {
              ref: draft.ref,
            },
          );
        const keep: Record<string, unknown> = {};
        for (const k of ['pack_dir']) if (existing[k] !== undefined) keep[k] = existing[k];
        const rule = { ...keep, ...draft, id: existing.id, context: authorContext(req, draft) } as RuleRecord;
        await store.rules.replace(rule);
        await ruleChanged(services, 'update', rule, afterChange);
        return presentRule(rule);
      },
    });

    router.add({
      method: 'delete',
      path: '/api/v1/rules/:ref_or_id',
      summary: 'Delete a rule',
      tag: 'rules',
      status: 204,
      handler: async ({ req, params }) => {
        const rule = await findRule(services, params.ref_or_id);
        authorize(services, req, 'rule_delete', { uid: rule.uid, pack: rule.pack });
        await store.rules.deleteOne({ id: rule.id });
        await ruleChanged(services, 'delete', rule, afterChange);
        return undefined;
      },
    });

    router.add({
      method: 'get',
      path: '/api/v1/ruletypes',
      summary: 'Rule types: standard and backstop',
      tag: 'rules',
      handler: ({ req }) => {
        authorize(services, req, 'rule_list');
        return RULE_TYPES;
      },
    });
    router.add({
      method: 'get',
      path: '/api/v1/ruletypes/:id',
      summary: 'One rule type',
      tag: 'rules',
      handler: ({ req, params }) => {
        authorize(services, req, 'rule_list');
        const t = RULE_TYPES.find((r) => r.id === params.id || r.name === params.id);
        if (!t) throw new NotFoundError('RuleType', params.id);
        return t;
      },
    });

    /* -------------------------------------------------------------- enforcements */

    const enforcementQuery = {
      type: 'object',
      properties: {
        ...listQuerySchema,
        rule_ref: { type: 'string' },
        rule_id: { type: 'string' },
        execution: { type: 'string', description: 'Execution id.' },
        trigger_instance: { type: 'string', description: 'Trigger instance id.' },
        status: { type: 'string', enum: ['succeeded', 'failed'] },
        enforced_at_gt: { type: 'string' },
        enforced_at_lt: { type: 'string' },
      },
    };
    const enforcementFilter = (query: Record<string, unknown>): Filter => {
      const filter: Filter = {};
      if (query.rule_ref) filter['rule.ref'] = query.rule_ref;
      if (query.rule_id) filter['rule.id'] = query.rule_id;
      if (query.execution) filter.execution_id = query.execution;
      if (query.trigger_instance) filter.trigger_instance_id = query.trigger_instance;
      if (query.status) filter.status = query.status;
      timeRange(filter, 'enforced_at', query.enforced_at_gt, query.enforced_at_lt);
      return filter;
    };
    const getEnforcement = async (id: string) => {
      const e = await store.ruleEnforcements.get(id);
      if (!e) throw new NotFoundError('RuleEnforcement', id);
      return e;
    };
    const enforcementView = async (e: RuleEnforcementRecord) => {
      const [execution, instance] = await Promise.all([
        e.execution_id ? store.executions.get(e.execution_id) : Promise.resolve(null),
        triggerInstanceReads(services, true).get(e.trigger_instance_id),
      ]);
      return {
        ...e,
        execution: execution
          ? {
              id: execution.id,
              action: { ref: execution.action.ref },
              status: execution.status,
              start_timestamp: execution.start_timestamp,
              end_timestamp: execution.end_timestamp,
            }
          : {},
        trigger_instance: instance ?? {},
      };
    };

    router.add({
      method: 'get',
      path: '/api/v1/ruleenforcements',
      summary: 'List rule enforcements, newest first',
      tag: 'rules',
      query: enforcementQuery,
      handler: async ({ req, res, query }) => {
        authorize(services, req, 'rule_enforcement_list');
        return listRecords<RuleEnforcementRecord>(req, res, {
          collection: store.ruleEnforcements,
          filter: enforcementFilter(query),
          sort: { enforced_at: -1 },
          maxPageSize: max,
        });
      },
    });
    router.add({
      method: 'get',
      path: '/api/v1/ruleenforcements/views',
      summary: 'Rule enforcements with their execution and trigger instance',
      tag: 'rules',
      query: enforcementQuery,
      handler: async ({ req, res, query }) => {
        authorize(services, req, 'rule_enforcement_list');
        return listRecords<RuleEnforcementRecord>(req, res, {
          collection: store.ruleEnforcements,
          filter: enforcementFilter(query),
          sort: { enforced_at: -1 },
          maxPageSize: max,
          present: enforcementView,
        });
      },
    });
    router.add({
      method: 'get',
      path: '/api/v1/ruleenforcements/views/:id',
      summary: 'One rule enforcement with its execution and trigger instance',
      tag: 'rules',
      handler: async ({ req, params }) => {
        const e = await getEnforcement(params.id);
        authorize(services, req, 'rule_enforcement_view', { uid: e.rule.uid });
        return enforcementView(e);
      },
    });
    router.add({
      method: 'get',
      path: '/api/v1/ruleenforcements/:id',
      summary: 'One rule enforcement',
      tag: 'rules',
      handler: async ({ req, params }) => {
        const e = await getEnforcement(params.id);
        authorize(services, req, 'rule_enforcement_view', { uid: e.rule.uid });
        return e;
      },
    });

    /* -------------------------------------------------------------- traces */

    router.add({
      method: 'get',
      path: '/api/v1/traces',
      summary: 'List traces, newest first',
      tag: 'traces',
      query: {
        type: 'object',
        properties: {
          ...listQuerySchema,
          trace_tag: { type: 'string' },
          execution: { type: 'string', description: 'Execution id.' },
          rule: { type: 'string', description: 'Rule id.' },
          trigger_instance: { type: 'string', description: 'Trigger instance id.' },
        },
      },
      handler: async ({ req, res, query }) => {
        authorize(services, req, 'trace_list');
        const filter: Filter = {};
        if (query.trace_tag) filter.trace_tag = query.trace_tag;
        // A member's trace is found from its own records (those stored before say it too); only a
        // member they do not name is looked for in the lists of traces stored before (not indexed).
        const members: Array<[TraceComponentKind, unknown]> = [
          ['action_executions', query.execution],
          ['rules', query.rule],
          ['trigger_instances', query.trigger_instance],
        ];
        const and: Filter[] = [];
        for (const [kind, id] of members) {
          if (typeof id !== 'string' || !id) continue;
          const ids = await traceIdsHolding(services, kind, id);
          and.push(ids.length ? { id: { $in: ids } } : { [`${kind}.object_id`]: id });
        }
        if (and.length) filter.$and = and;
        return listRecords<TraceRecord>(req, res, {
          collection: store.traces,
          filter,
          sort: { start_timestamp: -1 },
          maxPageSize: max,
          presentPage: async (page) => (await withComponents(services, page)).map(presentTrace),
        });
      },
    });
    addTraceTreeRoute(router, services);
    router.add({
      method: 'get',
      path: '/api/v1/traces/:id',
      summary: 'One trace',
      tag: 'traces',
      handler: async ({ req, params }) => {
        authorize(services, req, 'trace_view');
        const t = await store.traces.get(params.id);
        if (!t) throw new NotFoundError('Trace', params.id);
        const [view] = await withComponents(services, [t]);
        return presentTrace(view!);
      },
    });
  };
}

/**
 * A trace as st2 shows it, with a uid (`trace:<md5>`, the first column after id in `st2 trace
 * list`). st2 hashes the trace's components, so its uid changes as the trace grows; this one
 * hashes the tag and id and stays put.
 */
function presentTrace(t: TraceView): TraceView & { uid: string } {
  const hash = createHash('md5').update(`${t.trace_tag}\u0000${t.id}`).digest('hex');
  return { ...t, uid: `trace:${hash}` };
}
