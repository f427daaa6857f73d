/**
 * Trigger types (create/update/delete; listing lives in src/content/api.ts), parameterised
 * triggers and trigger instances with re-emit (st2-reference.md §3, §11.1).
 */
import { Ajv } from 'ajv';
import type { RouteModule } from '../api/index.js';
import { authorize, listQuerySchema, listRecords, queryTime } from '../api/index.js';
import { triggerTypeSchema } from '../content/schemas/index.js';
import { ConflictError, NotFoundError, SquallError, ValidationError } from '../errors.js';
import { lazyValidator } from '../lazy-validator.js';
import { isId, newId } from '../ids.js';
import type { Filter, TriggerInstanceRecord, TriggerRecord, TriggerTypeRecord } from '../store/index.js';
import { noteWholeExecution, triggerInstanceReads } from './action-trigger.js';
import { dispatchTrigger } from './dispatch.js';
import { presentTrigger } from './triggers.js';

const checkTriggerType = lazyValidator(() =>
  new Ajv({ allErrors: true, strict: false }).compile(triggerTypeSchema),
);

function triggerTypeRecord(body: unknown, where: string): Omit<TriggerTypeRecord, 'id'> {
  if (!checkTriggerType(body)) {
    const problems = (checkTriggerType.errors ?? []).map((e) => {
      const at = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
      const p = e.params as { missingProperty?: string; additionalProperty?: string };
      if (p.missingProperty) return `${at ? `${at}.` : ''}${p.missingProperty}: is required`;
      if (p.additionalProperty) return `${at ? `${at}.` : ''}${p.additionalProperty}: unknown field`;
      return `${at || 'body'}: ${e.message}`;
    });
    throw new ValidationError(`${where} is invalid: ${problems.join('; ')}`, { errors: problems });
  }
  const b = body as Record<string, unknown>;
  const pack = typeof b.pack === 'string' && b.pack ? b.pack : 'default';
  const name = String(b.name);
  return {
    name,
    pack,
    ref: `${pack}.${name}`,
    uid: `trigger_type:${pack}:${name}`,
    description: typeof b.description === 'string' ? b.description : '',
    parameters_schema: (b.parameters_schema as object | undefined) ?? {},
    payload_schema: (b.payload_schema as object | undefined) ?? {},
    tags: (b.tags as unknown[] | undefined) ?? [],
  };
}

