import { ConflictError, NotFoundError, SquallError } from '../errors.js';
import { isId, newId } from '../ids.js';
import type { Services } from '../service/index.js';
import type { ApiKeyRecord, TokenRecord, UserRecord } from '../store/index.js';
import { authSettings, rbacSettings, type AuthSettings } from './config.js';
import {
  isAdmin,
  loadRbacDefinitions,
  RbacPolicy,
  type RbacDefinitions,
  type RbacUser,
  type RoleAssignmentDefinition,
} from './rbac.js';
import { generatePassword, hashPassword, randomSecret, sha256, verifyPassword } from './secrets.js';
import { InitialAdminPassword } from './initial-password.js';
import { LoginThrottle } from './throttle.js';
import type { AuthContext } from './types.js';

/** st2's token shape (`POST /auth/v1/tokens`). */
export interface TokenResponse {
  id: string;
  user: string;
  token: string;
  expiry: string;
  metadata: Record<string, unknown>;
}

export interface ApiKeyView {
  id: string;
  user: string;
  key_hash: string;
  enabled: boolean;
  created_at: string;
  metadata: Record<string, unknown>;
  uid: string;
}

export interface UserView {
  name: string;
  roles: string[];
  enabled: boolean;
  created_at?: string;
}

export interface RoleAssignmentView {
  id: string;
  user: string;
  role: string;
  description?: string;
  is_remote: boolean;
  source: string;
}

const USERNAME = /^[A-Za-z0-9_.@+-]{1,128}$/;

export function unauthorized(message: string, context: Record<string, unknown> = {}): SquallError {
  return new SquallError('UNAUTHORIZED', `Unauthorized - ${message}`, context, 401);
}

/**
 * Users, passwords, tokens (login and per-execution), API keys and role assignments. Credentials
 * are stored only as hashes: scrypt for passwords, sha256 for tokens and API keys.
 */
export class AuthService {
  readonly settings: AuthSettings;
  readonly throttle: LoginThrottle;
  policy: RbacPolicy;
  private definitions: RbacDefinitions = { roles: [], assignments: [] };

  constructor(private readonly services: Services) {
    this.settings = authSettings(services.config);
    this.throttle = new LoginThrottle(this.settings.login_throttle);
    this.policy = new RbacPolicy([], rbacSettings(services.config));
  }

  private get store() {
    return this.services.store;
  }

  /** (Re)reads roles and assignments from `<data_dir>/rbac` (st2-apply-rbac-definitions). */
  loadDefinitions(): RbacDefinitions {
    const settings = rbacSettings(this.services.config);
    this.definitions = loadRbacDefinitions(settings.definitions_dir);
    this.policy = new RbacPolicy(this.definitions.roles, settings);
    return this.definitions;
  }

  // ---- users -----------------------------------------------------------------------------------

  /**
   * Creates the admin on first start. Without a configured password one is generated, printed in
   * `startupNotes` and kept in `<data_dir>/keys/initial-admin-password` until the admin changes it;
   * later starts name that file while it still holds the admin's password.
   */
  async ensureAdmin(): Promise<{ created: boolean; password?: string }> {
    const name = this.settings.admin_username;
    const initial = new InitialAdminPassword(this.services.config.data_dir);
    const existing = await this.store.users.findOne({ name });
    if (existing) {
      if (!existing.roles.includes('admin')) {
        await this.store.users.updateOne({ name }, { $addToSet: { roles: 'admin' } });
      }
      const kept = initial.read();
      if (kept !== undefined) {
        if (await verifyPassword(kept, existing.password_hash)) {
          this.note(
            `log in as ${name} with the generated password in ${initial.file} (kept until you change it)`,
          );
        } else initial.remove(); // changed since, by another process or an older Squall
      }
      return { created: false };
    }
    const generated = this.settings.admin_password === undefined;
    const password = this.settings.admin_password ?? generatePassword();
    const staged = generated ? initial.stage(password) : undefined;
    try {
      await this.createUser(name, { password, roles: ['admin'] });
    } catch (err) {
      staged?.discard();
      // Another process created it first.
      if (err instanceof ConflictError) return { created: false };
      throw err;
    }
    if (staged) {
      staged.commit();
      this.note(`log in as ${name} / ${password} — also in ${initial.file} until you change it`);
    }
    this.services.logger.info({ user: name, generatedPassword: generated }, 'created the admin user');
    return { created: true, password: generated ? password : undefined };
  }

