import { describe, expect, it } from 'vitest';
import { buildHelp, humanDisplay, renderHelpText, type AliasLike } from '../../../aliases/index.js';

const aliases: AliasLike[] = [
  {
    name: 'run',
    pack: 'core',
    action_ref: 'core.remote',
    description: 'Run a command on hosts',
    formats: ['run {{cmd}} on {{hosts}}', { display: 'exec <cmd>', representation: ['exec {{cmd}}'] }],
  },
  {
    name: 'off',
    pack: 'core',
    action_ref: 'core.noop',
    enabled: false,
    description: 'Disabled',
    formats: ['noop'],
  },
  {
    name: 'pack_install',
    pack: 'packs',
    action_ref: 'packs.install',
    description: 'Install packs',
    formats: ['pack install {{packs}}'],
  },
  {
    name: 'hidden',
    pack: 'packs',
    action_ref: 'packs.x',
    description: 'No display',
    formats: [{ representation: ['secret {{x}}'] }],
  },
  {
    name: 'deploy',
    pack: 'apps',
    action_ref: 'apps.deploy',
    formats: ['deploy {{app}}', 'Deploy {{app}} to {{env}}'],
  },
];

describe('buildHelp', () => {
  it('lists one help string per displayed format, skipping disabled aliases and formats without display', () => {
    const help = buildHelp(aliases);
    expect(help.available).toBe(5);
    expect(help.helpstrings).toEqual([
      { pack: 'core', display: 'run {{cmd}} on {{hosts}}', description: 'Run a command on hosts' },
      { pack: 'core', display: 'exec <cmd>', description: 'Run a command on hosts' },
      { pack: 'packs', display: 'pack install {{packs}}', description: 'Install packs' },
      { pack: 'apps', display: 'deploy {{app}}', description: '' },
      { pack: 'apps', display: 'Deploy {{app}} to {{env}}', description: '' },
    ]);
  });

  it('filters display strings with a case-insensitive regular expression', () => {
    expect(buildHelp(aliases, { filter: 'DEPLOY' }).helpstrings.map((h) => h.display)).toEqual([
      'deploy {{app}}',
      'Deploy {{app}} to {{env}}',
    ]);
    expect(buildHelp(aliases, { filter: '^(run|exec)' }).available).toBe(2);
  });

  it('filters by pack', () => {
    expect(buildHelp(aliases, { pack: 'packs' })).toEqual({
      available: 1,
      helpstrings: [{ pack: 'packs', display: 'pack install {{packs}}', description: 'Install packs' }],
    });
  });

  it('pages with limit and offset while counting every match', () => {
    const page = buildHelp(aliases, { limit: 2, offset: 1 });
    expect(page.available).toBe(5);
    expect(page.helpstrings.map((h) => h.display)).toEqual(['exec <cmd>', 'pack install {{packs}}']);
    expect(buildHelp(aliases, { offset: 4 }).helpstrings.map((h) => h.display)).toEqual([
      'Deploy {{app}} to {{env}}',
    ]);
    expect(buildHelp(aliases, { limit: 1 }).helpstrings).toHaveLength(1);
  });

  it('rejects a bad filter or negative paging, naming the option', () => {
    expect(() => buildHelp(aliases, { filter: '(unclosed' })).toThrow(
      'Help filter "(unclosed" is not a valid regular expression',
    );
    expect(() => buildHelp(aliases, { limit: -1 })).toThrow(
      'Help "limit" must be a whole number of 0 or more, got -1',
    );
  });
});

describe('renderHelpText', () => {
  it('groups commands by pack with the chat prefix and descriptions', () => {
    expect(renderHelpText(buildHelp(aliases), { prefix: '!' })).toBe(
      [
        'Available commands (5):',
        '',
        '[apps]',
        '  !deploy <app>',
        '  !Deploy <app> to <env>',
        '',
        '[core]',
        '  !run <cmd> on <hosts> - Run a command on hosts',
        '  !exec <cmd> - Run a command on hosts',
        '',
        '[packs]',
        '  !pack install <packs> - Install packs',
      ].join('\n'),
    );
  });

  it('shows one page at a time and says how to get the next one', () => {
    const help = buildHelp(aliases);
    const first = renderHelpText(help, { prefix: '@bot ', pageSize: 2 });
    expect(first).toBe(
      [
        'Available commands (5), page 1 of 3:',
        '',
        '[apps]',
        '  @bot deploy <app>',
        '  @bot Deploy <app> to <env>',
        '',
        'More: @bot help page 2',
      ].join('\n'),
    );
    const last = renderHelpText(help, { pageSize: 2, page: 3 });
    expect(last).toBe(
      ['Available commands (5), page 3 of 3:', '', '[packs]', '  !pack install <packs> - Install packs'].join(
        '\n',
      ),
    );
    expect(renderHelpText(help, { pageSize: 2, page: 9 })).toBe(
      'There is no page 9: 5 commands fit on 3 pages.',
    );
  });

  it('says so when nothing matches', () => {
    expect(renderHelpText(buildHelp(aliases, { filter: 'nothing-like-this' }))).toBe('No commands match.');
  });
});

describe('humanDisplay', () => {
  it('shows required parameters as <name> and defaulted ones as [name]', () => {
    expect(humanDisplay('deploy {{app}} to {{stage=staging}}')).toBe('deploy <app> to [stage]');
    expect(humanDisplay('run {{ cmd }} on {{ hosts = localhost }}')).toBe('run <cmd> on [hosts]');
    expect(humanDisplay('pack list')).toBe('pack list');
  });
});
