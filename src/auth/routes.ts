import type { Request } from 'express';
import type { ApiRouter } from '../api/index.js';
import { NotFoundError, PermissionError, SquallError } from '../errors.js';
import type { Services } from '../service/index.js';
import { AUTH_COOKIE, callerOf, getAuthService } from './authenticate.js';
import { isAdmin, PERMISSION_TYPES, uids, type RbacUser, type RoleDefinition } from './rbac.js';
import { apiKeyView, unauthorized, type AuthService } from './service.js';

const metadataSchema = { type: 'object', additionalProperties: true };

function rbacUser(req: Request): RbacUser {
  const c = callerOf(req);
  return { name: c.user, roles: c.roles };
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header || !/^basic\s+/i.test(header)) return undefined;
  const decoded = Buffer.from(header.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/**
 * Routes of src/auth: tokens (/auth/v1), the current user, API keys, RBAC and users. The
 * authenticator itself reaches the API through the subsystem's `authenticate` (startService).
 */
export function authRoutes(router: ApiRouter, services: Services): void {
  const auth = () => getAuthService(services);

  const requireAdmin = (req: Request, what: string): RbacUser => {
    const user = rbacUser(req);
    if (!auth().policy.enabled || isAdmin(user)) return user;
    throw new PermissionError(
      `User "${user.name}" doesn't have required permission: ${what} needs the admin role`,
      {
        user: user.name,
        what,
      },
    );
  };

  router.add({
    method: 'post',
    path: '/auth/v1/tokens',
    responses: {
      401: 'The credentials (basic auth or API key) are not valid.',
      429: 'Too many failed logins for this user or address (auth.login_throttle); see Retry-After.',
    },
    summary: 'Log in with HTTP basic auth; returns a token (body may carry ttl and metadata)',
    tag: 'auth',
    auth: 'public',
    status: 201,
    handler: async ({ req, res, body }) => {
      const creds = parseBasic(req.headers.authorization);
      if (!creds) throw unauthorized('Invalid or missing credentials', { hint: 'send HTTP basic auth' });
      const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
      if (
        b.metadata !== undefined &&
        (typeof b.metadata !== 'object' || b.metadata === null || Array.isArray(b.metadata))
      ) {
        throw new SquallError('TOKEN_METADATA_INVALID', 'metadata: must be an object', {
          metadata: b.metadata,
        });
      }
      const ttl = b.ttl === undefined || b.ttl === null ? undefined : Number(b.ttl);
      const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
      const audit = { event: 'auth.login', user: creds.user, address };
      try {
        auth().throttle.check(creds.user, address);
      } catch (err) {
        if (err instanceof SquallError && err.status === 429) {
          res.setHeader('Retry-After', String(err.context.retryAfter));
          services.logger.warn({ ...audit, outcome: 'throttled' }, 'login refused: too many failed logins');
        }
        throw err;
      }
      let token: Awaited<ReturnType<AuthService['login']>>;
      try {
        token = await auth().login(creds.user, creds.password, {
          ttl,
          metadata: b.metadata as Record<string, unknown> | undefined,
        });
      } catch (err) {
        if (err instanceof SquallError && err.status === 401) {
          auth().throttle.failed(creds.user, address);
          services.logger.warn(
            { ...audit, outcome: 'failed' },
            'login failed: invalid user name or password',
          );
        }
        throw err;
      }
      auth().throttle.succeeded(creds.user);
      services.logger.info({ ...audit, outcome: 'succeeded' }, 'login');
      const secure = auth().settings.cookie_secure ? '; Secure' : '';
      res.setHeader(
        'Set-Cookie',
        `${AUTH_COOKIE}=${encodeURIComponent(token.token)}; Path=/; HttpOnly; SameSite=Strict; Expires=${new Date(token.expiry).toUTCString()}${secure}`,
      );
      return token;
    },
  });

  router.add({
    method: 'post',
    path: '/auth/v1/tokens/validate',
    summary: 'Tell whether a token is valid',
    tag: 'auth',
    auth: 'public',
    body: { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] },
    response: { type: 'object', properties: { valid: { type: 'boolean' } }, required: ['valid'] },
    handler: async ({ body }) => ({
      valid: Boolean(await auth().validateToken((body as { token: string }).token)),
    }),
  });

  router.add({
    method: 'delete',
    path: '/auth/v1/tokens',
    summary: 'Log out: revoke the token used for this request and clear the web UI cookie',
    tag: 'auth',
    status: 204,
    handler: async ({ req, res }) => {
      const c = callerOf(req);
      const header = req.headers['x-auth-token'];
      const bearer = req.headers.authorization?.replace(/^bearer\s+/i, '');
      const cookie = (req.headers.cookie ?? '').match(new RegExp(`${AUTH_COOKIE}=([^;]+)`))?.[1];
      const token =
        (Array.isArray(header) ? header[0] : header) ?? bearer ?? (cookie && decodeURIComponent(cookie));
      if ((c.method === 'token' || c.method === 'cookie') && token) await auth().revokeToken(token);
      res.setHeader('Set-Cookie', `${AUTH_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      res.status(204).end();
      return undefined;
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/user',
    summary: 'The authenticated user, how they authenticated and their roles',
    tag: 'auth',
    handler: ({ req }) => {
      const c = callerOf(req);
      const policy = auth().policy;
      return {
        username: c.user,
        authentication: { method: c.method, location: 'header' },
        rbac: {
          enabled: policy.enabled,
          roles: c.roles,
          is_admin: !policy.enabled || isAdmin({ name: c.user, roles: c.roles }),
        },
        ...(c.executionId ? { execution_id: c.executionId } : {}),
      };
    },
  });

  // ---- API keys --------------------------------------------------------------------------------

  router.add({
    method: 'get',
    path: '/api/v1/apikeys',
    summary: 'List API keys (yours; admins see everyone’s, or one user’s with ?user=)',
    auth: 'account',
    tag: 'auth',
    query: { type: 'object', properties: { user: { type: 'string' } } },
    handler: async ({ req, query }) => {
      const user = rbacUser(req);
      auth().policy.assertCan(user, 'api_key_list');
      const admin = !auth().policy.enabled || isAdmin(user);
      const who = query.user as string | undefined;
      if (who && who !== user.name && !admin) {
        throw new PermissionError(
          `User "${user.name}" doesn't have required permission "api_key_list" on API keys of user "${who}"`,
          { user: user.name, who },
        );
      }
      return auth().listApiKeys(admin ? who : user.name);
    },
  });

  router.add({
    method: 'post',
    path: '/api/v1/apikeys',
    responses: {
      404: 'The user the key is for does not exist.',
      409: 'An API key with this key_hash (or id) exists already.',
    },
    summary:
      'Create an API key; the key is in this answer only. With key_hash, stores a key made elsewhere (`st2 apikey load`)',
    auth: 'account',
    tag: 'auth',
    status: 201,
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        user: {
          type: 'string',
          description: 'Owner; defaults to the caller (admins may name another user).',
        },
        metadata: metadataSchema,
        enabled: { type: 'boolean' },
        key_hash: {
          type: 'string',
          description: 'sha256 (hex) of a key made elsewhere: the key is stored, none is generated.',
        },
        id: { type: 'string', description: 'With key_hash: the id to keep, when free.' },
        // st2's ApiKey schema, as `st2 apikey list -d -j` exports it; these two are not kept.
        uid: { type: 'string' },
        created_at: { type: 'string' },
      },
    },
    handler: async ({ req, body }) => {
      const user = rbacUser(req);
      const b = (body ?? {}) as {
        user?: string;
        metadata?: Record<string, unknown>;
        enabled?: boolean;
        key_hash?: string;
        id?: string;
      };
      const owner = b.user ?? user.name;
      auth().policy.assertCan(user, 'api_key_create', { uid: 'api_key:', owner });
      if (owner !== user.name && !(await auth().getUser(owner))) throw new NotFoundError('user', owner);
      if (b.key_hash !== undefined) {
        return auth().importApiKey(owner, {
          keyHash: b.key_hash,
          id: b.id,
          metadata: b.metadata,
          enabled: b.enabled,
        });
      }
      return auth().createApiKey(owner, { metadata: b.metadata, enabled: b.enabled });
    },
  });

  const loadKey = async (req: Request, idOrKey: string, permission: string) => {
    const record = await auth().findApiKey(idOrKey);
    if (!record) throw new NotFoundError('API key', idOrKey);
    auth().policy.assertCan(rbacUser(req), permission, uids.apiKey(record.id, record.user));
    return record;
  };

  router.add({
    method: 'get',
    path: '/api/v1/apikeys/:id_or_key',
    summary: 'One API key (by id or by the key itself)',
    auth: 'account',
    tag: 'auth',
    handler: async ({ req, params }) => {
      return apiKeyView(await loadKey(req, params.id_or_key, 'api_key_view'));
    },
  });

  router.add({
    method: 'put',
    path: '/api/v1/apikeys/:id_or_key',
    summary: 'Enable, disable or change the metadata of an API key',
    auth: 'account',
    tag: 'auth',
    body: {
      type: 'object',
      properties: { enabled: { type: 'boolean' }, metadata: metadataSchema },
    },
    handler: async ({ req, params, body }) => {
      const record = await loadKey(req, params.id_or_key, 'api_key_modify');
      const b = body as { enabled?: boolean; metadata?: Record<string, unknown> };
      return auth().updateApiKey(record.id, { enabled: b.enabled, metadata: b.metadata });
    },
  });

  router.add({
    method: 'delete',
    path: '/api/v1/apikeys/:id_or_key',
    summary: 'Delete an API key',
    auth: 'account',
    tag: 'auth',
    status: 204,
    handler: async ({ req, res, params }) => {
      const record = await loadKey(req, params.id_or_key, 'api_key_delete');
      await auth().deleteApiKey(record.id);
      res.status(204).end();
      return undefined;
    },
  });

  // ---- RBAC ------------------------------------------------------------------------------------

  router.add({
    method: 'get',
    path: '/api/v1/rbac/permission_types',
    summary: 'Every permission type, by resource type',
    tag: 'rbac',
    handler: () => PERMISSION_TYPES,
  });

  router.add({
    method: 'get',
    path: '/api/v1/rbac/permission_types/:resource_type',
    summary: 'The permission types of one resource type',
    tag: 'rbac',
    handler: ({ params }) => {
      const list = PERMISSION_TYPES[params.resource_type];
      if (!list)
        throw new NotFoundError('resource type', params.resource_type, {
          known: Object.keys(PERMISSION_TYPES),
        });
      return list;
    },
  });

  const roleView = (r: RoleDefinition) => ({
    id: r.name,
    name: r.name,
    description: r.description ?? '',
    enabled: r.enabled,
    system: r.system,
    permission_grants: r.permission_grants,
  });

  router.add({
    method: 'get',
    path: '/api/v1/rbac/roles',
    summary: 'Roles: the system roles and those defined in rbac/roles/*.yaml',
    tag: 'rbac',
    query: { type: 'object', properties: { system: { type: 'boolean' } } },
    handler: ({ query }) =>
      auth()
        .policy.listRoles()
        .filter((r) => query.system === undefined || r.system === query.system)
        .map(roleView),
  });

  router.add({
    method: 'get',
    path: '/api/v1/rbac/roles/:name',
    summary: 'One role with its permission grants',
    tag: 'rbac',
    handler: ({ params }) => {
      const role = auth().policy.getRole(params.name);
      if (!role) throw new NotFoundError('role', params.name);
      return roleView(role);
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/rbac/role_assignments',
    summary: 'Role assignments (yours; admins see everyone’s)',
    auth: 'account',
    tag: 'rbac',
    query: { type: 'object', properties: { user: { type: 'string' }, role: { type: 'string' } } },
    handler: async ({ req, query }) => {
      const user = rbacUser(req);
      const admin = !auth().policy.enabled || isAdmin(user);
      const who = query.user as string | undefined;
      if (!admin && who && who !== user.name) requireAdmin(req, `listing role assignments of user "${who}"`);
      return auth().listRoleAssignments({
        user: admin ? who : user.name,
        role: query.role as string | undefined,
      });
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/rbac/role_assignments/:id',
    summary: 'One role assignment (id is <user>:<role>)',
    auth: 'account',
    tag: 'rbac',
    handler: async ({ req, params }) => {
      const user = rbacUser(req);
      const found = (await auth().listRoleAssignments()).find((a) => a.id === params.id);
      if (!found) throw new NotFoundError('role assignment', params.id);
      if (found.user !== user.name) requireAdmin(req, 'viewing role assignments of other users');
      return found;
    },
  });

  router.add({
    method: 'post',
    path: '/api/v1/rbac/role_assignments',
    responses: { 409: 'The user already has this role.' },
    summary: 'Give a user a role (admin)',
    auth: 'account',
    tag: 'rbac',
    status: 201,
    body: {
      type: 'object',
      additionalProperties: false,
      properties: { user: { type: 'string', minLength: 1 }, role: { type: 'string', minLength: 1 } },
      required: ['user', 'role'],
    },
    handler: async ({ req, body }) => {
      requireAdmin(req, 'assigning roles');
      const b = body as { user: string; role: string };
      return auth().assignRole(b.user, b.role);
    },
  });

  router.add({
    method: 'delete',
    path: '/api/v1/rbac/role_assignments/:id',
    summary: 'Take a role from a user (admin; id is <user>:<role>)',
    auth: 'account',
    responses: { 409: 'The role comes from a file, or removing it would leave no enabled admin.' },
    tag: 'rbac',
    status: 204,
    handler: async ({ req, res, params }) => {
      requireAdmin(req, 'removing role assignments');
      await auth().unassignRole(params.id);
      res.status(204).end();
      return undefined;
    },
  });

  // ---- users (Squall's flat-file backend, kept in the store) -----------------------------------

  router.add({
    method: 'get',
    path: '/api/v1/users',
    summary: 'List users (admin)',
    auth: 'account',
    tag: 'auth',
    handler: async ({ req }) => {
      requireAdmin(req, 'listing users');
      return auth().listUsers();
    },
  });

  router.add({
    method: 'post',
    path: '/api/v1/users',
    responses: { 409: 'A user with this name exists.' },
    summary: 'Create a user (admin)',
    auth: 'account',
    tag: 'auth',
    status: 201,
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        password: { type: 'string', minLength: 1 },
        roles: { type: 'array', items: { type: 'string' } },
      },
      required: ['name'],
    },
    handler: async ({ req, body }) => {
      requireAdmin(req, 'creating users');
      const b = body as { name: string; password?: string; roles?: string[] };
      return auth().createUser(b.name, { password: b.password, roles: b.roles });
    },
  });

  router.add({
    method: 'put',
    path: '/api/v1/users/:name',
    summary:
      'Change a user’s password, roles or enabled flag (admin; anyone may change their own password with current_password). A new password revokes the user’s tokens',
    auth: 'account',
    responses: { 409: 'The change would leave no enabled admin.' },
    tag: 'auth',
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        password: { type: 'string', minLength: 1 },
        current_password: {
          type: 'string',
          description: 'The password being replaced; required when non-admins change their own',
        },
        enabled: { type: 'boolean' },
        roles: { type: 'array', items: { type: 'string' } },
      },
    },
    handler: async ({ req, params, body }) => {
      const b = body as { password?: string; current_password?: string; enabled?: boolean; roles?: string[] };
      const user = rbacUser(req);
      const admin = !auth().policy.enabled || isAdmin(user);
      const self = user.name === params.name;
      if (!self || b.enabled !== undefined || b.roles !== undefined)
        requireAdmin(req, 'changing other users');
      // Whoever holds a token of the user must not be able to take the account over with it.
      if (
        b.password !== undefined &&
        !admin &&
        !(await auth().checkPassword(params.name, b.current_password))
      ) {
        throw new PermissionError(
          `changing the password of user "${params.name}" needs their current password (current_password) or an admin`,
          { user: params.name },
        );
      }
      return auth().updateUser(params.name, {
        password: b.password,
        enabled: b.enabled,
        roles: b.roles,
      });
    },
  });

  router.add({
    method: 'delete',
    path: '/api/v1/users/:name',
    summary: 'Delete a user with their tokens and API keys (admin)',
    auth: 'account',
    responses: { 409: 'The user is the configured admin (auth.admin_username) or the last enabled admin.' },
    tag: 'auth',
    status: 204,
    handler: async ({ req, res, params }) => {
      requireAdmin(req, 'deleting users');
      await auth().deleteUser(params.name);
      res.status(204).end();
      return undefined;
    },
  });
}
