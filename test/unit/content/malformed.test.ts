import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUNDLED_PACKS_DIR,
  loadPacks,
  validatePackDir,
  type ContentProblem,
} from '../../../src/content/index.js';
import { writePack } from './helpers.js';

type Expected = Partial<Pick<ContentProblem, 'severity' | 'code' | 'file' | 'line' | 'column' | 'field'>> & {
  message: RegExp;
};

async function problems(files: Record<string, string>, name?: string): Promise<ContentProblem[]> {
  return validatePackDir(await writePack(files, name));
}

function expectProblem(list: ContentProblem[], e: Expected): void {
  const { message, ...rest } = e;
  expect(list).toContainEqual(
    expect.objectContaining({ severity: 'error', ...rest, message: expect.stringMatching(message) }),
  );
}

const ACTION = (extra: string) => `---
name: a
runner_type: local-shell-cmd
${extra}`;

const RULE = (action: string) =>
  `name: r\nenabled: true\ntrigger:\n  type: core.st2.generic.actiontrigger\naction:\n  ref: ${action}\n`;

describe('malformed packs: each problem names the file, field and reason', () => {
  it('bad YAML syntax is reported with line and column', async () => {
    const ps = await problems({
      'actions/a.yaml': '---\nname: a\nrunner_type: [local-shell-cmd\nparameters: {}\n',
    });
    expectProblem(ps, {
      code: 'YAML_SYNTAX',
      file: 'actions/a.yaml',
      line: 4,
      column: 1,
      message: /invalid YAML/,
    });
  });

  it('bad indentation is reported where it happens', async () => {
    const ps = await problems({ 'rules/r.yaml': 'name: r\n  enabled: true\n' });
    expectProblem(ps, {
      code: 'YAML_SYNTAX',
      file: 'rules/r.yaml',
      line: 2,
      column: 10,
      message: /bad indentation/,
    });
  });

  it('an empty metadata file is not a mapping', async () => {
    const ps = await problems({ 'actions/empty.yaml': '' });
    expectProblem(ps, { code: 'NOT_A_MAPPING', file: 'actions/empty.yaml', message: /empty document/ });
  });

  it('a list instead of a mapping is rejected', async () => {
    const ps = await problems({ 'aliases/l.yaml': '- a\n- b\n' });
    expectProblem(ps, {
      code: 'NOT_A_MAPPING',
      file: 'aliases/l.yaml',
      line: 1,
      column: 1,
      message: /a list/,
    });
  });

  it('action without runner_type', async () => {
    const ps = await problems({ 'actions/a.yaml': 'name: a\ndescription: x\n' });
    expectProblem(ps, {
      code: 'MISSING_FIELD',
      file: 'actions/a.yaml',
      field: 'runner_type',
      line: 1,
      column: 1,
      message: /required field "runner_type" is missing/,
    });
  });

  it('action name of the wrong type', async () => {
    const ps = await problems({ 'actions/a.yaml': 'name: 12\nrunner_type: noop\n' });
    expectProblem(ps, {
      code: 'WRONG_TYPE',
      file: 'actions/a.yaml',
      field: 'name',
      line: 1,
      column: 7,
      message: /must be string, not integer \(12\)/,
    });
  });

  it('unknown runner lists the known ones', async () => {
    const ps = await problems({ 'actions/a.yaml': 'name: a\nrunner_type: foo\n' });
    expectProblem(ps, {
      code: 'UNKNOWN_RUNNER',
      file: 'actions/a.yaml',
      field: 'runner_type',
      line: 2,
      column: 14,
      message: /^unknown runner "foo" \(known: local-shell-cmd, .*orquesta/,
    });
  });

  it('a removed runner is a named warning and the action is not loaded', async () => {
    const dir = await writePack({ 'actions/a.yaml': 'name: a\nrunner_type: windows-cmd\n' });
    const r = await loadPacks([dir]);
    expect(r.problems).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'REMOVED_RUNNER',
        field: 'runner_type',
        message: expect.stringMatching(/winrm-cmd/),
      }),
    ]);
    expect(r.packs[0].actions).toEqual([]);
  });

  it('missing entry_point file: a warning, and the action registers as in st2', async () => {
    const dir = await writePack({
      'actions/a.yaml': 'name: a\nrunner_type: local-shell-script\nentry_point: nope.sh\n',
    });
    const ps = await validatePackDir(dir);
    expect(ps.filter((p) => p.severity === 'error')).toEqual([]);
    const loaded = await loadPacks([BUNDLED_PACKS_DIR + '/core', dir]);
    expect(loaded.packs.find((p) => p.dir === dir)!.actions.map((a) => a.name)).toEqual(['a']);
    expectProblem(ps, {
      severity: 'warning',
      code: 'MISSING_ENTRY_POINT',
      file: 'actions/a.yaml',
      field: 'entry_point',
      line: 3,
      column: 14,
      message: /actions\/nope\.sh does not exist/,
    });
  });

  it('a script runner without entry_point', async () => {
    const ps = await problems({ 'actions/a.yaml': 'name: a\nrunner_type: python-script\n' });
    expectProblem(ps, {
      code: 'MISSING_FIELD',
      file: 'actions/a.yaml',
      field: 'entry_point',
      message: /runner "python-script" needs an entry_point/,
    });
  });

  it('entry_point escaping the pack', async () => {
    const ps = await problems({
      'actions/a.yaml': 'name: a\nrunner_type: nodejs\nentry_point: ../../../etc/passwd\n',
    });
    expectProblem(ps, { code: 'BAD_ENTRY_POINT', field: 'entry_point', message: /points outside the pack/ });
  });

  it('python action whose module is not a .py file', async () => {
    const ps = await problems({
      'actions/a.yaml': 'name: a\nrunner_type: python-script\nentry_point: a.sh\n',
      'actions/a.sh': 'echo',
    });
    expectProblem(ps, { code: 'BAD_ENTRY_POINT', field: 'entry_point', message: /must be a \.py module/ });
  });

  it('orquesta workflow file with bad YAML: reported in the workflow file and on the action', async () => {
    const ps = await problems({
      'actions/wf.yaml': 'name: wf\nrunner_type: orquesta\nentry_point: workflows/wf.yaml\n',
      'actions/workflows/wf.yaml': 'version: 1.0\ntasks:\n  t1:\n    action: core.noop\n   next: []\n',
    });
    expectProblem(ps, {
      code: 'YAML_SYNTAX',
      file: 'actions/workflows/wf.yaml',
      line: 5,
      message: /invalid YAML/,
    });
    expectProblem(ps, {
      code: 'BAD_WORKFLOW',
      file: 'actions/wf.yaml',
      field: 'entry_point',
      message: /workflows\/wf\.yaml is invalid/,
    });
  });

  it('orquesta workflow without tasks', async () => {
    const ps = await problems({
      'actions/wf.yaml': 'name: wf\nrunner_type: orquesta\nentry_point: workflows/wf.yaml\n',
      'actions/workflows/wf.yaml': 'version: 1.0\n',
    });
    expectProblem(ps, {
      code: 'MISSING_FIELD',
      file: 'actions/workflows/wf.yaml',
      field: 'tasks',
      message: /needs "tasks"/,
    });
  });

  it('action chain without chain', async () => {
    const ps = await problems({
      'actions/c.yaml': 'name: c\nrunner_type: action-chain\nentry_point: chains/c.yaml\n',
      'actions/chains/c.yaml': 'default: x\n',
    });
    expectProblem(ps, {
      code: 'MISSING_FIELD',
      file: 'actions/chains/c.yaml',
      field: 'chain',
      message: /needs "chain"/,
    });
  });

  it('overriding the type of a runner parameter', async () => {
    const ps = await problems({ 'actions/a.yaml': ACTION('parameters:\n  timeout:\n    type: string\n') });
    expectProblem(ps, {
      code: 'BAD_PARAMETER_OVERRIDE',
      file: 'actions/a.yaml',
      field: 'parameters.timeout.type',
      line: 6,
      column: 5,
      message:
        /parameter "timeout" overrides attribute "type" of runner "local-shell-cmd" \(runner: "integer", action: "string"\); only default, description, enum, immutable, required/,
    });
  });

  it('adding a position to a runner parameter', async () => {
    const ps = await problems({ 'actions/a.yaml': ACTION('parameters:\n  cmd:\n    position: 0\n') });
    expectProblem(ps, {
      code: 'BAD_PARAMETER_OVERRIDE',
      field: 'parameters.cmd.position',
      message: /overrides attribute "position"/,
    });
  });

  it('parameter with an unknown type', async () => {
    const ps = await problems({ 'actions/a.yaml': ACTION('parameters:\n  p:\n    type: strin\n') });
    expectProblem(ps, {
      code: 'WRONG_TYPE',
      field: 'parameters.p.type',
      line: 6,
      column: 11,
      message: /"strin" matches none of the allowed forms/,
    });
  });

  it('parameter name with a dash', async () => {
    const ps = await problems({ 'actions/a.yaml': ACTION('parameters:\n  my-param:\n    type: string\n') });
    expectProblem(ps, {
      code: 'BAD_NAME',
      field: 'parameters.my-param',
      line: 5,
      column: 3,
      message: /name "my-param" is not allowed/,
    });
  });

  it('parameter required given as a string', async () => {
    const ps = await problems({
      'actions/a.yaml': ACTION('parameters:\n  p:\n    type: string\n    required: "yes"\n'),
    });
    expectProblem(ps, {
      code: 'WRONG_TYPE',
      field: 'parameters.p.required',
      line: 7,
      message: /matches none of the allowed forms/,
    });
  });

  it('negative position', async () => {
    const ps = await problems({
      'actions/a.yaml': ACTION('parameters:\n  p:\n    type: string\n    position: -1\n'),
    });
    expectProblem(ps, {
      code: 'BAD_VALUE',
      field: 'parameters.p.position',
      line: 7,
      column: 15,
      message: /must be >= 0/,
    });
  });

  it('two parameters at the same position', async () => {
    const ps = await problems({
      'actions/a.yaml': ACTION(
        'parameters:\n  p:\n    type: string\n    position: 0\n  q:\n    type: string\n    position: 0\n',
      ),
    });
    expectProblem(ps, {
      code: 'DUPLICATE_POSITION',
      field: 'parameters.q.position',
      line: 10,
      message: /"p" and "q" both have position 0/,
    });
  });

  it('an action default that does not match the parameter type: a warning, registered as in st2', async () => {
    const dir = await writePack({
      'actions/a.yaml': ACTION('parameters:\n  n:\n    type: integer\n    default: ten\n'),
    });
    const ps = await validatePackDir(dir);
    expect(ps.filter((p) => p.severity === 'error')).toEqual([]);
    const loaded = await loadPacks([BUNDLED_PACKS_DIR + '/core', dir]);
    expect(loaded.packs.find((p) => p.dir === dir)!.actions.map((a) => a.name)).toEqual(['a']);
    expectProblem(ps, {
      severity: 'warning',
      code: 'BAD_DEFAULT',
      field: 'parameters.n.default',
      line: 7,
      column: 14,
      message: /default of parameter "n" is invalid: must be integer/,
    });
  });

  it('a misspelt parameter attribute is a warning', async () => {
    const ps = await problems({
      'actions/a.yaml': ACTION('parameters:\n  p:\n    type: string\n    requird: true\n'),
    });
    expect(ps).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        code: 'UNKNOWN_PARAMETER_ATTRIBUTE',
        field: 'parameters.p.requird',
        line: 7,
        column: 5,
      }),
    );
  });

  it('unknown top-level field in an action', async () => {
    const ps = await problems({ 'actions/a.yaml': ACTION('runner: x\n') });
    expectProblem(ps, {
      code: 'UNKNOWN_FIELD',
      field: 'runner',
      line: 4,
      column: 1,
      message: /unknown field "runner" \(allowed: name, pack, description/,
    });
  });

  it('pack field that disagrees with the containing pack', async () => {
    const ps = await problems({ 'actions/a.yaml': ACTION('pack: other\n') });
    expectProblem(ps, {
      code: 'PACK_MISMATCH',
      field: 'pack',
      line: 4,
      column: 7,
      message: /the file is in pack "bad" but its field "pack" says "other"/,
    });
  });

  it('duplicate refs across files of one pack: the file read last defines it, as in st2', async () => {
    // A copy-pasted metadata file that kept its neighbour's name: st2 registers the pack's files
    // in sorted order and updates the record by ref, so the later file's definition stands.
    const dir = await writePack({
      'actions/a.get.yml': ACTION('description: the copy\nentry_point: get.sh\n'),
      'actions/a.update.yaml': ACTION('description: the real one\nentry_point: update.sh\n'),
      'rules/one.yaml': RULE('core.noop'),
      'rules/two.yaml': `description: later\n${RULE('core.local')}`,
    });
    const r = await loadPacks([dir]);
    const pack = r.packs[0];
    expect(pack.actions.map((a) => [a.ref, a.description, a.metadata_file])).toEqual([
      ['bad.a', 'the real one', 'actions/a.update.yaml'],
    ]);
    expect(pack.rules.map((x) => [x.ref, x.description])).toEqual([['bad.r', 'later']]);
    expect(r.problems).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        code: 'DUPLICATE_REF',
        file: 'actions/a.update.yaml',
        field: 'name',
        line: 2,
        column: 7,
        message: expect.stringMatching(
          /action "bad\.a" is also defined in actions\/a\.get\.yml; as in st2, the file read last \(this one\) defines it/,
        ),
      }),
    );
    expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('a config template naming something other than st2kv (the old {{ system.key }}) is reported', async () => {
    const ps = await problems({
      'config.schema.yaml':
        'token:\n  type: string\n  default: "{{system.oauth_token}}"\nurl:\n  type: string\n  default: "https://{{ st2kv.system.host }}"\n',
    });
    const found = ps.filter((p) => p.code === 'CONFIG_TEMPLATE_UNDEFINED');
    expect(found).toEqual([
      expect.objectContaining({
        severity: 'warning',
        file: 'config.schema.yaml',
        field: 'token',
        line: 3,
        message: expect.stringMatching(
          /config value "token" is "\{\{system\.oauth_token\}\}", which names 'system': st2 renders a pack config template with only st2kv/,
        ),
      }),
    ]);
  });

  it('duplicate refs across packs: the second pack is skipped', async () => {
    const one = await writePack({}, 'same');
    const two = await writePack({}, 'same');
    const r = await loadPacks([one, two]);
    expect(r.packs.map((p) => p.dir)).toEqual([one]);
    expect(r.problems).toEqual([
      expect.objectContaining({
        code: 'DUPLICATE_PACK',
        pack: 'same',
        field: 'ref',
        message: expect.stringMatching(/already loaded from/),
      }),
    ]);
  });

  it('duplicate trigger type between triggers/ and a sensor', async () => {
    const ps = await problems({
      'triggers/t.yaml': 'name: ev\n',
      'sensors/s.yaml': 'class_name: S\nentry_point: s.mjs\ntrigger_types:\n  - name: ev\n',
      'sensors/s.mjs': 'export default class S {}',
    });
    expectProblem(ps, {
      code: 'DUPLICATE_REF',
      file: 'sensors/s.yaml',
      message: /trigger type "bad\.ev" is already defined in triggers\/t\.yaml/,
    });
  });

  it('rule naming an unknown trigger type', async () => {
    const ps = await problems({
      'rules/r.yaml':
        'name: r\nenabled: true\ntrigger:\n  type: core.st2.webhooks\naction:\n  ref: core.noop\n',
    });
    expectProblem(ps, {
      code: 'UNKNOWN_TRIGGER_TYPE',
      file: 'rules/r.yaml',
      field: 'trigger.type',
      line: 4,
      column: 9,
      message: /unknown trigger type "core\.st2\.webhooks"/,
    });
  });

  it('rule naming a system trigger without its core. prefix gets a hint', async () => {
    const ps = await problems({
      'rules/r.yaml':
        'name: r\nenabled: true\ntrigger:\n  type: st2.webhook\n  parameters: {url: x}\naction:\n  ref: core.noop\n',
    });
    expectProblem(ps, { code: 'UNKNOWN_TRIGGER_TYPE', message: /did you mean "core\.st2\.webhook"/ });
  });

  it('rule naming an action that is not installed is registered with a warning, as st2 does', async () => {
    const dir = await writePack({
      'rules/r.yaml':
        'name: r\nenabled: true\ntrigger:\n  type: core.st2.webhook\n  parameters: {url: x}\naction:\n  ref: slack.post_message\n',
    });
    const ps = await validatePackDir(dir);
    expectProblem(ps, {
      severity: 'warning',
      code: 'UNKNOWN_ACTION',
      file: 'rules/r.yaml',
      field: 'action.ref',
      line: 7,
      column: 8,
      message: /rule names action "slack\.post_message", which is not installed/,
    });
    expect(ps.filter((p) => p.severity === 'error')).toEqual([]);
    const loaded = await loadPacks([BUNDLED_PACKS_DIR + '/core', dir]);
    expect(loaded.packs.flatMap((p) => p.rules.map((r) => r.action.ref))).toContain('slack.post_message');
  });

  it('optional fields left empty (null) are unset, as st2 validates with allow_default_none', async () => {
    const dir = await writePack({
      'rules/r.yaml':
        'name: r\ndescription:\nenabled: false\ntrigger:\n  type: core.st2.webhook\n  parameters: {url: x}\naction:\n  ref: core.noop\n',
      'actions/a.yaml': ACTION('description: null\ntags:\n'),
      'aliases/x.yaml': 'name: x\ndescription:\naction_ref: core.noop\nformats:\n  - "do it"\n',
    });
    expect(await validatePackDir(dir)).toEqual([]);
    const loaded = await loadPacks([BUNDLED_PACKS_DIR + '/core', dir]);
    const pack = loaded.packs.find((p) => p.dir === dir)!;
    expect(pack.rules.map((r) => r.name)).toEqual(['r']);
    expect(pack.actions.map((a) => a.name)).toEqual(['a']);
    expect(pack.aliases.map((a) => a.name)).toEqual(['x']);
  });

  it('a null where st2 has a default takes the default; a null required field stays an error', async () => {
    // st2's assign_default_values replaces a None by the field's default before validating.
    const dir = await writePack({
      'rules/r.yaml':
        'name: r\nenabled:\ntrigger:\n  type: core.st2.webhook\n  parameters:\n    url: x\naction:\n  ref: core.noop\n  parameters:\n',
      'actions/a.yaml': ACTION('enabled:\nparameters:\n'),
    });
    const loaded = await loadPacks([BUNDLED_PACKS_DIR + '/core', dir]);
    expect(loaded.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const pack = loaded.packs.find((p) => p.dir === dir)!;
    expect(pack.rules[0]).toMatchObject({ enabled: false, action: { ref: 'core.noop', parameters: {} } });
    expect(pack.actions[0]).toMatchObject({ enabled: true, parameters: {} });
    const ps = await problems({
      'rules/r.yaml': 'name: r\nenabled: true\ntrigger:\naction:\n  ref: core.noop\n',
    });
    expectProblem(ps, { code: 'WRONG_TYPE', field: 'trigger', message: /must be object, not null/ });
  });

  it('pack.yaml fields left empty (a bare email:) are unset, as st2 allows', async () => {
    const dir = await writePack(
      {
        'pack.yaml':
          'name: bare\ndescription: d\nversion: 1.0.0\nauthor: a\nemail:\nkeywords:\ncontributors:\n  - someone\n',
      },
      'bare',
    );
    const loaded = await loadPacks([BUNDLED_PACKS_DIR + '/core', dir]);
    expect(loaded.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const pack = loaded.packs.find((p) => p.dir === dir)!;
    expect(pack.pack).toMatchObject({ ref: 'bare', keywords: [], contributors: ['someone'] });
    expect(pack.pack).not.toHaveProperty('email');
  });

  it('rule with trigger parameters the trigger type does not accept', async () => {
    const ps = await problems({
      'rules/r.yaml':
        'name: r\nenabled: true\ntrigger:\n  type: core.st2.IntervalTimer\n  parameters:\n    unit: fortnights\n    delta: 1\naction:\n  ref: core.noop\n',
    });
    expectProblem(ps, {
      code: 'BAD_TRIGGER_PARAMETERS',
      field: 'trigger.parameters.unit',
      line: 6,
      column: 11,
      message: /must be one of "weeks", "days", "hours", "minutes", "seconds", not "fortnights"/,
    });
  });

  it('rule with a timer that can never fire (issue 18: these were registered)', async () => {
    const ps = await problems({
      'rules/r.yaml':
        'name: r\nenabled: true\ntrigger:\n  type: core.st2.CronTimer\n  parameters:\n    minute: "99"\naction:\n  ref: core.noop\n',
      'rules/s.yaml':
        'name: s\nenabled: true\ntrigger:\n  type: core.st2.IntervalTimer\n  parameters:\n    unit: seconds\n    delta: 1e300\naction:\n  ref: core.noop\n',
    });
    expectProblem(ps, {
      code: 'BAD_TRIGGER_PARAMETERS',
      field: 'trigger.parameters.minute',
      line: 6,
      message: /CronTimer field "minute": "99" is out of range/,
    });
    expectProblem(ps, {
      code: 'BAD_TRIGGER_PARAMETERS',
      field: 'trigger.parameters.delta',
      line: 7,
      message: /"delta" must be at most/,
    });
  });

  it('webhook rule without url', async () => {
    const ps = await problems({
      'rules/r.yaml':
        'name: r\nenabled: true\ntrigger:\n  type: core.st2.webhook\naction:\n  ref: core.noop\n',
    });
    expectProblem(ps, {
      code: 'BAD_TRIGGER_PARAMETERS',
      field: 'trigger.parameters.url',
      message: /required field "url" is missing/,
    });
  });

  it('rule with an unknown criteria operator', async () => {
    const ps = await problems({
      'rules/r.yaml':
        'name: r\nenabled: true\ntrigger:\n  type: core.st2.webhook\n  parameters: {url: x}\ncriteria:\n  trigger.body.x:\n    type: equalz\n    pattern: 1\naction:\n  ref: core.noop\n',
    });
    expectProblem(ps, {
      code: 'UNKNOWN_OPERATOR',
      field: 'criteria.trigger.body.x.type',
      line: 8,
      column: 11,
      message: /unknown criteria operator "equalz"/,
    });
  });

  it('rule with a search criterion without condition', async () => {
    const ps = await problems({
      'rules/r.yaml':
        'name: r\nenabled: true\ntrigger:\n  type: core.st2.webhook\n  parameters: {url: x}\ncriteria:\n  trigger.body.items:\n    type: search\n    pattern:\n      item.x: {type: eq, pattern: 1}\naction:\n  ref: core.noop\n',
    });
    expectProblem(ps, {
      code: 'BAD_VALUE',
      field: 'criteria.trigger.body.items.condition',
      message: /operator "search" needs condition any, all, any2any, all2any/,
    });
  });

  it('rule passing a parameter the action does not have, and missing a required one: warnings, as st2 checks them when the rule fires', async () => {
    const ps = await problems({
      'rules/r.yaml':
        'name: r\nenabled: true\ntrigger:\n  type: core.st2.webhook\n  parameters: {url: x}\naction:\n  ref: core.local\n  parameters:\n    command: ls\n',
    });
    expectProblem(ps, {
      severity: 'warning',
      code: 'UNKNOWN_ACTION_PARAMETER',
      field: 'action.parameters.command',
      line: 9,
      column: 5,
      message: /action "core\.local" has no parameter "command"/,
    });
    expectProblem(ps, {
      severity: 'warning',
      code: 'MISSING_ACTION_PARAMETER',
      field: 'action.parameters.cmd',
      message: /action "core\.local" requires parameter "cmd"/,
    });
  });

  it('rule setting an immutable parameter', async () => {
    const ps = await problems({
      'rules/r.yaml':
        'name: r\nenabled: true\ntrigger:\n  type: core.st2.webhook\n  parameters: {url: x}\naction:\n  ref: core.local_sudo\n  parameters:\n    cmd: ls\n    sudo: false\n',
    });
    expectProblem(ps, {
      severity: 'warning',
      code: 'IMMUTABLE_PARAMETER',
      field: 'action.parameters.sudo',
      line: 10,
      message: /parameter "sudo" of action "core\.local_sudo" is immutable/,
    });
  });

  it('rule without trigger', async () => {
    const ps = await problems({ 'rules/r.yaml': 'name: r\naction:\n  ref: core.noop\n' });
    expectProblem(ps, {
      code: 'MISSING_FIELD',
      field: 'trigger',
      line: 1,
      column: 1,
      message: /required field "trigger" is missing/,
    });
  });

  it('rule type other than standard/backstop', async () => {
    const ps = await problems({
      'rules/r.yaml':
        'name: r\ntype:\n  ref: fallback\ntrigger:\n  type: core.st2.webhook\n  parameters: {url: x}\naction:\n  ref: core.noop\n',
    });
    expectProblem(ps, {
      code: 'NOT_ALLOWED_VALUE',
      field: 'type.ref',
      line: 3,
      column: 8,
      message: /must be one of "standard", "backstop", not "fallback"/,
    });
  });

  it('alias naming an action that is not installed is registered with a warning, as st2 does', async () => {
    const dir = await writePack({
      'aliases/x.yaml': 'name: x\naction_ref: core.nothing\nformats:\n  - "do it"\n',
    });
    const ps = await validatePackDir(dir);
    expectProblem(ps, {
      severity: 'warning',
      code: 'UNKNOWN_ACTION',
      file: 'aliases/x.yaml',
      field: 'action_ref',
      line: 2,
      column: 13,
      message: /alias names action "core\.nothing", which is not installed/,
    });
    expect(ps.filter((p) => p.severity === 'error')).toEqual([]);
    const loaded = await loadPacks([BUNDLED_PACKS_DIR + '/core', dir]);
    expect(loaded.packs.flatMap((p) => p.aliases.map((a) => a.action_ref))).toContain('core.nothing');
  });

  it('alias naming parameters the action lacks is registered with a warning for each, as st2 does', async () => {
    const dir = await writePack({
      'aliases/x.yaml':
        'name: x\naction_ref: core.local\nformats:\n  - "run {{command}}"\nimmutable_parameters:\n  shell: zsh\n',
    });
    const ps = await validatePackDir(dir);
    expectProblem(ps, {
      severity: 'warning',
      code: 'UNKNOWN_ALIAS_PARAMETER',
      field: 'formats[0]',
      line: 4,
      column: 5,
      message:
        /names parameter "command", which action "core\.local" does not have .*a command giving "command" is refused/,
    });
    expectProblem(ps, {
      severity: 'warning',
      code: 'UNKNOWN_ALIAS_PARAMETER',
      field: 'immutable_parameters.shell',
      message: /immutable parameter "shell" is not a parameter of action "core\.local"/,
    });
    expect(ps.filter((p) => p.severity === 'error')).toEqual([]);
    const loaded = await loadPacks([BUNDLED_PACKS_DIR + '/core', dir]);
    expect(loaded.packs.flatMap((p) => p.aliases.map((a) => a.ref))).toContain('bad.x');
  });

  it('alias channels (a Squall extension) must be a list of channel ids', async () => {
    const ps = await problems({
      'aliases/x.yaml': 'name: x\naction_ref: core.local\nformats:\n  - "x"\nchannels: C0OPS\n',
      'aliases/y.yaml': 'name: y\naction_ref: core.local\nformats:\n  - "y"\nchannels:\n  - "ops room"\n',
    });
    expectProblem(ps, { code: 'WRONG_TYPE', file: 'aliases/x.yaml', field: 'channels', message: /array/ });
    expectProblem(ps, {
      code: 'BAD_VALUE',
      file: 'aliases/y.yaml',
      field: 'channels[0]',
      message: /pattern/,
    });
    expect(
      await problems({
        'aliases/z.yaml':
          'name: z\naction_ref: core.local\nformats:\n  - "z"\nchannels: [C0OPS, "slack:C0DEV"]\n',
      }),
    ).toEqual([]);
  });

  it('alias with an empty formats list and a bad format object', async () => {
    const ps = await problems({
      'aliases/x.yaml': 'name: x\naction_ref: core.local\nformats: []\n',
      'aliases/y.yaml': 'name: y\naction_ref: core.local\nformats:\n  - display: run\n',
    });
    expectProblem(ps, {
      code: 'BAD_VALUE',
      file: 'aliases/x.yaml',
      field: 'formats',
      line: 3,
      column: 10,
      message: /must NOT have fewer than 1 items/,
    });
    expectProblem(ps, {
      code: 'WRONG_TYPE',
      file: 'aliases/y.yaml',
      field: 'formats[0]',
      line: 4,
      column: 5,
      message: /matches none of the allowed forms/,
    });
  });

  it('policy naming an action that is not installed is registered with a warning, as st2 does', async () => {
    const dir = await writePack({
      'policies/p.yaml':
        'name: p\nresource_ref: bad.missing\npolicy_type: action.concurrency\nparameters:\n  threshold: 1\n',
    });
    const ps = await validatePackDir(dir);
    expect(ps.filter((p) => p.severity === 'error')).toEqual([]);
    const loaded = await loadPacks([BUNDLED_PACKS_DIR + '/core', dir]);
    expect(loaded.packs.find((p) => p.dir === dir)!.policies.map((p) => p.resource_ref)).toEqual([
      'bad.missing',
    ]);
    expectProblem(ps, {
      severity: 'warning',
      code: 'UNKNOWN_ACTION',
      file: 'policies/p.yaml',
      field: 'resource_ref',
      line: 2,
      column: 15,
      message: /policy names action "bad\.missing", which is not installed/,
    });
  });

  it('policy of an unknown type', async () => {
    const ps = await problems({
      'policies/p.yaml': 'name: p\nresource_ref: core.local\npolicy_type: action.throttle\n',
    });
    expectProblem(ps, {
      code: 'UNKNOWN_POLICY_TYPE',
      field: 'policy_type',
      line: 3,
      column: 14,
      message:
        /unknown policy type "action\.throttle" \(known: action\.concurrency, action\.concurrency\.attr, action\.retry\)/,
    });
  });

  it('retry policy with out-of-range parameters', async () => {
    const ps = await problems({
      'policies/p.yaml':
        'name: p\nresource_ref: core.local\npolicy_type: action.retry\nparameters:\n  retry_on: failure\n  max_retry_count: 9\n',
    });
    expectProblem(ps, {
      code: 'BAD_VALUE',
      field: 'parameters.max_retry_count',
      line: 6,
      column: 20,
      message: /must be <= 5/,
    });
  });

  it('concurrency.attr policy partitioning on a parameter the action lacks', async () => {
    const ps = await problems({
      'policies/p.yaml':
        'name: p\nresource_ref: core.local\npolicy_type: action.concurrency.attr\nparameters:\n  threshold: 1\n  attributes: [hostname]\n',
    });
    expectProblem(ps, {
      code: 'UNKNOWN_ACTION_PARAMETER',
      field: 'parameters.attributes[0]',
      line: 6,
      message: /attribute "hostname" is not a parameter of action "core\.local"/,
    });
  });

  it('sensor whose entry point is missing', async () => {
    const ps = await problems({ 'sensors/s.yaml': 'class_name: S\nentry_point: s.py\n' });
    expectProblem(ps, {
      code: 'MISSING_ENTRY_POINT',
      file: 'sensors/s.yaml',
      field: 'entry_point',
      line: 2,
      column: 14,
      message: /sensors\/s\.py does not exist/,
    });
  });

  it('sensor inline trigger type with an invalid payload schema: a warning, registered as in st2', async () => {
    const ps = await problems({
      'sensors/s.yaml':
        'class_name: S\nentry_point: s.mjs\ntrigger_types:\n  - name: ev\n    payload_schema:\n      type: objekt\n',
      'sensors/s.mjs': '',
    });
    expectProblem(ps, {
      severity: 'warning',
      code: 'BAD_SCHEMA',
      field: 'trigger_types[0].payload_schema',
      line: 6,
      column: 7,
      message: /payload_schema is not a valid JSON schema/,
    });
  });

  it('pack.yaml with a name that is not a valid ref and no ref', async () => {
    const ps = await problems(
      { 'pack.yaml': 'name: My Pack\ndescription: d\nversion: 1.0.0\nauthor: a\n' },
      'my_pack',
    );
    expectProblem(ps, {
      code: 'BAD_PACK_REF',
      file: 'pack.yaml',
      field: 'name',
      line: 1,
      column: 7,
      message: /pack name "My Pack" is not a valid ref .*add a "ref" field/,
    });
  });

  it('pack.yaml with an invalid ref, a bad version and a bad email', async () => {
    const ps = await problems(
      { 'pack.yaml': 'ref: My-Pack\nname: x\ndescription: d\nversion: one\nauthor: a\nemail: nope\n' },
      'x',
    );
    expectProblem(ps, {
      code: 'BAD_VALUE',
      field: 'ref',
      line: 1,
      column: 6,
      message: /"My-Pack" must match the pattern/,
    });
    expectProblem(ps, {
      code: 'BAD_VERSION',
      field: 'version',
      line: 4,
      column: 10,
      message: /version "one" is not a valid semantic version/,
    });
    expectProblem(ps, {
      code: 'BAD_VALUE',
      field: 'email',
      line: 6,
      column: 8,
      message: /"nope" is not a valid email/,
    });
  });

  it("a stackstorm_version outside st2's pack.yaml pattern refuses the pack, naming the field, as st2's registration does", async () => {
    // dummy_pack_10 (st2's own fixture: "Failed to register pack"), blanks inside the quotes, and the
    // two spellings st2's install check accepts but its registration refuses.
    for (const [value, line] of [
      ['wrongstackstormversion', 'stackstorm_version: wrongstackstormversion'],
      [' >=3.0.0', 'stackstorm_version: " >=3.0.0"'],
      ['all', 'stackstorm_version: all'],
      ['3.9.0', 'stackstorm_version: "3.9.0"'],
      ['>=3.0.0,<4', 'stackstorm_version: ">=3.0.0,<4"'],
    ]) {
      const dir = await writePack(
        { 'pack.yaml': `name: v\ndescription: d\nversion: 0.1.0\nauthor: a\n${line}\n` },
        'v',
      );
      const loaded = await loadPacks([dir]);
      expect(loaded.packs.map((p) => p.pack.ref)).toEqual([]);
      expectProblem(loaded.problems, {
        code: 'BAD_STACKSTORM_VERSION',
        file: 'pack.yaml',
        field: 'stackstorm_version',
        line: 5,
        message: new RegExp(
          `^stackstorm_version ${JSON.stringify(value).replace(/[.*+?^$()|[\]\\]/g, '\\$&')} is not one or more <op>MAJOR\\.MINOR\\.PATCH .*st2 refuses to register`,
        ),
      });
    }
    // What the Exchange and st2's fixtures give, and spellings the pattern takes.
    for (const value of [
      '>=2.1.0',
      '>=1.6.0, <2.2.0',
      '>=3.0.0,<4.0.0',
      '>=3.0.0,',
      '>= 3.0.0',
      '=3.9.0',
      '>=3.0.0 ',
    ]) {
      const dir = await writePack(
        {
          'pack.yaml': `name: v\ndescription: d\nversion: 0.1.0\nauthor: a\nstackstorm_version: "${value}"\n`,
        },
        'v',
      );
      const loaded = await loadPacks([dir]);
      expect(loaded.problems).toEqual([]);
      expect(loaded.packs.map((p) => [p.pack.ref, p.pack.stackstorm_version])).toEqual([['v', value]]);
    }
  });

  it('pack.yaml missing, and a reserved pack name', async () => {
    const root = await mkdtemp(join(tmpdir(), 'squall-nopack-'));
    const ps = await validatePackDir(root);
    expectProblem(ps, { code: 'MISSING_PACK_YAML', file: 'pack.yaml', message: /pack\.yaml is missing/ });
    const reserved = await problems(
      { 'pack.yaml': 'name: _global\ndescription: d\nversion: 1.0.0\nauthor: a\n' },
      '_global',
    );
    expectProblem(reserved, { code: 'BAD_PACK_REF', message: /"_global" is a reserved name/ });
  });

  it('pack.yaml missing required fields', async () => {
    const ps = await problems({ 'pack.yaml': 'name: x\n' }, 'x');
    for (const f of ['description', 'version', 'author'])
      expectProblem(ps, {
        code: 'MISSING_FIELD',
        file: 'pack.yaml',
        field: f,
        message: new RegExp(`required field "${f}" is missing`),
      });
  });

  it('config violating its schema: wrong type, value not in enum, missing required field', async () => {
    const dir = await writePack({
      'config.schema.yaml':
        'port:\n  type: integer\n  required: true\nmode:\n  type: string\n  enum: [a, b]\ntoken:\n  type: string\n  required: true\n  secret: true\n',
    });
    const configDir = await mkdtemp(join(tmpdir(), 'squall-configs-'));
    await writeFile(join(configDir, 'bad.yaml'), 'port: "80"\nmode: c\n');
    const r = await loadPacks([dir], { configDir });
    const file = join(configDir, 'bad.yaml');
    expectProblem(r.problems, {
      code: 'CONFIG_INVALID',
      file,
      field: 'port',
      line: 1,
      column: 7,
      message: /config does not match config\.schema\.yaml: must be integer, not string/,
    });
    expectProblem(r.problems, {
      code: 'CONFIG_INVALID',
      file,
      field: 'mode',
      line: 2,
      column: 7,
      message: /must be one of "a", "b", not "c"/,
    });
    expectProblem(r.problems, {
      code: 'CONFIG_MISSING_FIELD',
      file,
      field: 'token',
      message: /required field "token" is missing/,
    });
    expect(r.packs[0].config).toBeUndefined();
  });

  it('a dynamic config value passes type checks but a missing required value does not', async () => {
    const dir = await writePack({ 'config.schema.yaml': 'port:\n  type: integer\n  required: true\n' });
    const configDir = await mkdtemp(join(tmpdir(), 'squall-configs-'));
    await writeFile(join(configDir, 'bad.yaml'), 'port: "{{ st2kv.system.port }}"\n');
    const r = await loadPacks([dir], { configDir });
    expect(r.problems).toEqual([]);
    expect(r.packs[0].config?.dynamic_fields).toEqual(['port']);
  });

  it('config.schema.yaml with a bad property definition', async () => {
    const ps = await problems({ 'config.schema.yaml': 'host:\n  type: text\n' });
    expectProblem(ps, {
      code: 'WRONG_TYPE',
      file: 'config.schema.yaml',
      field: 'host.type',
      line: 2,
      column: 9,
      message: /"text" matches none of the allowed forms/,
    });
  });

  it('one bad file does not stop the rest of the pack or other packs', async () => {
    const dir = await writePack({ 'actions/bad.yaml': 'name: [\n', 'actions/good.yaml': ACTION('') });
    const other = await writePack({ 'actions/x.yaml': 'name: x\nrunner_type: noop\n' }, 'other');
    const r = await loadPacks([dir, other, join(BUNDLED_PACKS_DIR, 'core')]);
    expect(r.packs.map((p) => p.ref)).toEqual(['bad', 'other', 'core']);
    expect(r.packs[0].actions.map((a) => a.ref)).toEqual(['bad.a']);
    expect(r.packs[1].actions.map((a) => a.ref)).toEqual(['other.x']);
    expect(r.problems.filter((p) => p.severity === 'error').map((p) => p.file)).toEqual(['actions/bad.yaml']);
  });

  it('a directory that does not exist is a problem, not an exception', async () => {
    const r = await loadPacks(['/nonexistent/squall/pack']);
    expect(r.packs).toEqual([]);
    expect(r.problems).toEqual([
      expect.objectContaining({
        code: 'PACK_NOT_FOUND',
        message: expect.stringMatching(/\/nonexistent\/squall\/pack does not exist/),
      }),
    ]);
  });
});
