import type { RouteModule } from '../api/index.js';
import { authorize, listQuerySchema, listRecords } from '../api/index.js';
import { NotFoundError, SquallError } from '../errors.js';
import type { ContentRecord, Filter } from '../store/index.js';
import { isId } from '../ids.js';

/** Strips fields internal to Squall (absolute paths stay: st2 shows pack paths too). */
function presentAction(a: ContentRecord): Record<string, unknown> {
  const { merged_parameters: _m, ...rest } = a as ContentRecord & { merged_parameters?: unknown };
  return rest;
}

/** An action's fields (st2's ActionDB, and where Squall found its files), for include_attributes. */
const ACTION_ATTRIBUTES: ReadonlySet<string> = new Set([
  'id',
  'uid',
  'ref',
  'name',
  'pack',
  'description',
  'enabled',
  'entry_point',
  'runner_type',
  'parameters',
  'output_schema',
  'notify',
  'tags',
  'metadata_file',
  'entry_point_path',
  'pack_dir',
]);

/** /api/v1/actions, /packs, /runnertypes, /policies, /policytypes, /sensortypes, /triggertypes (§11.1). */
export const contentRoutes: RouteModule = (router, services) => {
  const { store } = services;
  const max = services.config.api.max_page_size;
  const byRefOrId = async (coll: typeof store.actions, refOrId: string, kind: string) => {
    const rec = isId(refOrId) ? await coll.get(refOrId) : await coll.findOne({ ref: refOrId });
    if (!rec) throw new NotFoundError(kind, refOrId);
    return rec;
  };

  router.add({
    method: 'get',
    path: '/api/v1/actions',
    summary: 'List actions',
    tag: 'actions',
    query: {
      type: 'object',
      properties: {
        ...listQuerySchema,
        pack: { type: 'string' },
        name: { type: 'string' },
        runner_type: { type: 'string' },
      },
    },
    handler: async ({ req, res, query }) => {
      authorize(services, req, 'action_list');
      const filter: Filter = {};
      for (const k of ['pack', 'name', 'runner_type']) if (query[k]) filter[k] = query[k];
      return listRecords<ContentRecord>(req, res, {
        collection: store.actions,
        filter,
        sort: { ref: 1 },
        maxPageSize: max,
        defaultLimit: null, // st2 answers every action when no limit is given
        present: presentAction,
        attributes: ACTION_ATTRIBUTES,
      });
    },
  });
  router.add({
    method: 'get',
    path: '/api/v1/actions/:ref_or_id',
    summary: 'One action',
    tag: 'actions',
    handler: async ({ req, params }) => {
      const a = await byRefOrId(store.actions, params.ref_or_id, 'Action');
      authorize(services, req, 'action_view', { uid: a.uid, pack: a.pack });
      return presentAction(a);
    },
  });
  router.add({
    method: 'put',
    path: '/api/v1/actions/:ref_or_id',
    summary: 'Update an action (Squall applies enabled only; edit the pack file for the rest)',
    tag: 'actions',
    body: { type: 'object', properties: { enabled: { type: 'boolean' } } },
    handler: async ({ req, params, body }) => {
      const a = await byRefOrId(store.actions, params.ref_or_id, 'Action');
      authorize(services, req, 'action_modify', { uid: a.uid, pack: a.pack });
      const enabled = (body as { enabled?: boolean }).enabled;
      const updated =
        enabled === undefined ? a : await store.actions.updateOne({ id: a.id }, { $set: { enabled } });
      return presentAction(updated ?? a);
    },
  });
  // st2 stores an action posted to the API; in Squall an action is a file of its pack, so these
  // answer st2's error shape with what to do instead (`st2 action create/delete`).
  const fromPackFiles = (what: string) =>
    new SquallError(
      'ACTIONS_ARE_PACK_FILES',
      `Squall does not ${what} actions through the API: an action is a metadata file (and entry point) under packs/<pack>/actions/. ${
        what === 'create'
          ? 'Add the file there'
          : 'Remove the file (or disable the action with `st2 action disable`)'
      } and run \`st2 pack register <pack>\` (or \`st2 pack install\`).`,
      { operation: what },
      405,
    );
  router.add({
    method: 'post',
    path: '/api/v1/actions',
    summary: 'Not supported (405): actions are pack files; register the pack instead',
    tag: 'actions',
    responses: { 405: 'Always: add the action file to its pack and register the pack.' },
    handler: ({ req }) => {
      authorize(services, req, 'action_create');
      throw fromPackFiles('create');
    },
  });
  router.add({
    method: 'delete',
    path: '/api/v1/actions/:ref_or_id',
    summary: 'Not supported (405): actions are pack files; remove the file and register the pack',
    tag: 'actions',
    responses: { 404: 'No such action.', 405: 'The action exists: remove its file and register the pack.' },
    handler: async ({ req, params }) => {
      const a = await byRefOrId(store.actions, params.ref_or_id, 'Action');
      authorize(services, req, 'action_delete', { uid: a.uid, pack: a.pack });
      throw fromPackFiles('delete');
    },
  });
  router.add({
    method: 'get',
    path: '/api/v1/actions/views/parameters/:ref_or_id',
    summary: "An action's parameters and its runner's",
    tag: 'actions',
    handler: async ({ req, params }) => {
      const a = await byRefOrId(store.actions, params.ref_or_id, 'Action');
      authorize(services, req, 'action_view', { uid: a.uid, pack: a.pack });
      const runner = await store.runnerTypes.findOne({ name: String(a.runner_type) });
      return {
        parameters: a.parameters ?? {},
        runner_parameters: (runner?.runner_parameters as object) ?? {},
      };
    },
  });
  router.add({
    method: 'get',
    path: '/api/v1/actions/views/overview',
    summary: 'Actions with their parameters merged with the runner parameters',
    tag: 'actions',
    query: {
      type: 'object',
      properties: {
        ...listQuerySchema,
        pack: { type: 'string' },
        name: { type: 'string' },
        ref: { type: 'string' },
      },
    },
    handler: async ({ req, res, query }) => {
      authorize(services, req, 'action_list');
      const filter: Filter = {};
      for (const k of ['pack', 'name', 'ref']) if (query[k]) filter[k] = query[k];
      return listRecords<ContentRecord>(req, res, {
        collection: store.actions,
        filter,
        sort: { ref: 1 },
        maxPageSize: max,
        defaultLimit: null, // st2 answers every action when no limit is given
        present: (a) => ({
          ...presentAction(a),
          parameters: (a as { merged_parameters?: unknown }).merged_parameters ?? a.parameters,
        }),
      });
    },
  });
  router.add({
    method: 'get',
    path: '/api/v1/actions/views/overview/:ref_or_id',
    summary: 'One action with its parameters merged with the runner parameters',
    tag: 'actions',
    handler: async ({ req, params }) => {
      const a = await byRefOrId(store.actions, params.ref_or_id, 'Action');
      authorize(services, req, 'action_view', { uid: a.uid, pack: a.pack });
      return {
        ...presentAction(a),
        parameters: (a as { merged_parameters?: unknown }).merged_parameters ?? a.parameters,
      };
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/packs',
    summary: 'List packs',
    tag: 'packs',
    query: { type: 'object', properties: { ...listQuerySchema } },
    handler: async ({ req, res }) => {
      authorize(services, req, 'pack_list');
      return listRecords(req, res, {
        collection: store.packs as never,
        filter: {},
        sort: { ref: 1 },
        maxPageSize: max,
        present: (p) => presentPack(p as unknown as Record<string, unknown>),
      });
    },
  });
  router.add({
    method: 'get',
    path: '/api/v1/packs/:ref_or_id',
    summary: 'One pack',
    tag: 'packs',
    handler: async ({ req, params }) => {
      const p = isId(params.ref_or_id)
        ? await store.packs.get(params.ref_or_id)
        : await store.packs.findOne({ ref: params.ref_or_id });
      if (!p) throw new NotFoundError('Pack', params.ref_or_id);
      authorize(services, req, 'pack_view', { uid: `pack:${p.ref}`, pack: p.ref });
      return presentPack(p as never);
    },
  });

  for (const [path, coll, perm, key] of [
    ['runnertypes', store.runnerTypes, 'runner_type', 'name'],
    ['policies', store.policies, 'policy', 'ref'],
    ['sensortypes', store.sensors, 'sensor_type', 'ref'],
    ['triggertypes', store.triggerTypes, 'trigger', 'ref'],
  ] as const) {
    router.add({
      method: 'get',
      path: `/api/v1/${path}`,
      summary: `List ${path}`,
      tag: path,
      query: {
        type: 'object',
        properties: {
          ...listQuerySchema,
          pack: { type: 'string' },
          name: { type: 'string' },
          ref: { type: 'string' },
        },
      },
      handler: async ({ req, res, query }) => {
        authorize(services, req, `${perm}_list`);
        const filter: Filter = {};
        for (const k of ['pack', 'name', 'ref']) if (query[k]) filter[k] = query[k];
        return listRecords(req, res, {
          collection: coll as never,
          filter,
          sort: { [key]: 1 },
          maxPageSize: max,
          // st2 declares no default page size for sensortypes (all are answered).
          defaultLimit: path === 'sensortypes' ? null : undefined,
        });
      },
    });
    router.add({
      method: 'get',
      path: `/api/v1/${path}/:ref_or_id`,
      summary: `One of ${path}`,
      tag: path,
      handler: async ({ req, params }) => {
        const c = coll as unknown as typeof store.actions;
        const rec = isId(params.ref_or_id)
          ? await c.get(params.ref_or_id)
          : await c.findOne({ [key]: params.ref_or_id });
        if (!rec) throw new NotFoundError(path.replace(/s$/, ''), params.ref_or_id);
        authorize(services, req, `${perm}_view`, { uid: String(rec.uid ?? ''), pack: rec.pack });
        return rec;
      },
    });
  }
  router.add({
    method: 'get',
    path: '/api/v1/policytypes',
    summary: 'List policy types',
    tag: 'policies',
    handler: ({ req }) => {
      authorize(services, req, 'policy_type_list');
      return POLICY_TYPES;
    },
  });
};

function presentPack(p: Record<string, unknown>): Record<string, unknown> {
  const { config: _config, ...rest } = p;
  return rest;
}

export const POLICY_TYPES = [
  {
    id: 'action.concurrency',
    ref: 'action.concurrency',
    resource_type: 'action',
    name: 'concurrency',
    description: 'Limits the concurrent executions of the action; extra requests are delayed or canceled.',
    enabled: true,
    parameters: {
      threshold: { type: 'integer', required: true, minimum: 0 },
      action: { type: 'string', enum: ['delay', 'cancel'], default: 'delay' },
    },
  },
  {
    id: 'action.concurrency.attr',
    ref: 'action.concurrency.attr',
    resource_type: 'action',
    name: 'concurrency.attr',
    description: 'Limits concurrent executions per distinct value of the given parameters.',
    enabled: true,
    parameters: {
      threshold: { type: 'integer', required: true, minimum: 0 },
      action: { type: 'string', enum: ['delay', 'cancel'], default: 'delay' },
      attributes: { type: 'array', required: true, items: { type: 'string' } },
    },
  },
  {
    id: 'action.retry',
    ref: 'action.retry',
    resource_type: 'action',
    name: 'retry',
    description: 'Re-runs a failed or timed out execution.',
    enabled: true,
    parameters: {
      retry_on: { type: 'string', enum: ['failure', 'timeout'], required: true },
      max_retry_count: { type: 'integer', minimum: 1, maximum: 5, default: 2 },
      delay: { type: 'integer', minimum: 0, maximum: 120, default: 0 },
    },
  },
];