  private note(line: string): void {
    this.services.startupNotes ??= [];
    this.services.startupNotes.push(line);
  }

  async createUser(name: string, opts: { password?: string; roles?: string[] } = {}): Promise<UserView> {
    if (!USERNAME.test(name)) {
      throw new SquallError(
        'USER_NAME_INVALID',
        `user name "${name}" is invalid: use 1-128 letters, digits and _ . @ + -`,
        { name },
      );
    }
    this.checkRoles(opts.roles ?? []);
    if (await this.store.users.findOne({ name })) {
      throw new ConflictError(`user "${name}" already exists`, { name });
    }
    const record: UserRecord = {
      id: newId(),
      name,
      roles: [...new Set(opts.roles ?? [])],
      enabled: true,
      created_at: new Date().toISOString(),
      ...(opts.password !== undefined ? { password_hash: await hashPassword(opts.password) } : {}),
    };
    await this.store.users.insert(record);
    return userView(record);
  }

  async updateUser(
    name: string,
    changes: { password?: string; enabled?: boolean; roles?: string[] },
  ): Promise<UserView> {
    const set: Record<string, unknown> = {};
    if (changes.password !== undefined) set.password_hash = await hashPassword(changes.password);
    if (changes.enabled !== undefined) set.enabled = changes.enabled;
    if (changes.roles !== undefined) {
      this.checkRoles(changes.roles);
      set.roles = [...new Set(changes.roles)];
    }
    if (changes.roles !== undefined || changes.enabled === false)
      await this.assertAdminRemains(name, { roles: changes.roles, enabled: changes.enabled });
    const updated = await this.store.users.updateOne({ name }, { $set: set });
    if (!updated) throw new NotFoundError('user', name);
    // A new password ends every login of the user (execution tokens end with their executions).
    if (changes.password !== undefined) {
      await this.store.tokens.deleteMany({ user: name, 'metadata.execution_id': { $exists: false } });
      if (name === this.settings.admin_username)
        new InitialAdminPassword(this.services.config.data_dir).remove();
    }
    return userView(updated);
  }

  async deleteUser(name: string): Promise<void> {
    if (name === this.settings.admin_username) {
      throw new SquallError(
        'USER_PROTECTED',
        `user "${name}" is the configured admin (auth.admin_username) and cannot be deleted`,
        { name },
        409,
      );
    }
    await this.assertAdminRemains(name, { deleted: true });
    if (!(await this.store.users.deleteOne({ name }))) throw new NotFoundError('user', name);
    await this.store.tokens.deleteMany({ user: name });
    await this.store.apiKeys.deleteMany({ user: name });
  }

  async listUsers(): Promise<UserView[]> {
    return (await this.store.users.find({}, { sort: { name: 1 } })).map(userView);
  }

  async getUser(name: string): Promise<UserView | null> {
    const u = await this.store.users.findOne({ name });
    return u ? userView(u) : null;
  }

  private checkRoles(roles: string[]): void {
    for (const r of roles) {
      if (!this.policy.getRole(r)) {
        throw new SquallError(
          'RBAC_ROLE_UNKNOWN',
          `role "${r}" does not exist`,
          {
            role: r,
            known: this.policy.listRoles().map((x) => x.name),
          },
          400,
        );
      }
    }
  }

  /**
   * Refuses a change to `name` (new roles, disabled, deleted) that would leave no enabled user
   * with an admin role: nobody could then manage users or roles until a restart.
   */
  private async assertAdminRemains(
    name: string,
    change: { roles?: string[]; enabled?: boolean; deleted?: boolean },
  ): Promise<void> {
    const target = await this.store.users.findOne({ name });
    if (!target?.enabled || !isAdmin({ name, roles: await this.effectiveRoles(name, target.roles) })) return;
    const users = await this.store.users.find({ enabled: true });
    let remaining = 0;
    for (const u of users) {
      if (u.name === name && (change.deleted || change.enabled === false)) continue;
      const stored = u.name === name && change.roles !== undefined ? change.roles : u.roles;
      if (isAdmin({ name: u.name, roles: await this.effectiveRoles(u.name, stored) })) remaining++;
    }
    if (remaining > 0) return;
    throw new SquallError(
      'LAST_ADMIN',
      `user "${name}" is the last enabled admin: this change would leave nobody able to manage users and roles; give another user the admin role first`,
      { user: name },
      409,
    );
  }

