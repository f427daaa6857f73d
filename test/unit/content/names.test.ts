import { describe, expect, it } from 'vitest';
import { validatePackDir, loadPacks, BUNDLED_PACKS_DIR } from '../../../src/content/index.js';
import { nameProblem, splitRef } from '../../../src/names.js';
import { resolve } from 'node:path';
import { writePack } from './helpers.js';

/** A pack shaped like Exchange packs that use dotted names (slack's chat.postMessage, hello_st2's greet.concurrency). */
const DOTTED: Record<string, string> = {
  'actions/chat.postMessage.yaml': `---
name: chat.postMessage
runner_type: local-shell-cmd
parameters:
  cmd:
    default: echo posted
`,
  'aliases/pack.install.yaml': `---
name: pack.install
action_ref: dotted.chat.postMessage
formats:
  - "post it"
`,
  'policies/greet.concurrency.yaml': `---
name: greet.concurrency
resource_ref: dotted.chat.postMessage
policy_type: action.concurrency
parameters:
  threshold: 1
`,
  'rules/on.hook.yaml': `---
name: on.hook
enabled: true
trigger:
  type: core.st2.webhook
  parameters:
    url: dotted
action:
  ref: dotted.chat.postMessage
`,
};

describe('dotted names (st2 splits a ref at its first dot)', () => {
  it('registers dotted actions, aliases, policies and rules under <pack>.<name> without a problem', async () => {
    const dir = await writePack(DOTTED, 'dotted');
    const result = await loadPacks([resolve(BUNDLED_PACKS_DIR, 'core'), dir]);
    expect(result.problems.filter((p) => p.pack === 'dotted')).toEqual([]);
    const pack = result.packs.find((p) => p.ref === 'dotted')!;
    expect(pack.actions.map((a) => [a.ref, a.name, a.uid])).toEqual([
      ['dotted.chat.postMessage', 'chat.postMessage', 'action:dotted:chat.postMessage'],
    ]);
    expect(pack.aliases.map((a) => a.ref)).toEqual(['dotted.pack.install']);
    expect(pack.policies.map((p) => [p.ref, p.resource_ref])).toEqual([
      ['dotted.greet.concurrency', 'dotted.chat.postMessage'],
    ]);
    expect(pack.rules.map((r) => r.ref)).toEqual(['dotted.on.hook']);
  });

  it('splitRef cuts at the first dot only', () => {
    expect(splitRef('slack.chat.postMessage')).toEqual({ pack: 'slack', name: 'chat.postMessage' });
    expect(splitRef('core')).toEqual({ pack: 'core', name: '' });
  });
});

describe('name rules (printable, at most 255 characters)', () => {
  it('refuses NUL, bidi overrides, spaces and 100k-character content names, naming the file and field', async () => {
    const action = (name: string) => `---\nname: ${JSON.stringify(name)}\nrunner_type: local-shell-cmd\n`;
    const problems = await validatePackDir(
      await writePack({
        'actions/nul.yaml': action('a\u0000b'),
        'actions/bidi.yaml': action('safe\u202Etxt.exe'),
        'actions/space.yaml': action('two words'),
        'actions/long.yaml': action('x'.repeat(100_000)),
        'actions/ok.yaml': action('fine.name-1'),
      }),
    );
    const byFile = (file: string) => problems.filter((p) => p.file === file && p.severity === 'error');
    for (const file of ['actions/nul.yaml', 'actions/bidi.yaml', 'actions/space.yaml']) {
      expect(byFile(file)).toContainEqual(
        expect.objectContaining({
          field: 'name',
          message: expect.stringContaining('printable characters without spaces'),
        }),
      );
    }
    expect(byFile('actions/long.yaml')).toContainEqual(
      expect.objectContaining({ field: 'name', message: expect.stringMatching(/more than 255 characters/) }),
    );
    expect(byFile('actions/ok.yaml')).toEqual([]);
  });

  it('a rule may be named as a sentence (words and single spaces), as Exchange packs do; an action may not', async () => {
    const rule = (name: string) =>
      `---\nname: ${JSON.stringify(name)}\nenabled: true\ntrigger:\n  type: core.st2.webhook\n  parameters:\n    url: aci\naction:\n  ref: core.noop\n`;
    const dir = await writePack(
      {
        'rules/setup_epg.yaml': rule('Setup ACI EPG'),
        'rules/maintenance.yaml': rule('Run maintenance on the directory, then report.'),
        'rules/tab.yaml': rule('tab\tseparated'),
        'rules/edge.yaml': rule(' leading space'),
        'actions/space.yaml': '---\nname: "two words"\nrunner_type: local-shell-cmd\n',
      },
      'sentences',
    );
    const result = await loadPacks([resolve(BUNDLED_PACKS_DIR, 'core'), dir]);
    const pack = result.packs.find((p) => p.ref === 'sentences')!;
    expect(pack.rules.map((r) => r.ref).sort()).toEqual([
      'sentences.Run maintenance on the directory, then report.',
      'sentences.Setup ACI EPG',
    ]);
    const errors = result.problems.filter((p) => p.severity === 'error');
    expect(errors.map((p) => [p.file, p.field, p.message])).toEqual(
      expect.arrayContaining([
        ['rules/tab.yaml', 'name', expect.stringContaining('words separated by spaces')],
        ['rules/edge.yaml', 'name', expect.stringContaining('words separated by spaces')],
        ['actions/space.yaml', 'name', expect.stringContaining('printable characters without spaces')],
      ]),
    );
    expect(errors).toHaveLength(3);
  });

  it('nameProblem says which character is wrong', () => {
    expect(nameProblem('a\u202Eb', 'key')).toMatch(/U\+202E/);
    expect(nameProblem('a\u0000b', 'content')).toMatch(/U\+0000/);
    expect(nameProblem('with space', 'key')).toBeUndefined();
    expect(nameProblem('with space', 'content')).toMatch(/U\+0020/);
    expect(nameProblem('k'.repeat(256), 'key')).toMatch(/256 characters long; at most 255/);
    expect(nameProblem('deploy.branch', 'key')).toBeUndefined();
  });
});
