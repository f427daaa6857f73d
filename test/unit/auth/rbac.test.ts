import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ALL_PERMISSION_TYPES,
  PERMISSION_TYPES,
  RbacPolicy,
  loadRbacDefinitions,
  parseRole,
  resourceTypeOfPermission,
  uids,
} from '../../../src/auth/index.js';
import { tempDir } from '../../support/servers.js';

const admin = { name: 'alice', roles: ['admin'] };
const operator = { name: 'oscar', roles: ['operator'] };
const observer = { name: 'olga', roles: ['observer'] };
const nobody = { name: 'nina', roles: [] as string[] };

const localAction = uids.action('core.local');

describe('permission types', () => {
  it('lists st2 permission types per resource type', () => {
    expect(PERMISSION_TYPES.action).toContain('action_execute');
    expect(PERMISSION_TYPES.inquiry).toEqual([
      'inquiry_list',
      'inquiry_view',
      'inquiry_respond',
      'inquiry_all',
    ]);
    expect(ALL_PERMISSION_TYPES).toContain('stream_view');
    expect(ALL_PERMISSION_TYPES).toContain('pack_views_index_health');
    expect(ALL_PERMISSION_TYPES).toHaveLength(new Set(ALL_PERMISSION_TYPES).size);
  });

  it('resolves the resource type of a permission by its longest prefix', () => {
    expect(resourceTypeOfPermission('action_alias_match')).toBe('action_alias');
    expect(resourceTypeOfPermission('rule_enforcement_view')).toBe('rule_enforcement');
    expect(resourceTypeOfPermission('policy_type_list')).toBe('policy_type');
    expect(resourceTypeOfPermission('action_execute')).toBe('action');
  });

  it('refuses to decide on an unknown permission type', () => {
    expect(() => new RbacPolicy().can(admin, 'action_fly')).toThrow(/unknown permission type "action_fly"/);
  });
});

describe('system roles', () => {
  const policy = new RbacPolicy();

  it('admin may do everything', () => {
    for (const p of ALL_PERMISSION_TYPES) expect(policy.can(admin, p, localAction)).toBe(true);
    expect(policy.can(admin, 'api_key_delete', uids.apiKey('k1', 'someone-else'))).toBe(true);
  });

  it('observer lists and views but changes nothing', () => {
    expect(policy.can(observer, 'action_list')).toBe(true);
    expect(policy.can(observer, 'action_view', localAction)).toBe(true);
    expect(policy.can(observer, 'execution_view', uids.execution('e1', 'core.local'))).toBe(true);
    expect(policy.can(observer, 'key_value_pair_view', uids.keyValuePair('system', 'k'))).toBe(true);
    expect(policy.can(observer, 'action_execute', localAction)).toBe(false);
    expect(policy.can(observer, 'rule_create')).toBe(false);
    expect(policy.can(observer, 'key_value_pair_set', uids.keyValuePair('system', 'k'))).toBe(false);
    expect(policy.can(observer, 'inquiry_respond', uids.inquiry('i1'))).toBe(false);
    expect(policy.can(observer, 'api_key_create', { uid: 'api_key:', owner: 'olga' })).toBe(false);
  });

  it('operator executes actions and manages rules, keys and inquiries, but not content or packs', () => {
    expect(policy.can(operator, 'action_execute', localAction)).toBe(true);
    expect(policy.can(operator, 'execution_stop', uids.execution('e1', 'core.local'))).toBe(true);
    expect(policy.can(operator, 'rule_create', uids.rule('examples.r1'))).toBe(true);
    expect(policy.can(operator, 'key_value_pair_delete', uids.keyValuePair('system', 'k'))).toBe(true);
    expect(policy.can(operator, 'inquiry_respond', uids.inquiry('i1'))).toBe(true);
    expect(policy.can(operator, 'action_create', localAction)).toBe(false);
    expect(policy.can(operator, 'pack_install', uids.pack('core'))).toBe(false);
  });

  it('operator manages only their own API keys', () => {
    expect(policy.can(operator, 'api_key_create', { uid: 'api_key:', owner: 'oscar' })).toBe(true);
    expect(policy.can(operator, 'api_key_delete', uids.apiKey('k1', 'oscar'))).toBe(true);
    expect(policy.can(operator, 'api_key_view', uids.apiKey('k2', 'alice'))).toBe(false);
    expect(policy.can(operator, 'api_key_create', { uid: 'api_key:', owner: 'alice' })).toBe(false);
  });

  it('a user without roles may do nothing except own user-scope keys', () => {
    expect(policy.can(nobody, 'action_list')).toBe(false);
    expect(policy.can(nobody, 'key_value_pair_view', uids.keyValuePair('system', 'k'))).toBe(false);
    expect(policy.can(nobody, 'key_value_pair_set', uids.keyValuePair('user', 'k', 'nina'))).toBe(true);
    expect(policy.can(nobody, 'key_value_pair_view', uids.keyValuePair('user', 'k', 'olga'))).toBe(false);
  });

  it('nobody but admins reads another user’s user-scope key, even with a global grant', () => {
    expect(policy.can(operator, 'key_value_pair_view', uids.keyValuePair('user', 'token', 'alice'))).toBe(
      false,
    );
  });

  it('with RBAC disabled everyone may do everything', () => {
    const off = new RbacPolicy([], { enable: false });
    expect(off.can(nobody, 'pack_install', uids.pack('core'))).toBe(true);
  });
});

