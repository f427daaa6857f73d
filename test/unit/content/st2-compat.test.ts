import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_PACKS_DIR, formatProblem, loadPacks } from '../../../src/content/index.js';

const FIXTURE = resolve('test/fixtures/packs/st2_compat');
const CONFIGS = resolve('test/fixtures/packs/_configs');

describe('a pack in StackStorm format (st2_compat fixture)', async () => {
  const result = await loadPacks([resolve(BUNDLED_PACKS_DIR, 'core'), FIXTURE], { configDir: CONFIGS });
  const pack = result.packs.find((p) => p.ref === 'st2_compat')!;

  it('registers with zero errors and exactly two named warnings for removed and unsupported runners', () => {
    expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(result.problems.map((p) => [p.code, p.file, p.line, p.column, p.field])).toEqual([
      ['REMOVED_RUNNER', 'actions/mistral_action.yaml', 3, 14, 'runner_type'],
      ['UNSUPPORTED_RUNNER', 'actions/winrm_action.yaml', 3, 14, 'runner_type'],
    ]);
    expect(formatProblem(result.problems[0], resolve('.'))).toMatch(
      /^test\/fixtures\/packs\/st2_compat\/actions\/mistral_action\.yaml:3:14: warning: runner_type: runner "mistral-v2" was removed from StackStorm: Mistral/,
    );
    // As st2 does, an action of a recognised runner Squall does not run is registered.
    expect(pack.skipped.map((s) => s.ref)).toEqual(['st2_compat.mistral_action']);
    expect(pack.actions.find((a) => a.ref === 'st2_compat.winrm_action')).toMatchObject({
      runner_type: 'winrm-cmd',
    });
  });

  it('reads pack.yaml with an explicit ref for a display name', () => {
    expect(pack.pack).toMatchObject({
      ref: 'st2_compat',
      name: 'StackStorm compat',
      version: '0.3.1',
      uid: 'pack:st2_compat',
      python_versions: ['3'],
    });
  });

  it('loads an action of every runner with computed ref, uid and metadata_file', () => {
    expect(pack.actions.map((a) => a.runner_type).sort()).toEqual(
      [
        'action-chain',
        'announcement',
        'http-request',
        'inquirer',
        'local-shell-cmd',
        'local-shell-script',
        'nodejs',
        'noop',
        'orquesta',
        'python-script',
        'remote-shell-cmd',
        'remote-shell-script',
        'winrm-cmd',
      ].sort(),
    );
    const script = pack.actions.find((a) => a.name === 'local_script')!;
    expect(script).toMatchObject({
      ref: 'st2_compat.local_script',
      uid: 'action:st2_compat:local_script',
      metadata_file: 'actions/local_script.yaml',
      pack_dir: FIXTURE,
      entry_point: 'script.sh',
      entry_point_path: resolve(FIXTURE, 'actions/script.sh'),
    });
    expect(pack.actions.find((a) => a.name === 'noop_action')!.enabled).toBe(false);
  });

  it('merges runner parameters under the action parameters', () => {
    const cmd = pack.actions.find((a) => a.name === 'local_cmd')!;
    expect(cmd.merged_parameters.cmd).toMatchObject({
      type: 'string',
      default: 'echo {{ msg }}',
      immutable: true,
    });
    expect(cmd.merged_parameters.timeout).toMatchObject({ type: 'integer', default: 30 });
    expect(cmd.merged_parameters.sudo).toMatchObject({ type: 'boolean', default: false });
    expect(cmd.parameters).not.toHaveProperty('sudo');
    const remote = pack.actions.find((a) => a.name === 'remote_cmd')!;
    expect(remote.merged_parameters.hosts).toMatchObject({ required: true, default: 'localhost' });
  });

  it('loads rules, aliases, policies, sensors and trigger types (standalone and inline)', () => {
    expect(pack.rules.map((r) => r.ref).sort()).toEqual([
      'st2_compat.sensor_rule',
      'st2_compat.standalone_rule',
      'st2_compat.timer',
      'st2_compat.webhook',
    ]);
    const timer = pack.rules.find((r) => r.name === 'timer')!;
    expect(timer).toMatchObject({
      enabled: false,
      type: { ref: 'backstop' },
      trigger: { type: 'core.st2.CronTimer' },
      uid: 'rule:st2_compat:timer',
    });
    expect(pack.aliases[0]).toMatchObject({
      ref: 'st2_compat.run_local',
      uid: 'action_alias:st2_compat:run_local',
      immutable_parameters: { flag: true },
    });
    expect(pack.policies.map((p) => p.policy_type).sort()).toEqual([
      'action.concurrency',
      'action.concurrency.attr',
      'action.retry',
    ]);
    expect(pack.sensors.map((s) => [s.ref, s.language, s.enabled, s.trigger_types])).toEqual([
      ['st2_compat.JsSensor', 'javascript', false, ['st2_compat.js_event']],
      ['st2_compat.PySensor', 'python', true, ['st2_compat.py_event']],
    ]);
    expect(pack.trigger_types.find((t) => t.ref === 'st2_compat.py_event')).toMatchObject({
      source: 'st2_compat.PySensor',
      uid: 'trigger_type:st2_compat:py_event',
    });
  });

  it('validates the pack config: defaults applied, secrets listed, dynamic values kept as templates', () => {
    expect(pack.config).toEqual({
      values: {
        api_url: 'https://api.example.com',
        api_token: '{{ st2kv.system.compat_token | decrypt_kv }}',
        retries: 3,
        region: 'eu',
        options: { password: 'hunter2', verbose: false },
      },
      secret_fields: ['api_token', 'options.password'],
      dynamic_fields: ['api_token'],
      file: resolve(CONFIGS, 'st2_compat.yaml'),
    });
  });
});