  /** The user's stored roles plus the enabled file assignments naming them. */
  async effectiveRoles(name: string, stored?: string[]): Promise<string[]> {
    const base = stored ?? (await this.store.users.findOne({ name }))?.roles ?? [];
    const fromFiles = this.definitions.assignments
      .filter((a) => a.enabled && a.username === name)
      .flatMap((a) => a.roles);
    return [...new Set([...base, ...fromFiles])];
  }

  /**
   * The user a background job acts as, with their effective roles. The system user
   * (`rules.system_user`, stanley) runs rules and sensors and is an admin, as in st2.
   */
  async actingUser(name: string): Promise<RbacUser> {
    const roles = await this.effectiveRoles(name);
    const system = this.services.config.rules?.system_user ?? 'stanley';
    return { name, roles: name === system ? [...roles, 'system_admin'] : roles };
  }

  /** Whether `password` is the user's current password. */
  async checkPassword(name: string, password: string | undefined): Promise<boolean> {
    if (password === undefined) return false;
    const user = await this.store.users.findOne({ name });
    return (await verifyPassword(password, user?.password_hash)) && Boolean(user);
  }

  // ---- tokens ----------------------------------------------------------------------------------

  /** Checks a username and password (HTTP basic auth) and issues a token. */
  async login(
    username: string,
    password: string,
    opts: { ttl?: number; metadata?: Record<string, unknown> } = {},
  ): Promise<TokenResponse> {
    const user = await this.store.users.findOne({ name: username });
    // The password is checked even for a disabled or unknown user: the answer's time must not
    // tell them apart from a wrong password.
    const ok = (await verifyPassword(password, user?.password_hash)) && user?.enabled;
    if (!ok) {
      throw unauthorized('Invalid or missing credentials', { user: username });
    }
    if (opts.ttl !== undefined) {
      if (!Number.isInteger(opts.ttl) || opts.ttl <= 0) {
        throw new SquallError(
          'TOKEN_TTL_INVALID',
          `ttl: must be a positive whole number of seconds, got ${String(opts.ttl)}`,
          { ttl: opts.ttl },
        );
      }
      if (opts.ttl > this.settings.token_ttl) {
        throw new SquallError(
          'TOKEN_TTL_INVALID',
          `ttl: requested ${opts.ttl} s exceeds the maximum token lifetime of ${this.settings.token_ttl} s (auth.token_ttl)`,
          { ttl: opts.ttl, max: this.settings.token_ttl },
        );
      }
    }
    return this.issueToken(username, opts.ttl ?? this.settings.token_ttl, opts.metadata ?? {});
  }

  async issueToken(
    user: string,
    ttlSeconds: number,
    metadata: Record<string, unknown> = {},
  ): Promise<TokenResponse> {
    const token = randomSecret();
    const record: TokenRecord = {
      id: newId(),
      token_hash: sha256(token),
      user,
      expiry: new Date(Date.now() + ttlSeconds * 1000).toISOString(),
      metadata,
      created_at: new Date().toISOString(),
    };
    await this.store.tokens.insert(record);
    return { id: record.id, user, token, expiry: record.expiry, metadata };
  }

  /** The token's record when it exists and has not expired. */
  async validateToken(token: string): Promise<TokenRecord | null> {
    if (!token) return null;
    const record = await this.store.tokens.findOne({ token_hash: sha256(token) });
    if (!record) return null;
    if (record.expiry <= new Date().toISOString()) return null;
    return record;
  }

  async revokeToken(token: string): Promise<boolean> {
    return this.store.tokens.deleteOne({ token_hash: sha256(token) });
  }

  /**
   * A temporary token for one execution (st2's ST2_ACTION_AUTH_TOKEN), acting as `user`; revoke
   * it when the execution ends.
   */
  async issueExecutionToken(executionId: string, user: string): Promise<string> {
    const issued = await this.issueToken(user, this.settings.service_token_ttl, {
      execution_id: executionId,
      service: true,
    });
    return issued.token;
  }

  async revokeExecutionToken(executionId: string): Promise<number> {
    return this.store.tokens.deleteMany({ 'metadata.execution_id': executionId });
  }

