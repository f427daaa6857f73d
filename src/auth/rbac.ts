import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PermissionError, SquallError } from '../errors.js';
import { loadYaml } from '../yaml.js';
import type { Filter } from '../store/index.js';
import { splitRef } from '../names.js';

/**
 * RBAC with StackStorm's model (st2-reference.md §10.2): permission types per resource type,
 * resource UIDs, grants in roles, pack inheritance, and the system roles. Every permission
 * decision in Squall goes through `can()`.
 */

/** Permission types per resource type, st2's complete list (§10.2). */
export const PERMISSION_TYPES: Record<string, readonly string[]> = {
  runner_type: ['runner_type_list', 'runner_type_view', 'runner_type_modify', 'runner_type_all'],
  pack: [
    'pack_list',
    'pack_view',
    'pack_create',
    'pack_modify',
    'pack_delete',
    'pack_install',
    'pack_uninstall',
    'pack_register',
    'pack_config',
    'pack_search',
    'pack_views_index_health',
    'pack_all',
  ],
  sensor_type: ['sensor_type_list', 'sensor_type_view', 'sensor_type_modify', 'sensor_type_all'],
  action: [
    'action_list',
    'action_view',
    'action_create',
    'action_modify',
    'action_delete',
    'action_execute',
    'action_all',
  ],
  action_alias: [
    'action_alias_list',
    'action_alias_view',
    'action_alias_create',
    'action_alias_modify',
    'action_alias_match',
    'action_alias_help',
    'action_alias_delete',
    'action_alias_all',
  ],
  execution: [
    'execution_list',
    'execution_view',
    'execution_rerun',
    'execution_stop',
    'execution_all',
    'execution_views_filters_list',
  ],
  rule: ['rule_list', 'rule_view', 'rule_create', 'rule_modify', 'rule_delete', 'rule_all'],
  rule_enforcement: ['rule_enforcement_list', 'rule_enforcement_view'],
  key_value_pair: [
    'key_value_pair_list',
    'key_value_pair_view',
    'key_value_pair_set',
    'key_value_pair_delete',
    'key_value_pair_all',
  ],
  webhook: [
    'webhook_list',
    'webhook_view',
    'webhook_create',
    'webhook_send',
    'webhook_delete',
    'webhook_all',
  ],
  timer: ['timer_list', 'timer_view', 'timer_all'],
  api_key: [
    'api_key_list',
    'api_key_view',
    'api_key_create',
    'api_key_modify',
    'api_key_delete',
    'api_key_all',
  ],
  trace: ['trace_list', 'trace_view', 'trace_all'],
  trigger: ['trigger_list', 'trigger_view', 'trigger_all'],
  policy_type: ['policy_type_list', 'policy_type_view', 'policy_type_all'],
  policy: ['policy_list', 'policy_view', 'policy_create', 'policy_modify', 'policy_delete', 'policy_all'],
  stream: ['stream_view'],
  inquiry: ['inquiry_list', 'inquiry_view', 'inquiry_respond', 'inquiry_all'],
};

export const ALL_PERMISSION_TYPES: readonly string[] = Object.values(PERMISSION_TYPES).flat();
const KNOWN = new Set(ALL_PERMISSION_TYPES);
// Longest first, so `action_alias_list` resolves to action_alias rather than action.
const RESOURCE_TYPES = Object.keys(PERMISSION_TYPES).sort((a, b) => b.length - a.length);

export function isPermissionType(value: string): boolean {
  return KNOWN.has(value);
}

/** The resource type a permission type belongs to (`action_alias_match` → `action_alias`). */
export function resourceTypeOfPermission(permission: string): string | undefined {
  return RESOURCE_TYPES.find((t) => permission.startsWith(`${t}_`));
}

/** The resource type named by a UID (`action:core:local` → `action`). */
export function resourceTypeOfUid(uid: string): string {
  const i = uid.indexOf(':');
  return i < 0 ? uid : uid.slice(0, i);
}

/**
 * What a permission is checked against. `pack` makes pack-level grants apply; `owner` marks
 * per-user resources (API keys, user-scope keys, executions under permission isolation);
 * `parent` is where permissions are inherited from (an execution's or inquiry's action, a rule
 * enforcement's rule).
 */
export interface ResourceRef {
  uid: string;
  pack?: string;
  owner?: string;
  parent?: ResourceRef;
}

export interface PermissionGrant {
  resource_uid?: string;
  permission_types: string[];
}

export interface RoleDefinition {
  name: string;
  description?: string;
  enabled: boolean;
  system: boolean;
  permission_grants: PermissionGrant[];
  /** File the role came from (YAML roles). */
  file?: string;
}

export interface RbacUser {
  name: string;
  roles: readonly string[];
}

