import { describe, expect, it } from 'vitest';
import {
  AliasFormatError,
  AliasParseError,
  extractMultipleParameters,
  extractParameters,
  validateFormat,
} from '../../../aliases/index.js';

function parseError(format: string | undefined, command: string): AliasParseError {
  try {
    extractParameters(format, command);
  } catch (err) {
    expect(err).toBeInstanceOf(AliasParseError);
    return err as AliasParseError;
  }
  throw new Error(`expected "${command}" not to match "${format}"`);
}

// The case classes of st2's test_action_alias_utils.py (st2-reference.md §5.2), with its values.
describe('extractParameters: st2 parser cases', () => {
  it('empty format and empty command give no parameters', () => {
    expect(extractParameters('', '')).toEqual({});
    expect(extractParameters(undefined, '')).toEqual({});
  });

  it('an empty format takes trailing key=value pairs only', () => {
    expect(extractParameters('', 'a=foobar1')).toEqual({ a: 'foobar1' });
    expect(extractParameters('', `a=foobar1 b="boobar2 3 4" c='coobar3 4' d={"a": "b"}`)).toEqual({
      a: 'foobar1',
      b: 'boobar2 3 4',
      c: 'coobar3 4',
      d: '{"a": "b"}',
    });
  });

  it('trailing pair values may be double quoted, single quoted or JSON', () => {
    expect(extractParameters('foo', 'foo a="foobar2 poonies bar"')).toEqual({ a: 'foobar2 poonies bar' });
    expect(extractParameters('foo', "foo a='foobar2 poonies bar'")).toEqual({ a: 'foobar2 poonies bar' });
    expect(extractParameters('foo', 'foo a={"foobar2": "poonies"}')).toEqual({ a: '{"foobar2": "poonies"}' });
  });

  it('a multi-word value before literal text, plus a quoted trailing pair', () => {
    expect(
      extractParameters('{{ captain }} is my captain', 'Malcolm Reynolds is my captain weirdo="River Tam"'),
    ).toEqual({
      captain: 'Malcolm Reynolds',
      weirdo: 'River Tam',
    });
  });

  it('literal text around placeholders', () => {
    expect(
      extractParameters('skip {{a}} more skip {{b}} and skip more.', 'skip a1 more skip b1 and skip more.'),
    ).toEqual({
      a: 'a1',
      b: 'b1',
    });
  });

  it('a value at the end of the string', () => {
    expect(extractParameters('skip {{a}} more skip {{b}}', 'skip a1 more skip b1')).toEqual({
      a: 'a1',
      b: 'b1',
    });
  });

  it('a double-quoted value containing spaces loses its quotes', () => {
    expect(
      extractParameters(
        'skip {{a}} more skip {{b}} and skip more.',
        'skip "a1 a2" more skip b1 and skip more.',
      ),
    ).toEqual({
      a: 'a1 a2',
      b: 'b1',
    });
  });

  it('a single-quoted value containing spaces loses its quotes', () => {
    expect(extractParameters('say {{msg}} to {{who}}', "say 'hello there' to bob")).toEqual({
      msg: 'hello there',
      who: 'bob',
    });
  });

  it('quoted positional values and an omitted default', () => {
    expect(extractParameters('acl {{a}} {{b}} {{c}} {{d=1}}', 'acl "a1 a2" "b1" "c1"')).toEqual({
      a: 'a1 a2',
      b: 'b1',
      c: 'c1',
      d: '1',
    });
  });

  it('a lone optional placeholder with nothing after the literal takes its default', () => {
    expect(extractParameters('acl {{a=test}}', 'acl')).toEqual({ a: 'test' });
  });

  it('a JSON value in a positional placeholder', () => {
    expect(extractParameters('skip {{a}} more skip.', 'skip {"a": "b", "c": "d"} more skip.')).toEqual({
      a: '{"a": "b", "c": "d"}',
    });
  });

  it('a JSON value and a bare value in one command', () => {
    expect(
      extractParameters('skip {{a}} more skip {{b}}.', 'skip {"a": "b", "c": "d"} more skip x.'),
    ).toEqual({
      a: '{"a": "b", "c": "d"}',
      b: 'x',
    });
  });

  it('spaces inside the braces, around the name, "=" and the default', () => {
    expect(
      extractParameters(
        's {{a}} more {{ b }} more {{ c=99 }} more {{ d = 99 }}',
        's one more two more three more',
      ),
    ).toEqual({ a: 'one', b: 'two', c: 'three', d: '99' });
  });

  it('an enclosed default is used only when the command omits the value', () => {
    expect(extractParameters('skip {{ a = value }} more', 'skip one more')).toEqual({ a: 'one' });
    expect(extractParameters('skip {{ a = value }} more', 'skip more')).toEqual({ a: 'value' });
  });

  it('a default that looks like a template is returned verbatim', () => {
    expect(
      extractParameters(
        'two by two hands of {{ color = {{ colors.default_color }} }}',
        'two by two hands of',
      ),
    ).toEqual({
      color: '{{ colors.default_color }}',
    });
  });

  it('defaults combined with trailing pairs: pairs add keys', () => {
    expect(extractParameters('testing {{ a }}', 'testing value b=value2')).toEqual({
      a: 'value',
      b: 'value2',
    });
    expect(extractParameters('testing {{ a=new }}', 'testing b="another value"')).toEqual({
      a: 'new',
      b: 'another value',
    });
    expect(
      extractParameters('testing {{ b=abc }} {{ c=xyz }}', 'testing newvalue d={"1": "2"} e="long value"'),
    ).toEqual({
      b: 'newvalue',
      c: 'xyz',
      d: '{"1": "2"}',
      e: 'long value',
    });
  });

  it('a trailing pair overrides a value the format extracted', () => {
    expect(
      extractParameters('somestuff {{a}} more stuff {{b}}', 'somestuff ponies more stuff coobar b=foo'),
    ).toEqual({
      a: 'ponies',
      b: 'foo',
    });
  });

  it('all defaults apply when the command leaves every optional value out', () => {
    expect(extractParameters('skip {{d=test1}} more skip {{e=test1}}.', 'skip more skip')).toEqual({
      d: 'test1',
      e: 'test1',
    });
  });

  it('some values given, the rest defaulted', () => {
    expect(extractParameters('skip {{d=test}} more skip {{e=test}}', 'skip ponies more skip')).toEqual({
      d: 'ponies',
      e: 'test',
    });
  });

  it('no command and no defaults is refused with st2 message', () => {
    const err = parseError('skip {{d}} more skip {{e}}.', undefined as unknown as string);
    expect(err.code).toBe('ALIAS_NO_MATCH');
    expect(err.message).toBe('Command "" doesn\'t match format string "skip {{d}} more skip {{e}}."');
  });

  it("the kitchen sink: quoted defaults, a URL, a template-looking value and k='v'/k={...} pairs", () => {
    const format = "{{ p0='http' }} g {{ p1=p }} a {{ url }} {{ p2={'a':'b'} }} {{ p3={{ e.i }} }}";
    const command = "g a http://google.com {{ execution.id }} p4='testing' p5={'a':'c'}";
    expect(extractParameters(format, command)).toEqual({
      p0: 'http',
      p1: 'p',
      url: 'http://google.com',
      p2: '{{ execution.id }}',
      p3: '{{ e.i }}',
      p4: 'testing',
      p5: "{'a':'c'}",
    });
  });

  it('non-matching literal text raises ALIAS_NO_MATCH naming the command and the format', () => {
    const err = parseError('foo bar ponies', 'foo lulz ponies');
    expect(err.code).toBe('ALIAS_NO_MATCH');
    expect(err.message).toBe('Command "foo lulz ponies" doesn\'t match format string "foo bar ponies"');
    expect(err.context).toEqual({ command: 'foo lulz ponies', format: 'foo bar ponies' });
  });

  it('a format without placeholders still takes trailing pairs', () => {
    expect(extractParameters('foo bar', 'foo bar pony1=foo pony2=bar')).toEqual({
      pony1: 'foo',
      pony2: 'bar',
    });
  });

  it('a format whose remainder is blank and which yields nothing raises ALIAS_NO_VALUE', () => {
    const err = parseError('(foo)?', '');
    expect(err.code).toBe('ALIAS_NO_VALUE');
    expect(err.message).toBe('No value supplied and no default value found.');
  });

  it('many double-spaced pairs followed by plain text parse (st2 expression would backtrack for hours)', () => {
    const command = 'run ' + 'a=1  '.repeat(40) + 'x';
    expect(extractParameters('run {{cmd}}', command)).toEqual({
      cmd: ('a=1  '.repeat(40) + 'x').trim().replace(/\s+$/, ''),
    });
    expect(extractParameters('run {{cmd}}', 'run ls' + '  k=v'.repeat(40))).toEqual({ cmd: 'ls', k: 'v' });
  });

  it('pairs in the middle of a command are not cut off', () => {
    expect(extractParameters('run {{cmd}}', 'run env a=1 ls')).toEqual({ cmd: 'env a=1 ls' });
  });
});

