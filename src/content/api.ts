import { isDeepStrictEqual } from 'node:util';
import type { EveryFieldListed, RouteModule, RouteSpec } from '../api/index.js';
import { authorize, listQuerySchema, listRecords } from '../api/index.js';
import { NotFoundError, SquallError } from '../errors.js';
import type { ContentRecord, Filter } from '../store/index.js';
import { isId } from '../ids.js';

/**
 * An action's fields as the API shows them (st2's ActionDB, and where Squall found its files): the
 * type presentAction answers with and what `?include_attributes=` takes are made from this list,
 * and every field ContentRecord names must be in it.
 */
const ACTION_FIELDS = [
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
] as const;
type ActionField = (typeof ACTION_FIELDS)[number];
const _listed: EveryFieldListed<ContentRecord, ActionField> = true;

/** The fields `?include_attributes=` and `?exclude_attributes=` take for actions. */
const ACTION_ATTRIBUTES: ReadonlySet<string> = new Set(ACTION_FIELDS);

/** An action as the API shows it. */
type ShownAction = { [F in ActionField]?: unknown };

/** Strips fields internal to Squall (absolute paths stay: st2 shows pack paths too). */
function presentAction(a: ContentRecord): ShownAction {
  const { merged_parameters: _m, ...rest } = a as ContentRecord & { merged_parameters?: unknown };
  return rest;
}

/** Where a caller who named something that is not there finds what is (`squall run` looks the action up here first). */
const LIST_HINT: Record<string, string> = {
  Action: 'list actions with `squall action list`',
  Policy: 'list policies with GET /api/v1/policies',
};