const listAndView = ALL_PERMISSION_TYPES.filter(
  (p) => p.endsWith('_list') || p.endsWith('_view') || p === 'execution_views_filters_list',
);

/** Roles that always exist and cannot be redefined by files. */
export const SYSTEM_ROLES: readonly RoleDefinition[] = [
  {
    name: 'system_admin',
    description: 'Full access, including users, roles and API keys of every user.',
    enabled: true,
    system: true,
    permission_grants: [],
  },
  {
    name: 'admin',
    description: 'Full access, including users, roles and API keys of every user.',
    enabled: true,
    system: true,
    permission_grants: [],
  },
  {
    name: 'operator',
    description:
      'Lists and views everything; runs actions, re-runs and stops executions; manages rules, keys, inquiries and own API keys.',
    enabled: true,
    system: true,
    permission_grants: [
      {
        permission_types: [
          ...listAndView,
          'action_execute',
          'action_alias_match',
          'action_alias_help',
          'execution_all',
          'rule_all',
          'key_value_pair_all',
          'inquiry_all',
          'api_key_all',
          'webhook_send',
          'timer_all',
          'trace_all',
          'trigger_all',
        ],
      },
    ],
  },
  {
    name: 'observer',
    description: 'Lists and views everything; changes nothing.',
    enabled: true,
    system: true,
    permission_grants: [{ permission_types: [...listAndView, 'action_alias_help'] }],
  },
];

export const ADMIN_ROLES: readonly string[] = ['admin', 'system_admin'];

export function isAdmin(user: RbacUser): boolean {
  return user.roles.some((r) => ADMIN_ROLES.includes(r));
}

/** Inherited permissions: when the direct check fails, this permission on the parent grants it. */
const INHERITED_FROM_PARENT: Record<string, string> = {
  execution_view: 'action_view',
  execution_list: 'action_list',
  execution_rerun: 'action_execute',
  execution_stop: 'action_execute',
  execution_all: 'action_execute',
  inquiry_view: 'action_view',
  inquiry_list: 'action_list',
  inquiry_respond: 'action_execute',
  rule_enforcement_view: 'rule_view',
  rule_enforcement_list: 'rule_list',
};

/** Resource types whose records belong to one user; only that user and admins may touch them. */
const OWNED_TYPES = new Set(['api_key', 'key_value_pair']);

export interface RbacOptions {
  enable?: boolean;
  permission_isolation?: boolean;
}

/** Roles and settings of one Squall process; `can()` is the decision. */
export class RbacPolicy {
  readonly enabled: boolean;
  readonly permissionIsolation: boolean;
  private readonly roles = new Map<string, RoleDefinition>();

  constructor(roles: readonly RoleDefinition[] = [], options: RbacOptions = {}) {
    this.enabled = options.enable ?? true;
    this.permissionIsolation = options.permission_isolation ?? false;
    for (const r of SYSTEM_ROLES) this.roles.set(r.name, r);
    for (const r of roles) {
      if (this.roles.get(r.name)?.system) {
        throw new SquallError(
          'RBAC_ROLE_INVALID',
          `${r.file ?? 'role'}: "${r.name}" is a system role and cannot be redefined`,
          { role: r.name, file: r.file },
        );
      }
      this.roles.set(r.name, r);
    }
  }

  listRoles(): RoleDefinition[] {
    return [...this.roles.values()];
  }

  getRole(name: string): RoleDefinition | undefined {
    return this.roles.get(name);
  }

  can(user: RbacUser, permission: string, resource?: ResourceRef): boolean {
    if (!KNOWN.has(permission)) {
      throw new SquallError('RBAC_PERMISSION_UNKNOWN', `unknown permission type "${permission}"`, {
        permission,
        known: ALL_PERMISSION_TYPES,
      });
    }
    if (!this.enabled || isAdmin(user)) return true;
    if (resource?.owner !== undefined) {
      const type = resourceTypeOfUid(resource.uid);
      if (resource.owner !== user.name) {
        if (OWNED_TYPES.has(type)) return false;
        if (type === 'execution' && this.permissionIsolation) return false;
      } else if (type === 'key_value_pair') {
        // Users always manage their own user-scope keys (st2 3.x semantics).
        return true;
      }
    }
    return this.granted(user, permission, resource);
  }

  private granted(user: RbacUser, permission: string, resource: ResourceRef | undefined): boolean {
    const type = resourceTypeOfPermission(permission);
    const all = `${type}_all`;
    for (const roleName of user.roles) {
      const role = this.roles.get(roleName);
      if (!role || !role.enabled) continue;
      for (const grant of role.permission_grants) {
        const types = grant.permission_types;
        if (!types.includes(permission) && !types.includes(all)) continue;
        if (grantCovers(grant.resource_uid, resource)) return true;
      }
    }
    const inherited = INHERITED_FROM_PARENT[permission];
    if (inherited && resource?.parent) return this.granted(user, inherited, resource.parent);
    return false;
  }

