import { describe, expect, it } from 'vitest';
import { runBoundedAsync } from '../../support/bounded.js';
import {
  matchAlias,
  normaliseFormats,
  partialMatches,
  suggestAliases,
  type AliasLike,
} from '../../../aliases/index.js';

function alias(name: string, formats: AliasLike['formats'], extra: Partial<AliasLike> = {}): AliasLike {
  return { name, pack: 'ops', action_ref: `ops.${name}`, formats, ...extra };
}

describe('normaliseFormats', () => {
  it('a string is its own display and only representation', () => {
    expect(normaliseFormats(alias('a', ['deploy {{app}}']))).toEqual([
      { display: 'deploy {{app}}', representation: ['deploy {{app}}'], matchMultiple: false },
    ]);
  });

  it('an object keeps display, representation list and match_multiple', () => {
    const formats = [
      { display: 'deploy <app>', representation: ['deploy {{app}}', 'ship {{app}}'] },
      { display: 'fixes <issue>', representation: 'fixes {{issue}}', match_multiple: true },
    ];
    expect(normaliseFormats(alias('a', formats))).toEqual([
      { display: 'deploy <app>', representation: ['deploy {{app}}', 'ship {{app}}'], matchMultiple: false },
      { display: 'fixes <issue>', representation: ['fixes {{issue}}'], matchMultiple: true },
    ]);
  });

  it('fills a missing display from the first representation and a missing representation from display', () => {
    expect(normaliseFormats(alias('a', [{ representation: ['x {{y}}'] }, { display: 'status' }]))).toEqual([
      { display: 'x {{y}}', representation: ['x {{y}}'], matchMultiple: false },
      { display: 'status', representation: ['status'], matchMultiple: false },
    ]);
  });

  it('rejects an entry of the wrong type, naming the alias and the index', () => {
    expect(() => normaliseFormats(alias('bad', ['ok', 42 as unknown as string]))).toThrow(
      'Alias "ops.bad" formats[1] is neither a string nor an object with display/representation',
    );
    expect(() =>
      normaliseFormats(alias('bad', [{ display: 'x', representation: [1 as unknown as string] }])),
    ).toThrow(/formats\[0\]\.representation must be a string or a list of strings/);
  });
});