describe('custom roles, grants and inheritance', () => {
  const role = (name: string, grants: Array<{ resource_uid?: string; permission_types: string[] }>) =>
    parseRole({ name, permission_grants: grants }, `/rbac/roles/${name}.yaml`);

  const policy = new RbacPolicy([
    role('pack_runner', [
      { resource_uid: 'pack:examples', permission_types: ['action_execute', 'action_view'] },
    ]),
    role('local_only', [{ resource_uid: 'action:core:local', permission_types: ['action_execute'] }]),
    role('all_actions_of_linux', [{ resource_uid: 'pack:linux', permission_types: ['action_all'] }]),
    role('responder', [{ resource_uid: 'inquiry:', permission_types: ['inquiry_respond'] }]),
    role('rule_viewer', [{ resource_uid: 'rule:examples:r1', permission_types: ['rule_view'] }]),
    role('secret_reader', [
      { resource_uid: 'key_value_pair:st2kv.system:db_password', permission_types: ['key_value_pair_view'] },
    ]),
  ]);
  const u = (...roles: string[]) => ({ name: 'carol', roles });

  it('a pack grant applies to the actions of that pack only', () => {
    expect(policy.can(u('pack_runner'), 'action_execute', uids.action('examples.hello'))).toBe(true);
    expect(policy.can(u('pack_runner'), 'action_execute', uids.action('core.local'))).toBe(false);
    expect(policy.can(u('pack_runner'), 'action_delete', uids.action('examples.hello'))).toBe(false);
  });

  it('an action grant applies to that action only', () => {
    expect(policy.can(u('local_only'), 'action_execute', uids.action('core.local'))).toBe(true);
    expect(policy.can(u('local_only'), 'action_execute', uids.action('core.remote'))).toBe(false);
  });

  it('action_all implies every action permission', () => {
    expect(policy.can(u('all_actions_of_linux'), 'action_delete', uids.action('linux.wait_for_ssh'))).toBe(
      true,
    );
    expect(policy.can(u('all_actions_of_linux'), 'rule_create', uids.rule('linux.r'))).toBe(false);
  });

  it('action_execute grants re-running and stopping its executions, and viewing needs action_view', () => {
    const ex = uids.execution('e1', 'core.local', 'someone');
    expect(policy.can(u('local_only'), 'execution_rerun', ex)).toBe(true);
    expect(policy.can(u('local_only'), 'execution_stop', ex)).toBe(true);
    expect(policy.can(u('local_only'), 'execution_view', ex)).toBe(false);
    expect(policy.can(u('pack_runner'), 'execution_view', uids.execution('e2', 'examples.hello'))).toBe(true);
    expect(policy.can(u('local_only'), 'execution_stop', uids.execution('e3', 'core.remote'))).toBe(false);
  });

  it('inquiry_respond comes from inquiry: or from action_execute on the workflow', () => {
    expect(policy.can(u('responder'), 'inquiry_respond', uids.inquiry('i1', 'examples.approve_wf'))).toBe(
      true,
    );
    expect(policy.can(u('pack_runner'), 'inquiry_respond', uids.inquiry('i1', 'examples.approve_wf'))).toBe(
      true,
    );
    expect(policy.can(u('pack_runner'), 'inquiry_respond', uids.inquiry('i2', 'core.other_wf'))).toBe(false);
    expect(policy.can(u('responder'), 'inquiry_view', uids.inquiry('i1'))).toBe(false);
  });

  it('rule enforcements inherit from their rule', () => {
    const enforcement = { uid: 'rule_enforcement:x', parent: uids.rule('examples.r1') };
    expect(policy.can(u('rule_viewer'), 'rule_enforcement_view', enforcement)).toBe(true);
    expect(
      policy.can(u('rule_viewer'), 'rule_enforcement_view', {
        uid: 'rule_enforcement:y',
        parent: uids.rule('examples.r2'),
      }),
    ).toBe(false);
  });

  it('a key grant applies to that key', () => {
    expect(
      policy.can(u('secret_reader'), 'key_value_pair_view', uids.keyValuePair('system', 'db_password')),
    ).toBe(true);
    expect(policy.can(u('secret_reader'), 'key_value_pair_view', uids.keyValuePair('system', 'other'))).toBe(
      false,
    );
    expect(
      policy.can(u('secret_reader'), 'key_value_pair_set', uids.keyValuePair('system', 'db_password')),
    ).toBe(false);
  });

  it('roles add up; unknown and disabled roles grant nothing', () => {
    expect(policy.can(u('local_only', 'responder'), 'inquiry_respond', uids.inquiry('i'))).toBe(true);
    expect(policy.can(u('no_such_role'), 'action_list')).toBe(false);
    const disabled = new RbacPolicy([
      { ...role('d', [{ permission_types: ['action_list'] }]), enabled: false },
    ]);
    expect(disabled.can(u('d'), 'action_list')).toBe(false);
  });

  it('assertCan throws st2’s 403 wording', () => {
    expect(() => policy.assertCan(u('pack_runner'), 'action_execute', uids.action('core.local'))).toThrow(
      'User "carol" doesn\'t have required permission "action_execute" on resource "action:core:local"',
    );
    try {
      policy.assertCan(u(), 'action_list');
    } catch (err) {
      expect(err).toMatchObject({
        status: 403,
        code: 'FORBIDDEN',
        context: { user: 'carol', permission: 'action_list' },
      });
    }
    expect.assertions(2);
  });
});