  /**
   * The one decision on who may see a datastore secret in clear, wherever it is asked for (the
   * REST API's decrypt, Jinja's `decrypt_kv` and `st2kv(..., decrypt)`, the action and sensor
   * datastores): admins (everyone when RBAC is off) any key; anyone else only their own
   * user-scope keys. A value whose key is unknown counts as a system-scope key.
   */
  canDecrypt(user: RbacUser, key: { scope: 'system' | 'user'; owner?: string }): boolean {
    if (!this.enabled || isAdmin(user)) return true;
    return key.scope === 'user' && key.owner === user.name;
  }

  /** Throws st2's 403 when `can()` says no. */
  assertCan(user: RbacUser, permission: string, resource?: ResourceRef): void {
    if (this.can(user, permission, resource)) return;
    const on = resource ? ` on resource "${resource.uid}"` : '';
    throw new PermissionError(`User "${user.name}" doesn't have required permission "${permission}"${on}`, {
      user: user.name,
      permission,
      resource: resource?.uid,
    });
  }

  /** A store filter limiting executions to those the user may see (`rbac.permission_isolation`). */
  executionVisibilityFilter(user: RbacUser): Filter {
    if (!this.enabled || !this.permissionIsolation || isAdmin(user)) return {};
    return { 'context.user': user.name };
  }
}

function grantCovers(grantUid: string | undefined, resource: ResourceRef | undefined): boolean {
  // A grant without a resource is global: it covers every resource of its types.
  if (!grantUid) return true;
  if (!resource) return false;
  if (grantUid === resource.uid) return true;
  // `inquiry:` (or any `<type>:`) means every resource of that type.
  if (grantUid.endsWith(':') && resource.uid.startsWith(grantUid)) return true;
  if (resource.pack && grantUid === `pack:${resource.pack}`) return true;
  return false;
}

// ---- the process-wide policy -------------------------------------------------------------------

let active = new RbacPolicy();

/** Installed by the auth subsystem when it starts; tests may install their own. */
export function setActivePolicy(policy: RbacPolicy): void {
  active = policy;
}

export function activePolicy(): RbacPolicy {
  return active;
}

/** The one permission decision: may `user` do `permission` (on `resource`)? */
export function can(user: RbacUser, permission: string, resource?: ResourceRef): boolean {
  return active.can(user, permission, resource);
}

/** Throws a 403 SquallError with st2's wording when the user lacks the permission. */
export function assertCan(user: RbacUser, permission: string, resource?: ResourceRef): void {
  active.assertCan(user, permission, resource);
}

/** May `user` act for another user (st2's `user` attribute): admins, or anyone while RBAC is off. */
export function actsForOthers(user: RbacUser): boolean {
  return !active.enabled || isAdmin(user);
}

/** Store filter for execution lists: only the user's own when permission isolation is on. */
export function executionVisibilityFilter(user: RbacUser): Filter {
  return active.executionVisibilityFilter(user);
}

// ---- resource UIDs -----------------------------------------------------------------------------

export const uids = {
  pack: (name: string): ResourceRef => ({ uid: `pack:${name}`, pack: name }),
  action: (ref: string): ResourceRef => contentRef('action', ref),
  rule: (ref: string): ResourceRef => contentRef('rule', ref),
  actionAlias: (ref: string): ResourceRef => contentRef('action_alias', ref),
  policy: (ref: string): ResourceRef => contentRef('policy', ref),
  sensorType: (ref: string): ResourceRef => contentRef('sensor_type', ref),
  trigger: (ref: string): ResourceRef => contentRef('trigger', ref),
  runnerType: (name: string): ResourceRef => ({ uid: `runner_type:${name}` }),
  /** An execution inherits from its action (and the action's pack). */
  execution: (id: string, actionRef: string, owner?: string): ResourceRef => {
    const action = contentRef('action', actionRef);
    return { uid: `execution:${id}`, pack: action.pack, owner, parent: action };
  },
  /** An inquiry inherits `inquiry_respond` from `action_execute` on its workflow. */
  inquiry: (id: string, workflowRef?: string): ResourceRef => ({
    uid: `inquiry:${id}`,
    parent: workflowRef ? contentRef('action', workflowRef) : undefined,
  }),
  keyValuePair: (scope: 'system' | 'user', name: string, user?: string): ResourceRef =>
    scope === 'system'
      ? { uid: `key_value_pair:st2kv.system:${name}` }
      : { uid: `key_value_pair:st2kv.user:${user}:${name}`, owner: user },
  apiKey: (id: string, owner: string): ResourceRef => ({ uid: `api_key:${id}`, owner }),
};