/** /api/v1/actions, /packs, /runnertypes, /policies, /policytypes, /sensortypes, /triggertypes (§11.1). */
export const contentRoutes: RouteModule = (router, services) => {
  const { store } = services;
  const max = services.config.api.max_page_size;
  const byRefOrId = async (coll: typeof store.actions, refOrId: string, kind: string) => {
    const rec = isId(refOrId) ? await coll.get(refOrId) : await coll.findOne({ ref: refOrId });
    if (!rec) throw new NotFoundError(kind, refOrId, LIST_HINT[kind] ? { hint: LIST_HINT[kind] } : {});
    return rec;
  };
  /** A list of actions filtered by the query's `keys`, each shown by `present`. */
  const actionList = (
    keys: string[],
    present: (a: ContentRecord) => unknown,
    attributes?: typeof ACTION_ATTRIBUTES,
  ): Pick<RouteSpec, 'query' | 'handler'> => ({
    query: {
      type: 'object',
      properties: { ...listQuerySchema, ...Object.fromEntries(keys.map((k) => [k, { type: 'string' }])) },
    },
    handler: async ({ req, res, query }) => {
      authorize(services, req, 'action_list');
      const filter: Filter = {};
      for (const k of keys) if (query[k]) filter[k] = query[k];
      return listRecords<ContentRecord>(req, res, {
        collection: store.actions,
        filter,
        sort: { ref: 1 },
        maxPageSize: max,
        defaultLimit: null, // st2 answers every action when no limit is given
        present,
        ...(attributes ? { attributes } : {}),
      });
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/actions',
    summary: 'List actions',
    tag: 'actions',
    ...actionList(['pack', 'name', 'runner_type'], presentAction, ACTION_ATTRIBUTES),
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
    summary:
      'Update an action: enabled only (405 when other fields differ: edit the pack file and register the pack)',
    tag: 'actions',
    responses: { 405: 'The body changes more than enabled: actions are files of their pack.' },
    body: { type: 'object', properties: { enabled: { type: 'boolean' } } },
    handler: async ({ req, params, body }) => {
      const a = await byRefOrId(store.actions, params.ref_or_id, 'Action');
      authorize(services, req, 'action_modify', { uid: a.uid, pack: a.pack });
      // `st2 action enable` sends the whole action back; `st2 action update FILE` sends the file,
      // whose changes Squall must not drop silently while answering 200.
      const current = presentAction(a) as Record<string, unknown>;
      const changed = Object.entries(body as Record<string, unknown>)
        .filter(([k, v]) => k !== 'enabled' && k !== 'id' && !isDeepStrictEqual(v, current[k]))
        .map(([k]) => k);
      if (changed.length > 0) throw fromPackFiles('update', 'action', changed);
      const enabled = (body as { enabled?: boolean }).enabled;
      const updated =
        enabled === undefined ? a : await store.actions.updateOne({ id: a.id }, { $set: { enabled } });
      return presentAction(updated ?? a);
    },
  });
  // st2 stores an action or a policy posted to the API; in Squall both are files of their pack, so
  // these answer st2's error shape with what to do instead (`st2 action create/delete/clone`,
  // `st2 policy create/update/delete`).
  const fromPackFiles = (
    what: 'create' | 'update' | 'delete' | 'clone',
    kind: 'action' | 'policy',
    fields: string[] = [],
  ) => {
    const todo = {
      create: 'Add the file there',
      update: fields.length ? `Edit the file (to change ${fields.join(', ')})` : 'Edit the file',
      delete:
        kind === 'action'
          ? 'Remove the file (or disable the action with `st2 action disable`)'
          : 'Remove the file',
      clone: 'Copy its files into the other pack',
    }[what];
    const file =
      kind === 'action'
        ? 'an action is a metadata file (and entry point) under packs/<pack>/actions/'
        : 'a policy is a metadata file under packs/<pack>/policies/';
    return new SquallError(
      kind === 'action' ? 'ACTIONS_ARE_PACK_FILES' : 'POLICIES_ARE_PACK_FILES',
      `Squall does not ${what} ${kind === 'action' ? 'actions' : 'policies'} through the API: ${file}. ${todo} and run \`st2 pack register <pack>\` (or \`st2 pack install\`).`,
      { operation: what, ...(fields.length ? { fields } : {}) },
      405,
    );
  };
  router.add({
    method: 'post',
    path: '/api/v1/actions',
    summary: 'Not supported (405): actions are pack files; register the pack instead',
    tag: 'actions',
    responses: { 405: 'Always: add the action file to its pack and register the pack.' },
    handler: ({ req }) => {
      authorize(services, req, 'action_create');
      throw fromPackFiles('create', 'action');
    },
  });
  for (const what of ['delete', 'clone'] as const) {
    const todo = what === 'delete' ? 'remove the file' : 'copy them into the other pack';
    router.add({
      method: what === 'delete' ? 'delete' : 'post',
      path: what === 'delete' ? '/api/v1/actions/:ref_or_id' : '/api/v1/actions/:ref_or_id/clone',
      summary: `Not supported (405): actions are pack files; ${todo} and register the pack`,
      tag: 'actions',
      responses: {
        404: 'No such action.',
        405: `The action exists: ${what === 'delete' ? 'remove its file' : 'copy its files'} and register the pack.`,
      },
      handler: async ({ req, params }) => {
        const a = await byRefOrId(store.actions, params.ref_or_id, 'Action');
        const resource = { uid: a.uid, pack: a.pack };
        authorize(services, req, what === 'delete' ? 'action_delete' : 'action_view', resource);
        if (what === 'clone') authorize(services, req, 'action_create');
        throw fromPackFiles(what, 'action');
      },
    });
  }
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
    ...actionList(['pack', 'name', 'ref'], (a) => ({
      ...presentAction(a),
      parameters: (a as { merged_parameters?: unknown }).merged_parameters ?? a.parameters,
    })),
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
      if (!p)
        throw new NotFoundError('Pack', params.ref_or_id, { hint: 'list packs with `squall pack list`' });
      authorize(services, req, 'pack_view', { uid: `pack:${p.ref}`, pack: p.ref });
      return presentPack(p as never);
    },
  });

  // The filters past pack/name/ref are those st2's controllers support (`st2 policy list -r/-pt`).
  for (const [path, coll, perm, key, filters] of [
    ['runnertypes', store.runnerTypes, 'runner_type', 'name', []],
    ['policies', store.policies, 'policy', 'ref', ['resource_ref', 'policy_type']],
    ['sensortypes', store.sensors, 'sensor_type', 'ref', []],
    ['triggertypes', store.triggerTypes, 'trigger', 'ref', []],
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
          ...Object.fromEntries(filters.map((k) => [k, { type: 'string' }])),
        },
      },
      handler: async ({ req, res, query }) => {
        authorize(services, req, `${perm}_list`);
        const filter: Filter = {};
        for (const k of ['pack', 'name', 'ref', ...filters]) if (query[k]) filter[k] = query[k];
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
  for (const [method, what] of [
    ['post', 'create'],
    ['put', 'update'],
    ['delete', 'delete'],
  ] as const) {
    router.add({
      method,
      path: what === 'create' ? '/api/v1/policies' : '/api/v1/policies/:ref_or_id',
      summary: `Not supported (405): policies are pack files; ${what === 'create' ? 'add' : 'edit or remove'} the file and register the pack`,
      tag: 'policies',
      responses: { 405: 'Always: policies are files of their pack.' },
      handler: async ({ req, params }) => {
        if (what !== 'create') {
          const p = await byRefOrId(store.policies as never, params.ref_or_id, 'Policy');
          authorize(services, req, `policy_${what === 'update' ? 'modify' : what}`, {
            uid: String(p.uid),
            pack: p.pack,
          });
        } else authorize(services, req, 'policy_create');
        throw fromPackFiles(what, 'policy');
      },
    });
  }
  router.add({
    method: 'put',
    path: '/api/v1/runnertypes/:name_or_id',
    summary: 'Not supported (405): runners are built into Squall (`st2 runner enable/disable`)',
    tag: 'runnertypes',
    responses: { 404: 'No such runner.', 405: 'The runner exists; disable its actions instead.' },
    handler: async ({ req, params }) => {
      const r = isId(params.name_or_id)
        ? await store.runnerTypes.get(params.name_or_id)
        : await store.runnerTypes.findOne({ name: params.name_or_id });
      if (!r) throw new NotFoundError('Runner', params.name_or_id);
      authorize(services, req, 'runner_type_modify', { uid: `runner_type:${String(r.name)}` });
      throw new SquallError(
        'RUNNERS_ARE_BUILT_IN',
        `Squall does not enable or disable runners: runner "${String(r.name)}" is built in, and those it cannot run are listed with enabled false. Disable the actions that use it instead (\`st2 action disable <ref>\`).`,
        { runner: r.name },
        405,
      );
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/policytypes',
    summary: 'List policy types',
    tag: 'policies',
    query: { type: 'object', properties: { resource_type: { type: 'string' } } },
    handler: ({ req, query }) => {
      authorize(services, req, 'policy_type_list');
      return POLICY_TYPES.filter((t) => !query.resource_type || t.resource_type === query.resource_type);
    },
  });
  router.add({
    method: 'get',
    path: '/api/v1/policytypes/:ref_or_id',
    summary: 'One policy type (st2 `policy-type get`)',
    tag: 'policies',
    handler: ({ req, params }) => {
      const type = POLICY_TYPES.find((t) => t.ref === params.ref_or_id || t.id === params.ref_or_id);
      if (!type) throw new NotFoundError('Policy type', params.ref_or_id);
      authorize(services, req, 'policy_type_view', { uid: `policy_type:${type.resource_type}:${type.name}` });
      return type;
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