describe('matchAlias', () => {
  const deploy = alias('deploy', ['deploy {{app}}']);
  const deployTo = alias('deploy_to', ['deploy {{app}} to {{env=staging}}']);
  const restartService = alias('restart_service', ['restart {{service}}']);
  const restartHost = alias('restart_host', ['restart {{host}}']);

  it('returns the single matching alias with its parameters and representation', () => {
    const m = matchAlias([restartService, deployTo], 'restart nginx');
    expect(m.kind).toBe('match');
    if (m.kind !== 'match') return;
    expect(m.alias.name).toBe('restart_service');
    expect(m.representation).toBe('restart {{service}}');
    expect(m.display).toBe('restart {{service}}');
    expect(m.matchMultiple).toBe(false);
    expect(m.parameters).toEqual({ service: 'nginx' });
  });

  it('prefers the alias that matched more literal text', () => {
    const m = matchAlias([deploy, deployTo], 'deploy web to prod');
    expect(m.kind === 'match' && m.alias.name).toBe('deploy_to');
    expect(m.kind === 'match' && m.parameters).toEqual({ app: 'web', env: 'prod' });
  });

  it('the more general alias wins when the specific one does not match', () => {
    const m = matchAlias([deploy, deployTo], 'deploy web');
    expect(m.kind === 'match' && m.alias.name).toBe('deploy');
    expect(m.kind === 'match' && m.parameters).toEqual({ app: 'web' });
  });

  it('an omitted optional value adds no literal text, so it can tie with a shorter alias', () => {
    const m = matchAlias([alias('status', ['status']), alias('status_of', ['status {{svc=all}}'])], 'status');
    expect(m.kind).toBe('ambiguous');
    const given = matchAlias(
      [alias('status', ['status']), alias('status_of', ['status {{svc=all}}'])],
      'status web',
    );
    expect(given.kind === 'match' && given.alias.name).toBe('status_of');
  });

  it('reports ambiguity with every tied alias when different aliases match equally', () => {
    const m = matchAlias([restartService, restartHost], 'restart web1');
    expect(m.kind).toBe('ambiguous');
    if (m.kind !== 'ambiguous') return;
    expect(m.candidates.map((c) => c.alias.name)).toEqual(['restart_service', 'restart_host']);
    expect(m.candidates.map((c) => c.parameters)).toEqual([{ service: 'web1' }, { host: 'web1' }]);
    expect(m.message).toBe("Command 'restart web1' matched more than 1 pattern");
  });

  it('two representations of the same alias never make a command ambiguous', () => {
    const a = alias('say', [{ display: 'say <text>', representation: ['say {{text}}', '{{text}}'] }]);
    const m = matchAlias([a], 'say hi');
    expect(m.kind === 'match' && m.representation).toBe('say {{text}}');
    expect(m.kind === 'match' && m.parameters).toEqual({ text: 'hi' });
  });

  it('skips disabled aliases', () => {
    const m = matchAlias([{ ...restartService, enabled: false }, restartHost], 'restart web1');
    expect(m.kind === 'match' && m.alias.name).toBe('restart_host');
  });

  it('trailing key=value pairs do not count as literal text', () => {
    const generic = alias('run', ['run {{cmd}}']);
    const specific = alias('run_on', ['run {{cmd}} on {{hosts}}']);
    const m = matchAlias([generic, specific], 'run date on web1 timeout=120');
    expect(m.kind === 'match' && m.alias.name).toBe('run_on');
    expect(m.kind === 'match' && m.parameters).toEqual({ cmd: 'date', hosts: 'web1', timeout: '120' });
  });

  it('tries match_multiple formats only when nothing else matched, one parameter set per match', () => {
    const jira = alias('jira', [
      {
        display: 'fixes <issue>',
        representation: ['(?:\\b|^)fixes (?P<issue>[A-Z]+-\\d+)(?:\\b|$)'],
        match_multiple: true,
      },
    ]);
    const m = matchAlias([jira, restartService], 'this fixes AB-1 and also fixes CD-2');
    expect(m.kind).toBe('match');
    if (m.kind !== 'match' || !m.matchMultiple) throw new Error('expected a match_multiple match');
    expect(m.parameters).toEqual([{ issue: 'AB-1' }, { issue: 'CD-2' }]);
    // A normal match takes precedence over a multi one.
    const catchAll = alias('note', ['{{text}}']);
    const normal = matchAlias([jira, catchAll], 'fixes AB-1');
    expect(normal.kind === 'match' && normal.alias.name).toBe('note');
  });

  it('reports a broken format as skipped while matching the others', () => {
    const broken = alias('broken', ['deploy (?P<x>\\w+']);
    const m = matchAlias([broken, deploy], 'deploy web');
    expect(m.kind === 'match' && m.alias.name).toBe('deploy');
    expect(m.skipped.map((s) => [s.ref, s.error.code])).toEqual([['ops.broken', 'ALIAS_BAD_FORMAT']]);
  });

  it('returns none with suggestions when nothing matches', () => {
    const m = matchAlias([deploy, restartService, alias('status', ['status'])], 'restrat nginx now');
    expect(m.kind).toBe('none');
    if (m.kind !== 'none') return;
    expect(m.message).toBe("Command 'restrat nginx now' matched no patterns");
    expect(m.suggestions.map((s) => s.alias.name)).toEqual(['restart_service']);
  });
});

describe('suggestAliases', () => {
  const aliases = [
    alias('pack_install', ['pack install {{packs}}']),
    alias('pack_remove', ['pack remove {{packs}}']),
    alias('pack_get', ['pack get {{pack}}']),
    alias('run_cmd', ['run {{cmd}} on {{hosts}}']),
  ];

  it('ranks by word overlap, tolerating typos, and is deterministic', () => {
    const s = suggestAliases(aliases, 'pack instal foo');
    expect(s.map((x) => x.alias.name)).toEqual(['pack_install', 'pack_get', 'pack_remove']);
    expect(s[0].score).toBeGreaterThan(s[1].score);
    expect(s[1].score).toBe(s[2].score);
  });

  it('limits the number of suggestions and offers none for unrelated text', () => {
    expect(suggestAliases(aliases, 'pack', 2)).toHaveLength(2);
    expect(suggestAliases(aliases, 'zebra crossing')).toEqual([]);
  });
});