describe('extractParameters: raw regular expressions', () => {
  const issue = '(?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)';

  it('named groups become parameters', () => {
    expect(extractParameters(`^\\s*foo ${issue}`, 'foo ASDF-1234')).toEqual({ issue_key: 'ASDF-1234' });
  });

  it('an explicit ^ anchor must match: extra words before fail', () => {
    expect(parseError(`^\\s*foo ${issue}`, 'bar foo ASDF-1234').code).toBe('ALIAS_NO_MATCH');
  });

  it('an explicit $ anchor must match: extra words after fail', () => {
    expect(extractParameters(`foo ${issue}\\s*$`, 'foo ASDF-1234')).toEqual({ issue_key: 'ASDF-1234' });
    expect(parseError(`foo ${issue}\\s*$`, 'foo ASDF-1234 bar').code).toBe('ALIAS_NO_MATCH');
  });

  it('both anchors: a match, and a command with a different first word failing', () => {
    expect(extractParameters(`^\\s*foo ${issue} bar\\s*$`, 'foo ASDF-1234 bar')).toEqual({
      issue_key: 'ASDF-1234',
    });
    expect(parseError(`^\\s*foo ${issue}\\s*$`, 'bar ASDF-1234').code).toBe('ALIAS_NO_MATCH');
  });

  it('st2 pads the command with a space on each side, so an anchor must allow whitespace', () => {
    expect(parseError('^foo {{a}}', 'foo bar').code).toBe('ALIAS_NO_MATCH');
    expect(extractParameters('^\\s*foo {{a}}', 'foo bar')).toEqual({ a: 'bar' });
  });

  it('with a start anchor only, the end is still anchored for you', () => {
    expect(parseError(`^\\s*foo ${issue}`, 'foo ASDF-1234 trailing').code).toBe('ALIAS_NO_MATCH');
  });

  it('without any anchor the whole command must match', () => {
    expect(parseError(`foo ${issue}`, 'please foo ASDF-1 now').code).toBe('ALIAS_NO_MATCH');
  });

  it('an end anchor inside an alternation inside a group counts (no end anchor added)', () => {
    // `(?:x|$)`: with the anchor found, text after the issue key is allowed.
    expect(extractParameters(`foo ${issue}(?:\\s|$)`, 'foo AB-1 and more')).toEqual({ issue_key: 'AB-1' });
  });

  it('a start anchor in one branch of a top-level alternation counts', () => {
    expect(extractParameters('^\\s*hello (?P<who>\\w+)|(?P<x>zz)$', 'hello bob')).toEqual({
      who: 'bob',
      x: null,
    });
  });

  it('an end anchor in a branch of a sub-pattern counts (st2 `^(?:asdf|fdsa$)`)', () => {
    // The `$` belongs to the second branch only, so the first branch may leave text unmatched.
    expect(extractParameters('^\\s*(?:deploy (?P<app>\\w+)|status$)', 'deploy web and more')).toEqual({
      app: 'web',
    });
  });

  it('anchors inside a quantified group do not count, like st2', () => {
    // `(?:$)?` is skipped by st2's token walk, so `\s*$` is still appended.
    expect(parseError('foo (?P<k>\\w+)(?:$)?', 'foo bar baz').code).toBe('ALIAS_NO_MATCH');
  });

  it('free regex with placeholders: alternatives, optional groups and punctuation', () => {
    const format = '(run|execute) {{cmd}}( on {{hosts=localhost}})?[!.]?';
    expect(extractParameters(format, 'run date on web1!')).toEqual({ cmd: 'date', hosts: 'web1' });
    expect(extractParameters(format, 'execute uptime')).toEqual({ cmd: 'uptime', hosts: 'localhost' });
  });

  it('a required placeholder inside an unused optional group is null', () => {
    expect(extractParameters('list( in {{dir}})?', 'list')).toEqual({ dir: null });
  });

  it('Python syntax is understood: \\A, \\Z, (?P=name), (?i) and a leading "]" in a class', () => {
    expect(extractParameters('\\A\\s*foo (?P<w>\\w+)\\s*\\Z', 'foo bar')).toEqual({ w: 'bar' });
    expect(extractParameters('(?P<w>\\w+) and (?P=w)', 'yes and yes')).toEqual({ w: 'yes' });
    expect(parseError('(?P<w>\\w+) and (?P=w)', 'yes and no').code).toBe('ALIAS_NO_MATCH');
    expect(extractParameters('(?i)deploy {{app}}', 'DEPLOY web')).toEqual({ app: 'web' });
    expect(extractParameters('x []y]+ {{v}}', 'x ]y] hello')).toEqual({ v: 'hello' });
  });

  it('parameter names that are not identifiers still work', () => {
    expect(extractParameters('set {{ the-key }} to {{ my.value }}', 'set a to b')).toEqual({
      'the-key': 'a',
      'my.value': 'b',
    });
  });

  it('a broken format raises ALIAS_BAD_FORMAT naming the format', () => {
    expect(() => validateFormat('deploy (?P<app>\\w+')).toThrow(AliasFormatError);
    try {
      extractParameters('deploy (?P<app>\\w+', 'deploy x');
    } catch (err) {
      expect((err as AliasFormatError).code).toBe('ALIAS_BAD_FORMAT');
      expect((err as AliasFormatError).message).toContain('Format string "deploy (?P<app>\\w+"');
    }
    expect(() => validateFormat('deploy {{app}}')).not.toThrow();
  });
});

