/**
 * POST, PUT and DELETE /api/v1/actionalias (st2's ActionAliasController): `st2 action-alias
 * create FILE / update / delete`. An alias made here is a store record, not a pack file: `st2 pack
 * register` leaves it alone (it has no metadata_file), as st2 keeps aliases created through its API.
 */
import type { Request } from 'express';
import { authorize, requestUser, type ApiRouter, type RouteSpec } from '../api/index.js';
import type { AliasRecord as AliasDraft } from './types.js';
import { unsetNullOptionals, validateKind } from './validate.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { isId, newId } from '../ids.js';
import type { Services } from '../service/index.js';
import type { AliasRecord, Store } from '../store/index.js';

type Obj = Record<string, unknown>;

/** Fields a body may carry that the alias keeps when given (the rest take st2's defaults). */
const OPTIONAL = ['description', 'ack', 'result', 'channels'] as const;

/**
 * Checks an alias as st2client sends it (the JSON of the alias YAML file) with the schema pack
 * files are loaded with, so a problem is named by its field as `squall pack validate` names it.
 * st2's ActionAliasAPI requires `pack` too; the action is not looked up, as st2 does not.
 */
export function validateAliasBody(body: unknown, source: string): AliasDraft {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ValidationError(
      `${source}: expected an action alias object (name, pack, action_ref, formats, ...)`,
      {
        source,
      },
    );
  const data = structuredClone(body) as Obj;
  // GET answers carry pack_dir (ref, uid, id and metadata_file the schema already ignores): an
  // alias read with `st2 action-alias get -j`, edited and sent back is not refused for it.
  delete data.pack_dir;
  unsetNullOptionals('alias', data);
  const problems = validateKind('alias', data).map((v) => ({ field: v.field, message: v.message }));
  if (data.pack === undefined) problems.push({ field: 'pack', message: 'required field "pack" is missing' });
  else if (data.pack === '') problems.push({ field: 'pack', message: 'must name a pack, not be empty' });
  if (problems.length)
    throw new ValidationError(
      `${source} is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      { source, errors: problems },
    );
  const pack = String(data.pack);
  const name = String(data.name);
  const draft: AliasDraft = {
    name,
    pack,
    ref: `${pack}.${name}`,
    uid: `action_alias:${pack}:${name}`,
    metadata_file: '',
    pack_dir: '',
    enabled: data.enabled !== false,
    action_ref: String(data.action_ref),
    formats: data.formats as AliasDraft['formats'],
    extra: (data.extra as Obj | undefined) ?? {},
    immutable_parameters: (data.immutable_parameters as Obj | undefined) ?? {},
  };
  for (const k of OPTIONAL) if (data[k] !== undefined) (draft as unknown as Obj)[k] = data[k];
  return draft;
}

async function findAlias(store: Store, refOrId: string): Promise<AliasRecord> {
  const found =
    (await store.aliases.findOne({ ref: refOrId })) ??
    (isId(refOrId) ? await store.aliases.get(refOrId) : null);
  if (!found)
    throw new NotFoundError('Action alias', refOrId, { hint: 'list aliases with `st2 action-alias list`' });
  return found;
}

/** `aliasChanged` runs after each change, before the answer (this process's chat re-reads its aliases). */
export function aliasWriteRoutes(
  router: ApiRouter,
  services: Services,
  aliasChanged?: () => Promise<void>,
): void {
  const { store } = services;
  /** The alias named in the path, once the caller may `permission` it. */
  const allowed = (permission: string) => async (req: Request, refOrId: string) => {
    const alias = await findAlias(store, refOrId);
    authorize(services, req, permission, { uid: alias.uid, pack: alias.pack });
    return alias;
  };
  const modifiable = allowed('action_alias_modify');
  const deletable = allowed('action_alias_delete');
  const changed = async (op: 'create' | 'update' | 'delete', alias: AliasRecord, req: Request) => {
    await aliasChanged?.();
    // Other processes reload their chat aliases on this event.
    services.bus.publish(`st2.actionalias__${op}`, alias);
    services.logger.info({ op, alias: alias.ref, user: requestUser(req).name }, `action alias ${op}d`);
  };
  const taken = (ref: string) =>
    new ConflictError(`Action alias "${ref}" already exists; update it with PUT /api/v1/actionalias/${ref}`, {
      ref,
    });

  const create: RouteSpec['handler'] = async ({ req, body }) => {
    const draft = validateAliasBody(body, 'action alias');
    authorize(services, req, 'action_alias_create', { uid: draft.uid, pack: draft.pack });
    if (await store.aliases.findOne({ ref: draft.ref })) throw taken(draft.ref);
    const alias = { ...draft, id: newId() } as AliasRecord;
    try {
      await store.aliases.insert(alias);
    } catch (err) {
      if (err instanceof ConflictError) throw taken(draft.ref);
      throw err;
    }
    await changed('create', alias, req);
    return alias;
  };

  const replace: RouteSpec['handler'] = async ({ req, params, body }) => {
    const existing = await modifiable(req, params.ref_or_id);
    const draft = validateAliasBody(
      { pack: existing.pack, ...(body as Obj) },
      `action alias ${existing.ref}`,
    );
    if (draft.ref !== existing.ref && (await store.aliases.findOne({ ref: draft.ref })))
      throw new ConflictError(
        `cannot rename action alias "${existing.ref}" to "${draft.ref}": that alias exists`,
        {
          ref: draft.ref,
        },
      );
    // An alias of a pack file stays the file's (the next `st2 pack register` restores the file's).
    const origin: Obj = {};
    if (draft.ref === existing.ref)
      for (const k of ['metadata_file', 'pack_dir']) if (existing[k] !== undefined) origin[k] = existing[k];
    const alias = { ...draft, ...origin, id: existing.id } as AliasRecord;
    await store.aliases.replace(alias);
    await changed('update', alias, req);
    return alias;
  };

  const remove: RouteSpec['handler'] = async ({ req, params }) => {
    const alias = await deletable(req, params.ref_or_id);
    await store.aliases.deleteOne({ id: alias.id });
    await changed('delete', alias, req);
    return undefined;
  };

  const one = '/api/v1/actionalias/:ref_or_id';
  const anAlias = { type: 'object' };
  for (const spec of [
    {
      method: 'post',
      path: '/api/v1/actionalias',
      status: 201,
      body: anAlias,
      handler: create,
      summary:
        'Create an action alias (the JSON of an alias YAML file, as `st2 action-alias create FILE` sends it)',
    },
    {
      method: 'put',
      path: one,
      body: anAlias,
      handler: replace,
      summary: 'Replace an action alias (as created)',
    },
    { method: 'delete', path: one, status: 204, handler: remove, summary: 'Delete an action alias' },
  ] as const)
    router.add({ ...spec, tag: 'actionalias' });
}