describe('partialMatches', () => {
  const deploy: AliasLike = {
    name: 'deploy',
    pack: 'apps',
    action_ref: 'apps.deploy',
    formats: ['deploy {{app}} to {{stage=staging}}'],
  };
  const restart: AliasLike = {
    name: 'restart',
    pack: 'ops',
    action_ref: 'ops.restart',
    formats: ['restart service {{name}}', '(re)?start host {{host}}'],
  };

  it('finds the formats a command starts like when parameters are missing', () => {
    for (const said of ['deploy', 'deploy web', 'Deploy  web now'])
      expect(partialMatches([deploy, restart], said).map((p) => p.display)).toEqual([
        'deploy {{app}} to {{stage=staging}}',
      ]);
    expect(partialMatches([deploy, restart], 'restart service').map((p) => p.display)).toEqual([
      'restart service {{name}}',
    ]);
  });

  it('ignores other words, regular-expression leads and disabled aliases', () => {
    expect(partialMatches([deploy, restart], 'deployment web')).toEqual([]);
    expect(partialMatches([deploy, restart], 'start host')).toEqual([]);
    expect(partialMatches([{ ...deploy, enabled: false }], 'deploy')).toEqual([]);
  });

  it('a 4,000-character word that matches nothing is answered with suggestions, not seconds of edit distances per alias word', async () => {
    // Suggestions compare each command word with each alias word; a word far longer than any
    // alias word cannot be close to one, so it costs nothing: before, 2,000 aliases of 100 words
    // against one 4,000-character word took minutes.
    const out = await runBoundedAsync(
      `import { matchAlias } from './aliases/index.ts';
      const aliases = Array.from({ length: 2000 }, (_, i) => ({
        name: 'a' + i, action_ref: 'x.y',
        formats: ['deploy' + i + ' {{x}} ' + Array.from({ length: 100 }, (_, j) => 'w' + i + 'x' + j).join(' ')],
      }));
      const far = matchAlias(aliases, 'x'.repeat(4000));
      const near = matchAlias(aliases, 'deploy7 ' + 'x'.repeat(4000));
      console.log(JSON.stringify([far.kind, far.suggestions, near.kind, near.suggestions?.[0]?.alias?.name]));`,
      30_000,
    );
    expect(JSON.parse(out)).toEqual(['none', [], 'none', 'a7']);
  }, 45_000);

  it('a format whose own text backtracks (no placeholder, or ignore-case) answers a near miss at once, and still matches', async () => {
    // st2 reads a format as a pattern: anyone who may create an alias can write `(a+)+$`, and every
    // chat message is matched against every alias. 40 characters took 2^40 steps (hours).
    const out = await runBoundedAsync(
      `import { matchAlias } from './aliases/index.ts';
      const plain = [{ name: 'p', action_ref: 'x.y', formats: ['(a+)+$'] }];
      const folded = [{ name: 'f', action_ref: 'x.y', formats: ['(?i)(a+)+b {{x}}'] }];
      const near = 'a'.repeat(40) + '!';
      console.log(JSON.stringify([
        matchAlias(plain, near).kind, matchAlias(folded, near).kind,
        matchAlias(folded, 'AaAB foo').parameters,
      ]));`,
      30_000,
    );
    expect(JSON.parse(out)).toEqual(['none', 'none', { x: 'foo' }]);
  }, 45_000);

  it('a long command that almost fits a many-placeholder format is answered, not backtracked for minutes', async () => {
    // 4,000 characters (chatops.max_command_length) against six placeholders: 10^9+ steps for the
    // quote-aware expression; the linear pre-check refuses it first. Run apart so a regression fails.
    const out = await runBoundedAsync(
      `import { matchAlias } from './aliases/index.ts';
      const aliases = [{ name: 'six', action_ref: 'x.y', formats: ['a {{p1}} b {{p2}} c {{p3}} d {{p4}} e {{p5}} f {{p6}} g'] }];
      const near = matchAlias(aliases, 'a ' + 'x b y c z d w e '.repeat(250));
      const fits = matchAlias(aliases, 'a "one two" b 2 c {"k": 1} d 4 e 5 f 6 g');
      console.log(JSON.stringify([near.kind, fits.kind, fits.parameters]));`,
      60_000,
    );
    expect(JSON.parse(out)).toEqual([
      'none',
      'match',
      { p1: 'one two', p2: '2', p3: '{"k": 1}', p4: '4', p5: '5', p6: '6' },
    ]);
  }, 75_000);
});