function contentRef(type: string, ref: string): ResourceRef {
  const { pack, name } = splitRef(ref);
  return { uid: `${type}:${pack}:${name}`, pack };
}

// ---- definitions on disk -----------------------------------------------------------------------

export interface RoleAssignmentDefinition {
  username: string;
  roles: string[];
  description?: string;
  enabled: boolean;
  file: string;
}

export interface RbacDefinitions {
  roles: RoleDefinition[];
  assignments: RoleAssignmentDefinition[];
}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => path.join(dir, f));
}

function readYaml(file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = loadYaml(readFileSync(file, 'utf8'), { filename: file });
  } catch (err) {
    throw new SquallError('RBAC_FILE_INVALID', `${file}: invalid YAML: ${(err as Error).message}`, { file });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SquallError('RBAC_FILE_INVALID', `${file}: expected a mapping`, { file });
  }
  return doc as Record<string, unknown>;
}

function invalid(file: string, field: string, why: string): SquallError {
  return new SquallError('RBAC_FILE_INVALID', `${file}: ${field}: ${why}`, { file, field });
}

export function parseRole(doc: Record<string, unknown>, file: string): RoleDefinition {
  if (typeof doc.name !== 'string' || !doc.name) throw invalid(file, 'name', 'must be a non-empty string');
  if (doc.enabled !== undefined && typeof doc.enabled !== 'boolean')
    throw invalid(file, 'enabled', 'must be true or false');
  const grantsRaw = doc.permission_grants ?? [];
  if (!Array.isArray(grantsRaw)) throw invalid(file, 'permission_grants', 'must be a list');
  const grants = grantsRaw.map((g, i) => {
    const at = `permission_grants[${i}]`;
    if (!g || typeof g !== 'object') throw invalid(file, at, 'must be a mapping');
    const { resource_uid, permission_types } = g as Record<string, unknown>;
    if (resource_uid !== undefined && typeof resource_uid !== 'string')
      throw invalid(file, `${at}.resource_uid`, 'must be a string');
    if (!Array.isArray(permission_types) || permission_types.length === 0)
      throw invalid(file, `${at}.permission_types`, 'must be a non-empty list');
    for (const p of permission_types) {
      if (typeof p !== 'string' || !KNOWN.has(p))
        throw invalid(file, `${at}.permission_types`, `"${String(p)}" is not a permission type`);
      if (typeof resource_uid === 'string' && resource_uid !== '') {
        const pt = resourceTypeOfPermission(p);
        const rt = resourceTypeOfUid(resource_uid);
        // Pack grants may carry the permission types of the pack's resources.
        if (rt !== 'pack' && pt !== rt)
          throw invalid(
            file,
            `${at}.permission_types`,
            `"${p}" does not apply to resource "${resource_uid}" (a ${rt})`,
          );
      }
    }
    return {
      ...(resource_uid ? { resource_uid: resource_uid as string } : {}),
      permission_types: permission_types as string[],
    };
  });
  return {
    name: doc.name,
    description: typeof doc.description === 'string' ? doc.description : undefined,
    enabled: (doc.enabled as boolean | undefined) ?? true,
    system: false,
    permission_grants: grants,
    file,
  };
}

export function parseAssignment(doc: Record<string, unknown>, file: string): RoleAssignmentDefinition {
  if (typeof doc.username !== 'string' || !doc.username)
    throw invalid(file, 'username', 'must be a non-empty string');
  if (!Array.isArray(doc.roles) || doc.roles.some((r) => typeof r !== 'string'))
    throw invalid(file, 'roles', 'must be a list of role names');
  return {
    username: doc.username,
    roles: doc.roles as string[],
    description: typeof doc.description === 'string' ? doc.description : undefined,
    enabled: doc.enabled === undefined ? true : Boolean(doc.enabled),
    file,
  };
}

/** Reads `<dir>/roles/*.yaml` and `<dir>/assignments/*.yaml` (st2's format). */
export function loadRbacDefinitions(dir: string): RbacDefinitions {
  const roles = yamlFiles(path.join(dir, 'roles')).map((f) => parseRole(readYaml(f), f));
  const seen = new Map<string, string>();
  for (const r of roles) {
    const prev = seen.get(r.name);
    if (prev) throw invalid(r.file!, 'name', `role "${r.name}" is also defined in ${prev}`);
    seen.set(r.name, r.file!);
  }
  const known = new Set([...SYSTEM_ROLES.map((r) => r.name), ...roles.map((r) => r.name)]);
  const assignments = yamlFiles(path.join(dir, 'assignments')).map((f) => parseAssignment(readYaml(f), f));
  for (const a of assignments) {
    for (const r of a.roles) if (!known.has(r)) throw invalid(a.file, 'roles', `role "${r}" is not defined`);
  }
  return { roles, assignments };
}