export const triggerRoutes: RouteModule = (router, services) => {
  const { store, bus } = services;
  // What the API answers with: the execution's secret output masked (re-emit reads it whole).
  const instances = triggerInstanceReads(services, true);
  const max = services.config.api.max_page_size;

  const findType = async (refOrId: string) => {
    const t = isId(refOrId)
      ? await store.triggerTypes.get(refOrId)
      : await store.triggerTypes.findOne({ ref: refOrId });
    if (!t) throw new NotFoundError('TriggerType', refOrId);
    return t;
  };

  router.add({
    method: 'post',
    path: '/api/v1/triggertypes',
    summary: 'Create a trigger type',
    tag: 'triggertypes',
    status: 201,
    body: { type: 'object' },
    handler: async ({ req, body }) => {
      authorize(services, req, 'trigger_all');
      const rec = { ...triggerTypeRecord(body, 'trigger type'), id: newId() } as TriggerTypeRecord;
      if (await store.triggerTypes.findOne({ ref: rec.ref }))
        throw new ConflictError(`TriggerType "${rec.ref}" already exists`, { ref: rec.ref });
      await store.triggerTypes.insert(rec);
      bus.publish('st2.trigger_type__create', rec);
      return rec;
    },
  });

  router.add({
    method: 'put',
    path: '/api/v1/triggertypes/:ref_or_id',
    summary: 'Replace a trigger type',
    tag: 'triggertypes',
    body: { type: 'object' },
    handler: async ({ req, params, body }) => {
      authorize(services, req, 'trigger_all');
      const existing = await findType(params.ref_or_id);
      if (existing.system)
        throw new SquallError(
          'SYSTEM_TRIGGER_TYPE',
          `TriggerType "${existing.ref}" is built in and cannot be changed`,
          {
            ref: existing.ref,
          },
        );
      const rec = {
        ...triggerTypeRecord({ pack: existing.pack, ...(body as object) }, `trigger type ${existing.ref}`),
        id: existing.id,
      } as TriggerTypeRecord;
      if (rec.ref !== existing.ref)
        throw new ValidationError(`name/pack: cannot rename trigger type "${existing.ref}" to "${rec.ref}"`, {
          ref: existing.ref,
        });
      await store.triggerTypes.replace(rec);
      bus.publish('st2.trigger_type__update', rec);
      return rec;
    },
  });

  router.add({
    method: 'delete',
    path: '/api/v1/triggertypes/:ref_or_id',
    summary: 'Delete a trigger type (refused while rules use it)',
    tag: 'triggertypes',
    status: 204,
    handler: async ({ req, params }) => {
      authorize(services, req, 'trigger_all');
      const existing = await findType(params.ref_or_id);
      if (existing.system)
        throw new SquallError(
          'SYSTEM_TRIGGER_TYPE',
          `TriggerType "${existing.ref}" is built in and cannot be deleted`,
          {
            ref: existing.ref,
          },
        );
      const users = await store.rules.find({ 'trigger.type': existing.ref }, { limit: 5 });
      if (users.length)
        throw new ConflictError(
          `TriggerType "${existing.ref}" is used by rule(s) ${users.map((r) => r.ref).join(', ')}; delete them first`,
          { ref: existing.ref, rules: users.map((r) => r.ref) },
        );
      await store.triggerTypes.deleteOne({ id: existing.id });
      bus.publish('st2.trigger_type__delete', existing);
      return undefined;
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/triggers',
    summary: 'Parameterised triggers bound by rules (webhook urls, timer schedules)',
    tag: 'triggers',
    query: {
      type: 'object',
      properties: { ...listQuerySchema, type: { type: 'string' }, pack: { type: 'string' } },
    },
    handler: async ({ req, res, query }) => {
      authorize(services, req, 'trigger_list');
      const filter: Filter = {};
      if (query.type) filter.type = query.type;
      if (query.pack) filter.pack = query.pack;
      return listRecords<TriggerRecord>(req, res, {
        collection: store.triggers,
        filter,
        sort: { ref: 1 },
        maxPageSize: max,
        present: presentTrigger,
      });
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/triggers/:ref_or_id',
    summary: 'One trigger',
    tag: 'triggers',
    handler: async ({ req, params }) => {
      authorize(services, req, 'trigger_view');
      const t = isId(params.ref_or_id)
        ? await store.triggers.get(params.ref_or_id)
        : await store.triggers.findOne({ ref: params.ref_or_id });
      if (!t) throw new NotFoundError('Trigger', params.ref_or_id);
      return presentTrigger(t);
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/triggerinstances',
    summary: 'List trigger instances, newest first',
    tag: 'triggerinstances',
    query: {
      type: 'object',
      properties: {
        ...listQuerySchema,
        trigger: { type: 'string', description: 'Trigger ref (type ref or parameterised trigger ref).' },
        trigger_type: { type: 'string' },
        status: { type: 'string', enum: ['pending', 'processing', 'processed', 'processing_failed'] },
        timestamp_gt: { type: 'string', description: 'occurrence_time after this (ISO 8601).' },
        timestamp_lt: { type: 'string', description: 'occurrence_time before this (ISO 8601).' },
      },
    },
    handler: async ({ req, res, query }) => {
      authorize(services, req, 'trigger_list');
      const filter: Filter = {};
      if (query.trigger) filter.trigger = query.trigger;
      if (query.trigger_type) filter.trigger_type = query.trigger_type;
      if (query.status) filter.status = query.status;
      const range: Record<string, string> = {};
      const after = queryTime(query, 'timestamp_gt');
      const before = queryTime(query, 'timestamp_lt');
      if (after) range.$gt = after;
      if (before) range.$lt = before;
      if (Object.keys(range).length) filter.occurrence_time = range;
      return listRecords<TriggerInstanceRecord>(req, res, {
        collection: instances,
        filter,
        sort: { occurrence_time: -1 },
        maxPageSize: max,
      });
    },
  });

  /** `shown`: for the answer (secret output masked), not for re-emitting (rules match it whole). */
  const getInstance = async (id: string, shown: boolean) => {
    const ti = await (shown ? instances : triggerInstanceReads(services)).get(id);
    if (!ti) throw new NotFoundError('TriggerInstance', id);
    return ti;
  };

  router.add({
    method: 'get',
    path: '/api/v1/triggerinstances/:id',
    summary: 'One trigger instance',
    tag: 'triggerinstances',
    handler: async ({ req, params }) => {
      authorize(services, req, 'trigger_view');
      return getInstance(params.id, true);
    },
  });

  router.add({
    method: 'post',
    path: '/api/v1/triggerinstances/:id/re_emit',
    summary: 'Dispatch a stored trigger instance again (a new instance with the same trigger and payload)',
    tag: 'triggerinstances',
    status: 200,
    handler: async ({ req, params }) => {
      authorize(services, req, 'trigger_all');
      const original = await getInstance(params.id, false);
      // A re-emitted instance re-emitted again: its create event masks by its execution's schema.
      await noteWholeExecution(services, original);
      const instance = await dispatchTrigger(services, {
        trigger: original.trigger,
        payload: original.payload,
        source: 're_emit',
        causedBy: { type: 'trigger_instance', id: original.id },
        reEmitOf: original.id,
      });
      // The answer shows the payload as the instances API does (an action trigger's secret output
      // masked); the rules got it whole.
      const shown = await instances.get(instance.id);
      return {
        message: `Trigger instance ${original.id} succesfully re-sent.`,
        payload: shown?.payload ?? null,
        trigger_instance: shown ?? instance,
      };
    },
  });
};
