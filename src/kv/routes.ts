import type { Request } from 'express';
import { listQuerySchema, pageLimit, type ApiRouter } from '../api/index.js';
import { callerOf, getAuthService, isAdmin, uids, type RbacUser } from '../auth/index.js';
import { PermissionError, SquallError } from '../errors.js';
import type { Services } from '../service/index.js';
import { normaliseScope, type KeyValuePair, type KvScope } from './service.js';
import { getKeyValueService } from './registry.js';

const scopeQuery = {
  type: 'string',
  description: 'system (st2kv.system), user (st2kv.user) or, for lists, all',
};

const pairSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    uid: { type: 'string' },
    name: { type: 'string' },
    value: { type: 'string' },
    secret: { type: 'boolean' },
    encrypted: { type: 'boolean' },
    scope: { type: 'string', enum: ['st2kv.system', 'st2kv.user'] },
    user: { type: 'string' },
    ttl: { type: 'integer' },
    expire_timestamp: { type: 'string' },
  },
  required: ['name', 'value', 'secret', 'scope'],
};

function decryptDenied(user: RbacUser): PermissionError {
  return new PermissionError('Decrypt option requires administrator access', { user: user.name });
}

/** st2 (§8): `GET /keys`, `GET|PUT|DELETE /keys/{name}` with scope, user, decrypt and ttl. */
export function kvRoutes(router: ApiRouter, services: Services): void {
  const kv = () => getKeyValueService(services);
  const policy = () => getAuthService(services).policy;

  const caller = (req: Request) => {
    const c = callerOf(req);
    const user: RbacUser = { name: c.user, roles: c.roles };
    return { user, admin: !policy().enabled || isAdmin(user) };
  };

  /** Whose user-scope keys: the caller's, or (admins only) the named user's. */
  const ownerOf = (user: RbacUser, admin: boolean, requested: unknown): string => {
    if (typeof requested === 'string' && requested !== '' && requested !== user.name) {
      if (!admin) {
        throw new PermissionError(
          `"user" attribute can only be provided by admins when RBAC is enabled (user "${user.name}" asked for keys of "${requested}")`,
          { user: user.name, requested },
        );
      }
      return requested;
    }
    return user.name;
  };

  const notFound = (name: string, scope: KvScope, owner?: string) =>
    new SquallError(
      'NOT_FOUND',
      `Key with name: ${name} and scope: st2kv.${scope}${scope === 'user' ? ` (user ${owner})` : ''} not found!`,
      { name, scope, user: owner },
      404,
    );

  router.add({
    method: 'get',
    path: '/api/v1/keys',
    summary: 'List keys (X-Total-Count has the total); secrets stay ciphertext unless decrypt=true',
    tag: 'keys',
    query: {
      type: 'object',
      properties: {
        prefix: { type: 'string' },
        scope: scopeQuery,
        decrypt: { type: 'boolean' },
        user: { type: 'string' },
        limit: listQuerySchema.limit,
        offset: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      },
    },
    handler: async ({ req, res, query }) => {
      const { user, admin } = caller(req);
      const scope = normaliseScope(query.scope as string | undefined, true);
      const decrypt = query.decrypt === true;
      const owner = ownerOf(user, admin, query.user);
      if (decrypt && !policy().canDecrypt(user, { scope: scope === 'user' ? 'user' : 'system', owner }))
        throw decryptDenied(user);
      const pageSize = services.config.api.max_page_size;
      const limit = pageLimit(req, pageSize) ?? -1;
      const offset = (query.offset as number | undefined) ?? 0;
      const allUsers = admin && scope === 'all' && query.user === undefined;
      const mayListAll = policy().can(user, 'key_value_pair_list');
      let items: KeyValuePair[];
      let total: number;
      if (mayListAll) {
        ({ items, total } = await kv().list({
          prefix: query.prefix as string | undefined,
          scope,
          user: owner,
          allUsers,
          decrypt,
          limit,
          offset,
        }));
      } else {
        // Without a global list grant, only keys the user may view one by one are shown.
        const all = await kv().list({
          prefix: query.prefix as string | undefined,
          scope,
          user: owner,
          decrypt,
        });
        const visible = all.items.filter((i) =>
          policy().can(
            user,
            'key_value_pair_view',
            uids.keyValuePair(i.scope === 'st2kv.user' ? 'user' : 'system', i.name, i.user),
          ),
        );
        total = visible.length;
        items = visible.slice(offset, limit >= 0 ? offset + limit : undefined);
      }
      res.setHeader('X-Total-Count', String(total));
      if (limit >= 0) res.setHeader('X-Limit', String(limit));
      return items;
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/keys/:name',
    summary: 'One key; decrypt=true (admins, or the owner of a user-scope key) returns a secret in clear',
    tag: 'keys',
    query: {
      type: 'object',
      properties: { scope: scopeQuery, user: { type: 'string' }, decrypt: { type: 'boolean' } },
    },
    response: pairSchema,
    handler: async ({ req, params, query }) => {
      const { user, admin } = caller(req);
      const scope = normaliseScope(query.scope as string | undefined);
      const owner = scope === 'user' ? ownerOf(user, admin, query.user) : undefined;
      policy().assertCan(user, 'key_value_pair_view', uids.keyValuePair(scope, params.name, owner));
      const decrypt = query.decrypt === true;
      if (decrypt && !policy().canDecrypt(user, { scope, owner })) throw decryptDenied(user);
      const item = await kv().get(params.name, { scope, user: owner, decrypt });
      if (!item) throw notFound(params.name, scope, owner);
      return item;
    },
  });

  router.add({
    method: 'put',
    path: '/api/v1/keys/:name',
    summary:
      'Create or update a key (secret: encrypt at rest; encrypted: value is already ciphertext; ttl in seconds)',
    tag: 'keys',
    body: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        value: { type: 'string' },
        secret: { type: 'boolean' },
        encrypted: { type: 'boolean' },
        scope: { type: 'string' },
        user: { type: 'string' },
        ttl: { type: 'integer', minimum: 1 },
      },
      required: ['value'],
    },
    response: pairSchema,
    handler: async ({ req, params, body }) => {
      const { user, admin } = caller(req);
      const b = body as {
        name?: string;
        value: string;
        secret?: boolean;
        encrypted?: boolean;
        scope?: string;
        user?: string;
        ttl?: number;
      };
      if (b.name !== undefined && b.name !== params.name) {
        throw new SquallError(
          'KV_NAME_MISMATCH',
          `body name "${b.name}" differs from the URL's key name "${params.name}"`,
          {
            name: params.name,
            bodyName: b.name,
          },
        );
      }
      const scope = normaliseScope(b.scope);
      const owner = scope === 'user' ? ownerOf(user, admin, b.user) : undefined;
      policy().assertCan(user, 'key_value_pair_set', uids.keyValuePair(scope, params.name, owner));
      // A ciphertext copied from a key the caller may not decrypt would become theirs to open.
      if (b.encrypted && !policy().canDecrypt(user, { scope: 'system' })) {
        throw new PermissionError(
          `key "${params.name}": storing a pre-encrypted value (encrypted: true) requires administrator access; send the plaintext with secret: true`,
          { user: user.name, name: params.name },
        );
      }
      return kv().set(params.name, b.value, {
        scope,
        user: owner,
        secret: b.secret,
        encrypted: b.encrypted,
        ttl: b.ttl,
      });
    },
  });

  router.add({
    method: 'delete',
    path: '/api/v1/keys/:name',
    summary: 'Delete a key',
    tag: 'keys',
    status: 204,
    query: { type: 'object', properties: { scope: scopeQuery, user: { type: 'string' } } },
    handler: async ({ req, res, params, query }) => {
      const { user, admin } = caller(req);
      const scope = normaliseScope(query.scope as string | undefined);
      const owner = scope === 'user' ? ownerOf(user, admin, query.user) : undefined;
      policy().assertCan(user, 'key_value_pair_delete', uids.keyValuePair(scope, params.name, owner));
      if (!(await kv().delete(params.name, { scope, user: owner })))
        throw notFound(params.name, scope, owner);
      res.status(204).end();
      return undefined;
    },
  });
}