describe('extractMultipleParameters', () => {
  it('returns one parameter set per match, each with defaults and trailing pairs', () => {
    const format = '(?:\\b|^)fixes (?P<issue>[A-Z]+-\\d+)( in {{branch=main}})?(?:\\b|$)';
    expect(extractMultipleParameters(format, 'fixes AB-1 and fixes CD-22 in dev now=1')).toEqual([
      { issue: 'AB-1', branch: 'main', now: '1' },
      { issue: 'CD-22', branch: 'dev', now: '1' },
    ]);
  });

  it('an anchored format matches once', () => {
    expect(extractMultipleParameters('fixes {{issue}}', 'fixes AB-1')).toEqual([{ issue: 'AB-1' }]);
  });
});

describe('quotes inside a value', () => {
  it('keeps them unless they enclose the whole value', () => {
    expect(extractParameters('sh {{cmd}}', "sh echo 'a b'")).toEqual({ cmd: "echo 'a b'" });
    expect(extractParameters('sh {{cmd}}', 'sh grep "x y" /etc/hosts')).toEqual({
      cmd: 'grep "x y" /etc/hosts',
    });
    expect(extractParameters('sh {{cmd}}', `sh 'a b' c`)).toEqual({ cmd: `'a b' c` });
    expect(extractParameters('sh {{cmd}}', 'sh "echo hi"')).toEqual({ cmd: 'echo hi' });
    expect(extractParameters('run {{cmd}} on {{hosts}}', `run "echo 'x'" on web1`)).toEqual({
      cmd: "echo 'x'",
      hosts: 'web1',
    });
  });
});