  async purgeExpiredTokens(): Promise<number> {
    return this.store.tokens.deleteMany({ expiry: { $lte: new Date().toISOString() } });
  }

  // ---- API keys --------------------------------------------------------------------------------

  /** Creates an API key; the key itself is returned here and never again. */
  async createApiKey(
    user: string,
    opts: { metadata?: Record<string, unknown>; enabled?: boolean } = {},
  ): Promise<ApiKeyView & { key: string }> {
    const key = randomSecret();
    const record: ApiKeyRecord = {
      id: newId(),
      key_hash: sha256(key),
      user,
      enabled: opts.enabled ?? true,
      created_at: new Date().toISOString(),
      metadata: opts.metadata ?? {},
    };
    await this.store.apiKeys.insert(record);
    return { ...apiKeyView(record), key };
  }

  /**
   * Stores an API key known only by its hash, as `st2 apikey load` brings keys exported from
   * another st2 or Squall (st2 hashes keys with sha256 too, so they keep working here). The id is
   * kept when it is one of ours and free.
   */
  async importApiKey(
    user: string,
    opts: { keyHash: string; id?: string; metadata?: Record<string, unknown>; enabled?: boolean },
  ): Promise<ApiKeyView> {
    const keyHash = opts.keyHash.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(keyHash)) {
      throw new SquallError(
        'API_KEY_HASH_INVALID',
        "key_hash: must be the 64 hex digits of the key's sha256, as `st2 apikey list -d` shows it",
        { key_hash: opts.keyHash },
      );
    }
    if (await this.store.apiKeys.findOne({ key_hash: keyHash })) {
      throw new ConflictError('An API key with this key_hash exists already', { key_hash: keyHash });
    }
    const id = opts.id !== undefined && isId(opts.id) ? opts.id : newId();
    if (await this.store.apiKeys.get(id)) {
      throw new ConflictError(`An API key with id "${id}" exists already`, { id });
    }
    const record: ApiKeyRecord = {
      id,
      key_hash: keyHash,
      user,
      enabled: opts.enabled ?? true,
      created_at: new Date().toISOString(),
      metadata: opts.metadata ?? {},
    };
    await this.store.apiKeys.insert(record);
    return apiKeyView(record);
  }

  /** Finds an API key by its id or by the key itself. */
  async findApiKey(idOrKey: string): Promise<ApiKeyRecord | null> {
    if (isId(idOrKey)) {
      const byId = await this.store.apiKeys.get(idOrKey);
      if (byId) return byId;
    }
    return this.store.apiKeys.findOne({ key_hash: sha256(idOrKey) });
  }

  async listApiKeys(user?: string): Promise<ApiKeyView[]> {
    const rows = await this.store.apiKeys.find(user ? { user } : {}, { sort: { created_at: 1 } });
    return rows.map(apiKeyView);
  }

  async updateApiKey(
    id: string,
    changes: { enabled?: boolean; metadata?: Record<string, unknown> },
  ): Promise<ApiKeyView> {
    const set: Record<string, unknown> = {};
    if (changes.enabled !== undefined) set.enabled = changes.enabled;
    if (changes.metadata !== undefined) set.metadata = changes.metadata;
    const updated = Object.keys(set).length
      ? await this.store.apiKeys.updateOne({ id }, { $set: set })
      : await this.store.apiKeys.get(id);
    if (!updated) throw new NotFoundError('API key', id);
    return apiKeyView(updated);
  }

  async deleteApiKey(id: string): Promise<void> {
    if (!(await this.store.apiKeys.deleteOne({ id }))) throw new NotFoundError('API key', id);
  }

  // ---- credentials → caller --------------------------------------------------------------------

  async contextForToken(token: string, method: 'token' | 'cookie' = 'token'): Promise<AuthContext> {
    const record = await this.validateToken(token);
    if (!record) throw unauthorized('Token has expired or is invalid.', { method });
    const user = await this.store.users.findOne({ name: record.user });
    if (user && !user.enabled)
      throw unauthorized(`User "${record.user}" is disabled.`, { user: record.user });
    const executionId = (record.metadata as Record<string, unknown> | undefined)?.execution_id;
    return {
      user: record.user,
      roles: await this.effectiveRoles(record.user, user?.roles),
      method: typeof executionId === 'string' ? 'execution_token' : method,
      ...(typeof executionId === 'string' ? { executionId } : {}),
    };
  }

  async contextForApiKey(key: string): Promise<AuthContext> {
    const record = await this.store.apiKeys.findOne({ key_hash: sha256(key) });
    if (!record) throw unauthorized('API key is invalid.', { method: 'api_key' });
    if (!record.enabled) throw unauthorized(`API key "${record.id}" is disabled.`, { id: record.id });
    const user = await this.store.users.findOne({ name: record.user });
    if (user && !user.enabled)
      throw unauthorized(`User "${record.user}" is disabled.`, { user: record.user });
    return {
      user: record.user,
      roles: await this.effectiveRoles(record.user, user?.roles),
      method: 'api_key',
    };
  }

  // ---- role assignments ------------------------------------------------------------------------

  async listRoleAssignments(filter: { user?: string; role?: string } = {}): Promise<RoleAssignmentView[]> {
    const out: RoleAssignmentView[] = [];
    const users = await this.store.users.find(filter.user ? { name: filter.user } : {}, {
      sort: { name: 1 },
    });
    for (const u of users) {
      for (const role of u.roles) {
        out.push({ id: assignmentId(u.name, role), user: u.name, role, is_remote: false, source: 'API' });
      }
    }
    for (const a of this.definitions.assignments) {
      if (!a.enabled || (filter.user && a.username !== filter.user)) continue;
      for (const role of a.roles) out.push(fileAssignment(a, role));
    }
    return filter.role ? out.filter((a) => a.role === filter.role) : out;
  }

  async assignRole(user: string, role: string): Promise<RoleAssignmentView> {
    this.checkRoles([role]);
    const existing = await this.store.users.findOne({ name: user });
    if (!existing) {
      // A user known only to an external backend may still be given roles.
      await this.createUser(user, { roles: [role] });
    } else {
      if (existing.roles.includes(role)) {
        throw new ConflictError(`user "${user}" already has role "${role}"`, { user, role });
      }
      await this.store.users.updateOne({ name: user }, { $addToSet: { roles: role } });
    }
    return { id: assignmentId(user, role), user, role, is_remote: false, source: 'API' };
  }

  async unassignRole(id: string): Promise<void> {
    const parsed = parseAssignmentId(id);
    if (!parsed) {
      throw new SquallError(
        'ROLE_ASSIGNMENT_ID_INVALID',
        `role assignment id "${id}" is not of the form <user>:<role>`,
        { id },
      );
    }
    const { user, role } = parsed;
    const current = await this.store.users.findOne({ name: user });
    if (current?.roles.includes(role))
      await this.assertAdminRemains(user, { roles: current.roles.filter((r) => r !== role) });
    if (this.definitions.assignments.some((a) => a.username === user && a.roles.includes(role))) {
      throw new SquallError(
        'ROLE_ASSIGNMENT_FROM_FILE',
        `role "${role}" of user "${user}" comes from a file under rbac/assignments; edit that file instead`,
        { id },
        409,
      );
    }
    const updated = await this.store.users.updateOne({ name: user, roles: role }, { $pull: { roles: role } });
    if (!updated) throw new NotFoundError('role assignment', id);
  }
}

export function assignmentId(user: string, role: string): string {
  return `${user}:${role}`;
}

function parseAssignmentId(id: string): { user: string; role: string } | null {
  const i = id.lastIndexOf(':');
  if (i <= 0 || i === id.length - 1) return null;
  return { user: id.slice(0, i), role: id.slice(i + 1) };
}

function fileAssignment(a: RoleAssignmentDefinition, role: string): RoleAssignmentView {
  return {
    id: assignmentId(a.username, role),
    user: a.username,
    role,
    description: a.description,
    is_remote: false,
    source: a.file,
  };
}

function userView(u: UserRecord): UserView {
  return {
    name: u.name,
    roles: u.roles,
    enabled: u.enabled,
    ...(typeof u.created_at === 'string' ? { created_at: u.created_at } : {}),
  };
}

export function apiKeyView(r: ApiKeyRecord): ApiKeyView {
  return {
    id: r.id,
    uid: `api_key:${r.key_hash}`,
    user: r.user,
    key_hash: r.key_hash,
    enabled: r.enabled,
    created_at: r.created_at,
    metadata: (r.metadata as Record<string, unknown>) ?? {},
  };
}