describe('permission isolation', () => {
  it('limits non-admins to their own executions', () => {
    const isolated = new RbacPolicy([], { permission_isolation: true });
    expect(isolated.executionVisibilityFilter(operator)).toEqual({ 'context.user': 'oscar' });
    expect(isolated.executionVisibilityFilter(admin)).toEqual({});
    expect(isolated.can(operator, 'execution_view', uids.execution('e1', 'core.local', 'alice'))).toBe(false);
    expect(isolated.can(operator, 'execution_view', uids.execution('e1', 'core.local', 'oscar'))).toBe(true);
    expect(new RbacPolicy().executionVisibilityFilter(operator)).toEqual({});
  });
});

describe('definitions on disk', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  const dir = () => {
    const t = tempDir('squall-rbac-');
    cleanups.push(t.cleanup);
    mkdirSync(path.join(t.dir, 'roles'));
    mkdirSync(path.join(t.dir, 'assignments'));
    return t.dir;
  };

  it('reads st2-format roles and assignments', () => {
    const d = dir();
    writeFileSync(
      path.join(d, 'roles', 'deployers.yaml'),
      `---\nname: deployers\ndescription: run deploys\nenabled: true\npermission_grants:\n  - resource_uid: pack:deploy\n    permission_types: [action_execute, action_view]\n  - permission_types: [action_list]\n`,
    );
    writeFileSync(path.join(d, 'assignments', 'dave.yaml'), `username: dave\nroles: [deployers, observer]\n`);
    const defs = loadRbacDefinitions(d);
    expect(defs.roles[0]).toMatchObject({
      name: 'deployers',
      system: false,
      permission_grants: [{ resource_uid: 'pack:deploy' }, { permission_types: ['action_list'] }],
    });
    expect(defs.assignments[0]).toMatchObject({
      username: 'dave',
      roles: ['deployers', 'observer'],
      enabled: true,
    });
    const policy = new RbacPolicy(defs.roles);
    expect(
      policy.can({ name: 'dave', roles: ['deployers'] }, 'action_execute', uids.action('deploy.app')),
    ).toBe(true);
  });

  it('names the file and field of a bad permission type', () => {
    const d = dir();
    const file = path.join(d, 'roles', 'bad.yaml');
    writeFileSync(
      file,
      `name: bad\npermission_grants:\n  - resource_uid: pack:x\n    permission_types: [action_fly]\n`,
    );
    expect(() => loadRbacDefinitions(d)).toThrow(
      `${file}: permission_grants[0].permission_types: "action_fly" is not a permission type`,
    );
  });

  it('rejects a permission that does not fit the resource', () => {
    const d = dir();
    writeFileSync(
      path.join(d, 'roles', 'r.yaml'),
      `name: r\npermission_grants:\n  - resource_uid: "action:core:local"\n    permission_types: [rule_view]\n`,
    );
    expect(() => loadRbacDefinitions(d)).toThrow(
      /"rule_view" does not apply to resource "action:core:local"/,
    );
  });

  it('rejects assignments to unknown roles and redefinitions of system roles', () => {
    const d = dir();
    const file = path.join(d, 'assignments', 'e.yaml');
    writeFileSync(file, `username: erin\nroles: [ghost]\n`);
    expect(() => loadRbacDefinitions(d)).toThrow(`${file}: roles: role "ghost" is not defined`);
    expect(() => new RbacPolicy([parseRole({ name: 'admin' }, 'admin.yaml')])).toThrow(
      /"admin" is a system role/,
    );
  });
});
