import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateJinja, renderTemplate } from '../../../src/workflows/expressions/jinja/index.js';
import { pythonAvailable, runPythonOracle } from '../../support/python-oracle.js';

// Squall's Jinja (nunjucks, patched) against Jinja2 itself: the oracle venv has orquesta's jinja2.

// `+` and `*`: Exchange workflows concatenate lists (`{{ ctx().records + [ item ] }}`), which
// nunjucks turned into a string.
const EXPRESSIONS = [
  '[1, 2] + [3]',
  "[ 'a' ] + ctx.records",
  'ctx.records + [ ctx.name ]',
  '[] + []',
  "'ab' + 'cd'",
  "ctx.name + '-suffix'",
  '1 + 2',
  '1 + 2.5',
  'true + 1',
  "'-' * 5",
  "3 * 'ab'",
  '[1, 2] * 2',
  '2 * [0]',
  "'x' * 0",
  "'x' * -2",
  '[1] * true',
  '2 * 3.5',
  "'a' + 1",
  "1 + 'a'",
  "[1] + 'a'",
  'none + 1',
  '{} + {}',
  "'x' * 2.5",
  "'x' * 'y'",
  '{} * 2',
];

// Whitespace control as st2 renders alias result formats (trim_blocks and lstrip_blocks on):
// `{%+` keeps a tag's indent, `+%}` the newline after it (st2's own aliases end loops with
// `{%+ endfor %}`).
const TEMPLATES = [
  'Found {{ ctx.records | length }}:\n{% for r in ctx.records -%}\n    * {{ r }}\n{%+ endfor %}\ndone',
  'Hosts:\n{% for r in ctx.records %}\n  {%+ if r %}[{{ r }}]{% endif %}\n{% endfor %}\n',
  '{% for r in ctx.records %}\n  {% if r %}<{{ r }}>{% endif %}\n{% endfor %}',
  '{% for r in ctx.records +%}\n{{ r }}\n{% endfor +%}\nend',
  '  {%+ if true %}kept{% endif %}',
  '\t{%+ if true -%}\n  x\n{%- endif +%}\n\ny',
  '{% if ctx.name +%}{{ ctx.name }}{% endif +%}',
];

const DATA = { ctx: { records: ['r1', 'r2'], name: 'host' } };

// Python-isms st2 users write in parameters, alias formats and rule criteria, rendered as st2 renders
// (a SandboxedEnvironment with trim_blocks and lstrip_blocks): `%` and str.format() formatting, `//`
// and `%` on numbers, tuples, Python truth ([] and {} are false) in if/not/and/or, `~` printing
// None and True, string/dict/list methods, tests, loops and the filters with Jinja2's keyword
// arguments. Values Python prints differently from JavaScript land in string parameters.
const PYTHONISM_TEMPLATES = [
  "{% for u in users %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
  "{% for k, v in d.items() %}{{ loop.cycle('a', 'b') }}{% endfor %}",
  "{% for u in users if u.name != 'al' %}{{ loop.cycle(1, 2) }}{% endfor %}",
  '{% for u in users if u.on %}{{ u.name }}{{ loop.index }}/{{ loop.length }}{{ loop.last }} {% endfor %}',
  "{% for u in users if u.age > 26 and u.name != 'cy' %}{{ u.name }}{% else %}none{% endfor %}",
  '{% for u in users if u.age > 99 %}{{ u.name }}{% else %}none{% endfor %}',
  '{% for k, v in d.items() if v != 1 %}{{ k }}={{ v }};{% endfor %}',
  '{% for k in d %}{{ k }}{% endfor %}',
  "{% for k in d if k != 'n' %}{{ k }}{% endfor %}",
  "{% for c in a if c != 'e' %}{{ c }}{% endfor %}",
  '{% for u in users %}{% for w in users if w.age < u.age %}{{ w.name }}{% endfor %}|{% endfor %}',
  '{% for u in (users if t else []) %}{{ u.name }}{% endfor %}',
  "{{ a.rsplit('e', 1) }}",
  "{{ 'a.b.c'.rsplit('.', 1) }}",
  "{{ 'a.b.c'.rsplit('.', 1)[0] }}",
  "{{ ' x  y '.rsplit() }}",
  "{{ 'a.b.c'.partition('.') }}",
  "{{ 'a.b.c'.rpartition('.') }}",
  "{{ 'a.b.c'.partition('/') }}",
  "{{ 'x'.zfill(3) }}",
  "{{ '-42'.zfill(6) }}",
  "{{ a.center(9, '*') }}",
  "{{ 'AB'.center(5) }}|",
  "{{ 'A'.center(4, '-') }}",
  "{{ a.ljust(6, '.') }}|",
  '{{ a.rjust(6) }}',
  "{{ 'Abc'.swapcase() }}",
  "{{ 'a.b.c'.rfind('.') }}",
  "{{ 'ABC'.isupper() }} {{ 'abc1'.islower() }} {{ '  '.isspace() }} {{ 'a-1'.isalnum() }}",
  '{% set c = 0 %}{% for u in users %}{% set c = c + 1 %}{{ c }}{{ loop.index }}{% endfor %}{{ c }}',
  '{% for k, v in d.items() %}{% set kv = k ~ v %}{{ kv }}{{ loop.last }}{% endfor %}{{ kv }}',
  '{% for u in e %}x{% else %}none{% endfor %}',
  '{% set c = 0 %}{% for u in users %}{% set c = c + 1 %}{% endfor %}{{ c }}',
  "{% set found = false %}{% for u in users %}{% if u.name == 'al' %}{% set found = true %}{% endif %}{% endfor %}{{ found }}",
  '{% for u in users %}{% set n = u.name | upper %}{{ n }};{% endfor %}[{{ n }}]',
  '{% for u in users %}{% for w in words %}{% set last = w %}{% endfor %}{{ last }}{% endfor %}',
  "{% if t %}{% set top = 'y' %}{% endif %}{{ top }}",
  '{{ 4 / 2 }}',
  '{{ b / 1 }} items',
  '{{ 1.0 }}',
  '{{ 3.0 * 1 }}',
  '{{ 7.5 // 2 }}',
  '{{ b | float }}',
  '{{ 2.5 | round }}',
  "{{ 2.567 | round(0, 'ceil') }}",
  '{{ -0.0 }}',
  '{{ -(6 / 3) }}',
  '{{ (10 / 4) | int }}',
  '{{ 10000000000000000 / 1 }}',
  'size={{ (4096 / 1024) }}K',
  "{{ '%s-%d' % (a, b) }}",
  "{{ '%s' % a }}",
  "{{ '%(x)s and %(n)d' % d }}",
  "{{ '%05.2f' % f }}",
  "{{ '%d%%' % b }}",
  "{{ '%r' % a }}",
  "{{ '%s' % l }}",
  "{{ '%x' % 255 }}",
  "{{ '%-5s|' % a }}",
  "{{ '{}-{}'.format(a, b) }}",
  "{{ '{0}/{1}/{0}'.format(a, b) }}",
  "{{ '{x}!'.format(x=a) }}",
  "{{ '{:.2f}'.format(f) }}",
  "{{ '{:>6}'.format(a) }}",
  '{{ 7 // 2 }}',
  '{{ -7 // 2 }}',
  '{{ 7 % 3 }}',
  '{{ -7 % 3 }}',
  '{{ 2 ** 10 }}',
  '{{ 2 ** -1 }}',
  '{{ 2 ** 0.5 }}',
  '{{ 1 / 3 }}',
  '{{ 10 / 4 }}',
  '{{ 0.1 + 0.2 }}',
  '{{ 1/0 }}',
  '{{ 7 % 0 }}',
  "{{ 'x' in d }}",
  "{{ 'q' in d }}",
  "{{ 'q' not in d }}",
  "{{ 'ell' in s }}",
  '{{ 3 in l }}',
  '{{ 9 not in l }}',
  '{{ a is defined }}',
  '{{ nope is defined }}',
  '{{ nope is undefined }}',
  '{{ nn is none }}',
  '{{ a is string }}',
  '{{ b is number }}',
  '{{ f is number }}',
  '{{ d is mapping }}',
  '{{ l is iterable }}',
  '{{ b is odd }}',
  '{{ b is even }}',
  '{{ a ~ b }}',
  '{{ a ~ f ~ nn ~ t }}',
  '{{ l ~ d }}',
  '{{ s.split() }}',
  "{{ 'a,b,c'.split(',') }}",
  "{{ 'a,b,c'.split(',', 1) }}",
  '{{ s.strip() }}',
  '{{ s.lstrip() }}',
  '{{ s.rstrip() }}',
  "{{ a.startswith('we') }}",
  "{{ a.endswith('b') }}",
  "{{ a.replace('w', 'W') }}",
  "{{ '-'.join(words) }}",
  '{{ a.upper() }}',
  '{{ a.lower() }}',
  '{{ s.title() }}',
  '{{ a.capitalize() }}',
  "{{ a.find('e') }}",
  "{{ a.count('w') }}",
  "{{ '12'.isdigit() }}",
  '{{ a.splitlines() }}',
  '{{ a[1:] }}',
  '{{ a[::-1] }}',
  '{{ l[-1] }}',
  "{{ d.get('x') }}",
  "{{ d.get('q', 'def') }}",
  "{{ d.get('q') }}",
  '{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}',
  '{{ d.items() | list }}',
  '{{ d.keys() | list }}',
  '{{ d | list }}',
  '{{ d.copy() }}',
  '{{ l.index(1) }}',
  '{{ l.count(3) }}',
  '{{ l | sort }}',
  '{{ l | reverse | list }}',
  '{{ l | max }}',
  '{{ l | min }}',
  '{{ l | sum }}',
  "{{ 'yes' if e else 'no' }}",
  "{{ 'yes' if ed else 'no' }}",
  "{{ 'yes' if es else 'no' }}",
  "{{ 'yes' if z else 'no' }}",
  "{{ 'yes' if nn else 'no' }}",
  "{{ 'yes' if '0' else 'no' }}",
  "{{ 'yes' if 0.0 else 'no' }}",
  '{% if e %}y{% else %}n{% endif %}',
  '{% if ed %}y{% else %}n{% endif %}',
  "{{ e or 'empty' }}",
  "{{ ed or 'empty' }}",
  '{{ not e }}',
  '{{ e and 1 }}',
  '{% for u in users %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }} {% endfor %}',
  '{% for u in users %}{% set last = u.name %}{% endfor %}[{{ last }}]',
  '{% for u in e %}x{% else %}none{% endfor %}',
  "{{ nope | default('d') }}",
  "{{ es | default('d') }}",
  "{{ es | default('d', true) }}",
  "{{ nn | default('d') }}",
  "{{ nn | default('d', true) }}",
  "{{ z | default('d', true) }}",
  "{{ nope | d('x') }}",
  "{{ users | join(',', attribute='name') }}",
  "{{ users | map(attribute='name') | join(',') }}",
  "{{ users | map(attribute='name') | list }}",
  "{{ users | selectattr('on') | map(attribute='name') | list }}",
  "{{ users | rejectattr('on') | map(attribute='name') | list }}",
  "{{ users | selectattr('age', 'gt', 26) | map(attribute='name') | list }}",
  "{{ users | selectattr('name', 'equalto', 'al') | list }}",
  "{{ users | sort(attribute='age') | map(attribute='name') | list }}",
  "{{ users | sort(attribute='age', reverse=true) | map(attribute='name') | join(' ') }}",
  '{{ words | sort(reverse=true) }}',
  '{{ words | unique | list }}',
  '{{ d | dictsort }}',
  "{{ l | map('string') | list }}",
  "{{ words | select('equalto', 'b') | list }}",
  "{{ users | sum(attribute='age') }}",
  "{{ users | map(attribute='age') | max }}",
  '{{ d | tojson }}',
  '{{ users | tojson }}',
  '{{ d | to_json_string }}',
  "{{ 'x' | tojson }}",
  "{{ '12' | int }}",
  "{{ 'x' | int }}",
  "{{ '1.5' | float }}",
  "{{ '3.7' | int }}",
  '{{ 3.7 | int }}',
  '{{ b | string }}',
  '{{ t | string }}',
  '{{ nn | string }}',
  '{{ d | string }}',
  '{{ l | string }}',
  "{{ 2.567 | round(2, 'floor') }}",
  '{{ 2.567 | round(1) }}',
  '{{ 7 | round }}',
  '{{ 2.5 | round | int }}',
  '{{ long | truncate(20) }}',
  '{{ long | truncate(20, true) }}',
  "{{ long | truncate(20, false, '..') }}",
  '{{ long | wordwrap(20) }}',
  "{{ a | replace('e', 'E') }}",
  "{{ long | replace('again', 'x', 1) }}",
  '{{ a | center(9) }}',
  '{{ long | wordcount }}',
  '{{ a | title }}',
  '{{ s | trim }}',
  '{{ a | first }}',
  '{{ l | last }}',
  '{{ l | length }}',
  '{{ d | length }}',
  '{{ a | list }}',
  "{{ 'a b' | urlencode }}",
  '{{ -3 | abs }}',
  '{{ l | batch(2) | list }}',
  '{{ l | slice(2) | list }}',
  "{{ '%s=%s' | format(a, b) }}",
  '{{ a | indent(2) }}',
  '{{ none }}',
  '{{ None }}',
  '{{ True }}',
  '{{ true }}',
  '{{ False }}',
  '{{ nn }}',
  '{{ t }}',
  '{{ d }}',
  '{{ l }}',
  '{{ users[0] }}',
  '{{ (1, 2) }}',
  "{{ {'a': none} }}",
  '{{ f }}',
  '{{ 100000000000000000000 }}',
  'a\r\nb {{ a }}\r\nc',
  '{% if t %}\r\nx\r\n{% endif %}\r\ny',
  "{{ '%d' % a }}",
  "{{ '%s %s' % a }}",
  "{{ '%s' % (a, b) }}",
  "{{ 'x' / 2 }}",
  '{{ 7 // 0 }}',
  "{{ '%(q)s' % d }}",
  "{{ '{0:>5}|{1:<4}|{2:^7}|'.format(b, a, 'mid') }}",
  "{{ '{:,}'.format(1234567) }}",
  "{{ '{!r}'.format(a) }}",
  "{{ '%+d %5.1f %-4s| %05d %e %g %g' % (b, f, a, 42, 12345.678, 0.0001, 1234567) }}",
  "{{ '%s' % nn }}",
  "{{ '%s and %s' % (t, nn) }}",
  "{{ 'rate: %.1f%%' % (b / 4 * 100) }}",
  "{{ ('a', 1) }}",
  '{{ (a, b) | list }}',
  "{{ users | selectattr('age', '>=', 30) | map(attribute='name') | join(',') }}",
  "{{ users | rejectattr('age', 'lt', 30) | map(attribute='name') | list }}",
  "{{ users | selectattr('name', 'in', ['al', 'cy']) | map(attribute='name') | list }}",
  '{% if e or ed %}some{% elif not es %}none{% endif %}',
  "{{ [e, ed, es, z, nn, 'x'] | select | list }}",
  "{{ users | sum(attribute='age', start=10) }}",
  '{{ long | truncate(9) }}',
  "{{ 'short' | truncate(3) }}",
  "{{ long | wordwrap(10, wrapstring='|') }}",
  '{{ 1.5 | round | int }}',
  '{{ 0.125 | round(2) }}',
  '{{ -2.5 | round | int }}',
];

// namespace(), one-element tuples and trailing commas, tests with an unparenthesised argument, exponent
// and underscore literals, and Jinja2's groupby/unique/min/max/slice/batch/dictsort/items shapes.
const NAMESPACE_AND_SYNTAX_TEMPLATES = [
  "{% set ns = namespace(found=false) %}{% for u in people %}{% if u.name == 'al' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}",
  '{% set ns = namespace(total=0, names=[]) %}{% for u in people %}{% set ns.total = ns.total + u.age %}{% set ns.names = ns.names + [u.name] %}{% endfor %}{{ ns.total }} {{ ns.names }}',
  '{% set ns = namespace() %}{% set ns.x = 1 %}{{ ns.x }}',
  '{% set ns = namespace(a=1) %}{{ ns.a }} {{ ns.b }}|',
  '{% set ns = namespace(a=1) %}{{ ns }}',
  "{% set ns = namespace({'a': 2}) %}{{ ns.a }}",
  '{% set ns = namespace(c=0) %}{% for u in people %}{% for w in letters %}{% set ns.c = ns.c + 1 %}{% endfor %}{% endfor %}{{ ns.c }}',
  '{% set x = 1 %}{% set x.y = 2 %}',
  '{{ (1,) }}',
  '{{ (a,) }}',
  '{{ (a,) | list }}',
  '{{ (1, 2,) }}',
  '{{ ((1,), 2) }}',
  '{{ b is divisibleby 3 }}',
  '{{ b is divisibleby(2) }}',
  '{{ nn is sameas none }}',
  '{{ b is greaterthan 2 }}',
  '{{ b is lessthan 2 }}',
  '{{ b is eq 3 }}',
  '{{ b is ne 3 }}',
  '{{ b is gt 2 and true }}',
  "{{ a is equalto 'web' }}",
  '{{ b is not divisibleby 2 }}',
  '{{ 2 is in l }}',
  "{{ 'x' is in d }}",
  '{{ b is ge 3 }}{{ b is le 2 }}{{ b is lt 4 }}',
  '{{ 1e20 }}',
  '{{ 1.5e-3 }}',
  '{{ 1e3 }}',
  '{{ 2E2 * 2 }}',
  '{{ 1_000 }}',
  "{{ people | groupby('grp') }}",
  "{% for g in people | groupby('grp') %}{{ g.grouper }}:{{ g.list | map(attribute='name') | join(',') }};{% endfor %}",
  "{% for g, items in people | groupby('grp') %}{{ g }}={{ items | length }};{% endfor %}",
  "{% for g in people | groupby('on') %}{{ g.grouper }}{{ g[0] }}{{ g[1] | length }};{% endfor %}",
  "{{ people | groupby('grp') | map(attribute='grouper') | list }}",
  '{{ d | dictsort }}',
  "{{ d | dictsort(by='value') }}",
  '{{ d | dictsort(reverse=true) }}',
  "{{ {'B': 1, 'a': 2} | dictsort }}",
  "{{ {'B': 1, 'a': 2} | dictsort(true) }}",
  '{% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %}',
  '{{ letters | unique | list }}',
  '{{ letters | unique(case_sensitive=true) | list }}',
  "{{ people | unique(attribute='grp') | map(attribute='name') | list }}",
  "{{ people | map(attribute='nope', default='z') | list }}",
  '{{ nums | batch(3) | list }}',
  "{{ nums | batch(3, 'x') | list }}",
  '{{ nums | slice(3) | list }}',
  '{{ nums | slice(3, 0) | list }}',
  "{{ people | sum(attribute='age') }}",
  "{{ people | min(attribute='age') }}",
  "{{ people | max(attribute='age') }}",
  '{{ letters | max }}',
  '{{ letters | min(case_sensitive=true) }}',
  '{{ letters | max(case_sensitive=true) }}',
  '{{ e | max }}',
  '{{ nums | sum(start=10) }}',
  '{{ a }}\r\nb\rc',
  '{% for w in letters %}{{ loop.index }}{% endfor %}\r\n',
  "{{ 'a\r\nb' }}",
  "{{ people | groupby('grp') | list | length }}",
  "{{ (people | groupby('grp'))[0].grouper }}",
  "{{ (people | groupby('grp'))[0] }}",
  '{{ l | sort | first }}',
  '{{ d | items | list }}',
  '{{ letters | join }}',
  "{{ nums | select('divisibleby', 3) | list }}",
  "{{ nums | reject('odd') | list }}",
  "{{ people | min(attribute='age') }}",
  "{{ (people | max(attribute='age')).name }}",
  '{{ letters | min }}{{ letters | max }}',
  '{{ 1.5e-5 }}',
  '{{ 0.0001 }}',
  '{{ 0.00012 }}',
  '{{ 1e-7 }}',
  '{{ 1e16 }}',
  '{{ 1.5e300 * 10 }}',
  '{{ 2e-3 * 2 }}',
  '{{ pairs | groupby(0) | list }}',
  "{% for k, vs in pairs | groupby(0) %}{{ k }}:{{ vs | map('last') | list }} {% endfor %}",
  "{% for g in mixed | groupby('k') %}{{ g.grouper }}{{ g.list | length }} {% endfor %}",
  "{% for g in mixed | groupby('k', case_sensitive=true) %}{{ g.grouper }}{{ g.list | length }} {% endfor %}",
  "{% for g in people | groupby('nope', default='z') %}{{ g.grouper }}{{ g.list | length }} {% endfor %}",
  "{{ mixed | unique(attribute='k') | list }}",
  "{{ 'aAbB' | unique | list }}",
  '{{ d | unique | list }}',
  "{{ nums | slice(3, 'x') | list }}",
  '{{ nums | slice(2) | list }}',
  '{{ nums | batch(2, fill_with=0) | list }}',
  '{% set ns = namespace(a=[1]) %}{% set ns.a = ns.a + [2] %}{{ ns.a }} {{ ns }}',
  '{% set ns = namespace(n=0) %}{% for i in range(5) if i is odd %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}',
  '{% set ns = namespace(first=none) %}{% for u in people %}{% if ns.first is none and u.on %}{% set ns.first = u.name %}{% endif %}{% endfor %}{{ ns.first }}',
  "{% set ns = namespace(found=false) %}{% for u in people %}{% if u.age is greaterthan 33 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ 'yes' if ns.found else 'no' }}",
  '{{ b is divisibleby 3 and b is odd }}',
  "{{ 'x' if b is even else 'y' }}",
  "{{ people | selectattr('age', 'divisibleby', 5) | map(attribute='name') | list }}",
  '{{ (a,) + (b,) }}',
  "{{ '%s' % (a,) }}",
  "{{ [1, 2,] }}{{ {'a': 1,} }}",
  '{{ 1_000_000 + 1 }}',
  '{{ (1,)[0] }}',
  '{% for x in (a,) %}{{ x }}{% endfor %}',
  '{{ b is sameas 3 }}',
  '{{ t is sameas true }}',
  '{{ nn is none }}',
  "{{ d | dictsort(false, 'value', true) }}",
  "{{ {'a': 'B', 'b': 'a'} | dictsort(by='value') }}",
  "{{ people | unique(attribute='on') | map(attribute='name') | join }}",
];

// Python's `in` (an undefined container holds nothing; None and numbers are no containers), and the
// template text as Jinja2's lexer reads it: \r\n and \r are \n, one trailing newline dropped.
const IN_AND_NEWLINE_TEMPLATES = [
  '{{ [1] in [[1]] }}',
  "{{ 'a' in nope }}",
  "{{ 'a' not in nope }}",
  "{{ 1 in 'abc' }}",
  "{{ 'a' in none }}",
  "{{ 'a' in 3 }}",
  "{{ 1 in {'1': 2} }}",
  "{{ 'x' in d }}",
  '{{ 2 in l }}',
  '{{ 2.0 in l }}',
  '{{ true in l }}',
  "{{ 'b' in 'abc' }}",
  "{{ nope in 'abc' }}",
  '{{ nope in l }}',
  '{{ none in [none] }}',
  "{{ {'a': 1} in [{'a': 1}] }}",
  '{{ (1, 2) in [(1, 2)] }}',
  "{{ 'a' in ('a', 'b') }}",
  'a {{ a }}\n',
  'a {{ a }}\r\n',
  'a {{ a }}\n\n',
  '{{ a }}\r\nb\r',
  'x\r{% if t %}\ry{% endif %}\r',
  '{% for w in words %}\r\n{{ w }}\r\n{% endfor %}\r\n',
  '{{ a }}\n{# c #}\r\n',
  "{{ 'x\r\ny' }}",
  '{% raw %}a\r\nb{% endraw %}{{ a }}',
  '{{ a }}\x85b',
];

const PY_DATA = {
  a: 'web',
  b: 3,
  f: 2.5,
  d: { x: 'X', n: 1, k: 'v' },
  l: [3, 1, 2],
  s: ' Hello World ',
  e: [],
  ed: {},
  es: '',
  z: 0,
  t: true,
  nn: null,
  users: [
    { name: 'bob', age: 30, on: true },
    { name: 'al', age: 25, on: false },
    { name: 'cy', age: 35, on: true },
  ],
  words: ['b', 'a', 'b', 'c'],
  long: 'the quick brown fox jumps over the lazy dog again and again',
  people: [
    { name: 'bob', age: 30, on: true, grp: 'x' },
    { name: 'al', age: 25, on: false, grp: 'y' },
    { name: 'cy', age: 35, on: true, grp: 'x' },
  ],
  letters: ['b', 'a', 'b', 'c', 'B'],
  nums: [1, 2, 3, 4, 5, 6, 7],
  pairs: [
    ['a', 1],
    ['b', 2],
    ['a', 3],
  ],
  mixed: [{ k: 'A' }, { k: 'a' }, { k: 'b' }],
};

// Jinja2's string filters call str() on what they get: an exit code, a flag or None piped into
// `trim` printed "200"/"True"/"None" in st2 and threw a JavaScript TypeError here. first/last/list of
// an undefined name are empty; of a number, Python's TypeError.
const STRING_FILTER_INPUT_TEMPLATES = [
  ...[
    'trim',
    'capitalize',
    'title',
    'center(9)',
    'striptags',
    'escape',
    'urlencode',
    'lower',
    'upper',
  ].flatMap((f) => ['t', 'b', 'nn', 'f', 'nope'].map((v) => `[{{ ${v} | ${f} }}]`)),
  "[{{ t | replace('r', 'x') }}]",
  "[{{ b | replace('3', 'three') }}]",
  '[{{ s | center(20) }}]',
  '[{{ a | center(width=8) }}]',
  '[{{ nn | wordcount }}] [{{ nope | wordcount }}] [{{ f | wordcount }}] [{{ long | wordcount }}]',
  '[{{ nope | string }}] [{{ nn | string }}]',
  '[{{ nope | first }}] [{{ nope | last }}] [{{ nope | list }}]',
  '{{ b | first }}',
  '{{ nn | last }}',
  '{{ f | list }}',
];

const ALL_PYTHONISMS = [
  ...PYTHONISM_TEMPLATES,
  ...NAMESPACE_AND_SYNTAX_TEMPLATES,
  ...IN_AND_NEWLINE_TEMPLATES,
  ...STRING_FILTER_INPUT_TEMPLATES,
];

// st2's own filters (st2common/expressions/functions: data, regex, time, path), each rendered by
// st2's function in the oracle (SCRIPT below holds them as st2 writes them) and by Squall. Left out:
// version_* and jsonpath_query (python-semver and jsonpath-rw are not in the oracle venv: their
// answers are in test/unit/jinja/filters.test.ts), error wording of orjson/PyYAML/re, and floats
// read from JSON (a whole float prints as an integer, see bench/README.md).
const ST2_FILTER_TEMPLATES = [
  '{{ d | to_json_string }}',
  '{{ d | to_json_string(indent=2) }}',
  '{{ d | to_json_string(2, true) }}',
  '{{ l | to_json_string }}',
  "{{ d | to_json_string(separators=(',', ':')) }}",
  '{{ s | to_json_string }}',
  '{{ nn | to_json_string }}',
  "{{ d | to_json_string(indent='  ') }}",
  '{{ d | to_yaml_string }}',
  '{{ l | to_yaml_string }}',
  '{{ s | to_yaml_string }}',
  '{{ nested | to_yaml_string }}',
  "{{ {'k': 'yes', 'n': '1', 'e': '', 'z': none, 'm': 'a: b', 't': true} | to_yaml_string }}",
  '{{ num | to_yaml_string }}',
  '{{ q | json_escape }}',
  '{{ s | json_escape }}',
  '{{ d | json_escape }}',
  '{{ \'"quoted"\' | json_escape }}',
  '{{ num | json_escape }}',
  '{{ (js | from_json_string).b }}',
  '{{ ys | from_yaml_string }}',
  "{{ '' | from_yaml_string }}",
  "{{ '2020-01-01' | from_yaml_string }}",
  '{{ d | to_complex }}',
  '{{ s | to_complex }}',
  "{{ s | regex_match('Hello') }}",
  "{{ s | regex_match('World') }}",
  "{{ s | regex_match('hello', true) }}",
  "{{ num | regex_match('1') }}",
  "{{ s | regex_search('W\\\\w+') }}",
  "{{ s | regex_search('^World') }}",
  "{{ s | regex_replace('o', '0') }}",
  "{{ s | regex_replace('(\\\\w+) (\\\\w+)', '\\\\2 \\\\1') }}",
  "{{ s | regex_replace('(?P<w>W)', '<\\\\g<w>>') }}",
  "{{ s | regex_replace('L', '_', true) }}",
  "{{ s | regex_substring('\\\\d+') }}",
  "{{ s | regex_substring('(\\\\w)o', 1) }}",
  "{{ s | regex_substring('o', -1) }}",
  "{{ s | regex_substring('zz') }}",
  "{{ s | regex_substring('(l)(l)') }}",
  '{{ n | to_human_time_from_seconds }}',
  '{{ 0 | to_human_time_from_seconds }}',
  '{{ f | to_human_time_from_seconds }}',
  '{{ big | to_human_time_from_seconds }}',
  '{{ 59.6 | to_human_time_from_seconds }}',
  '{{ 31536000 | to_human_time_from_seconds }}',
  '{{ 86400 | to_human_time_from_seconds }}',
  "{{ 'x' | to_human_time_from_seconds }}",
  '{{ nn | use_none }}',
  '{{ s | use_none }}',
  '{{ e | use_none }}',
  '{{ p | basename }}',
  '{{ p | dirname }}',
  "{{ '/' | basename }}{{ '/' | dirname }}",
  "{{ 'a/' | basename }}|{{ 'a/' | dirname }}",
  "{{ 'file' | dirname }}|",
  "{{ '//x//y' | dirname }}",
  '{{ y11 | from_yaml_string }}',
  "{{ 'yes' | from_yaml_string }}",
  "{{ '[on, off, 1_0]' | from_yaml_string }}",
  "{{ 'a: &x [1]\\nb: *x' | from_yaml_string }}",
  "{{ 'x: !!str 010' | from_yaml_string }}",
  "{{ '<<: {a: 1}\\nb: 2' | from_yaml_string }}",
  "{{ s | regex_substring('(\\\\w)(\\\\w)', 1) }}",
  "{{ (s | regex_substring('(l)(l)'))[1] }}",
  // to_yaml_string as libyaml writes it: quoting, multi-line strings, folding at 80 columns.
  '{{ yquoted | to_yaml_string }}',
  '{{ ykeys | to_yaml_string }}',
  '{{ ylist | to_yaml_string }}',
  '{{ d | to_yaml_string(indent=4) }}',
  '{{ yl | to_yaml_string }}',
  '{{ yl | to_yaml_string(indent=4) }}',
  '{{ yml | to_yaml_string }}',
  '{{ yml | to_yaml_string(indent=4) }}',
  '{{ ynested | to_yaml_string }}',
  '{{ ynested | to_yaml_string(indent=3) }}',
  '{{ yml.long | to_yaml_string }}',
  '{{ yml.stdout | to_yaml_string }}',
  '{{ yml.empty | to_yaml_string }}',
  "{{ 'yes' | to_yaml_string }}",
  '{{ [yml.long, [yml.long]] | to_yaml_string }}',
  "{{ {'a': [yml.longml]} | to_yaml_string }}",
  '{{ 12 | to_yaml_string }}',
  '{{ none | to_yaml_string }}',
  '{{ true | to_yaml_string }}',
  '{{ [[]] | to_yaml_string }}',
  '{{ {} | to_yaml_string }}',
];

const ST2_DATA = {
  yquoted: {
    k00: '- ',
    k01: '?',
    k02: '? x',
    k03: ': x',
    k04: 'a:b',
    k05: '#',
    k06: 'a#b',
    k07: '1e3',
    k08: '0o7',
    k09: '1_000',
    k10: '+1',
    k11: '.5',
    k12: '1:30',
    k13: 'null',
    k14: 'Null',
    k15: 'NULL',
    k16: '~',
    k17: 'y',
    k18: 'n',
    k19: 'True',
    k20: '=',
    k21: '<<',
    k22: '😀 ok',
    k23: 'a b',
    k24: ' ',
    k25: 'x\r\ny',
    k26: "'",
    k27: '"',
    k28: "'a'",
    k29: '--- x',
    k30: '...',
    k31: '%x',
    k32: '@x',
    k33: '`x',
    k34: '!x',
    k35: '&x',
    k36: '|x',
    k37: '>x',
    k38: 'a,b',
    k39: '[x',
    k40: '{x',
    k41: 'a: ',
    k42: ' ',
    k43: '\n',
    k44: 'a\n',
    k45: '\na',
    k46: '2020-1-1',
    k47: '2020-01-01 10:00:00',
    k48: '0x1F',
    k49: '0b101',
    k50: '07',
    k51: '08',
    k52: '.inf',
    k53: '.NaN',
    k54: '-',
    k55: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx y',
    k56: 'a  b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b ',
    k57: 'word word word word word word word word word word word word word word word word  double  space w w w w w w w w w w w w w w w w w w w w ',
  },
  ykeys: {
    '- ': 1,
    '?': 1,
    '? x': 1,
    ': x': 1,
    'a:b': 1,
    '#': 1,
    'a#b': 1,
    '1e3': 1,
    '0o7': 1,
    '1_000': 1,
    '+1': 1,
    '.5': 1,
    '1:30': 1,
    null: 1,
    Null: 1,
    NULL: 1,
    '~': 1,
    y: 1,
    n: 1,
    True: 1,
    '=': 1,
    '<<': 1,
    '😀 ok': 1,
    'a b': 1,
    ' ': 1,
    'x\r\ny': 1,
    "'": 1,
    '"': 1,
    "'a'": 1,
    '--- x': 1,
    '...': 1,
    '%x': 1,
    '@x': 1,
    '`x': 1,
    '!x': 1,
    '&x': 1,
    '|x': 1,
    '>x': 1,
    'a,b': 1,
    '[x': 1,
    '{x': 1,
    'a: ': 1,
    ' ': 1,
    '\n': 1,
    'a\n': 1,
    '\na': 1,
    '2020-1-1': 1,
    '2020-01-01 10:00:00': 1,
    '0x1F': 1,
    '0b101': 1,
    '07': 1,
    '08': 1,
    '.inf': 1,
    '.NaN': 1,
    '-': 1,
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx y': 1,
    'a  b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b ': 1,
    'word word word word word word word word word word word word word word word word  double  space w w w w w w w w w w w w w w w w w w w w ': 1,
  },
  ylist: [
    '- ',
    '?',
    '? x',
    ': x',
    'a:b',
    '#',
    'a#b',
    '1e3',
    '0o7',
    '1_000',
    '+1',
    '.5',
    '1:30',
    'null',
    'Null',
    'NULL',
    '~',
    'y',
    'n',
    'True',
    '=',
    '<<',
    '😀 ok',
    'a b',
    ' ',
    'x\r\ny',
    "'",
    '"',
    "'a'",
    '--- x',
    '...',
    '%x',
    '@x',
    '`x',
    '!x',
    '&x',
    '|x',
    '>x',
    'a,b',
    '[x',
    '{x',
    'a: ',
    ' ',
    '\n',
    'a\n',
    '\na',
    '2020-1-1',
    '2020-01-01 10:00:00',
    '0x1F',
    '0b101',
    '07',
    '08',
    '.inf',
    '.NaN',
    '-',
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx y',
    'a  b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b ',
    'word word word word word word word word word word word word word word word word  double  space w w w w w w w w w w w w w w w w w w w w ',
  ],
  yml: {
    stdout: 'line1\nline2\n',
    stderr: '',
    code: 0,
    msg: 'a\n\nb',
    lead: ' x',
    trail: 'x ',
    tab: 'a\tb',
    q: "it's",
    dq: 'say "hi"',
    long: 'word word word word word word word word word word word word word word word word word word word word word word word word word end',
    longnospace:
      'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    colon: 'a: b',
    hash: 'a #b',
    dash: '- x',
    star: '*x',
    yes: 'yes',
    num: '012',
    float: '1.5',
    date: '2020-01-01',
    uni: 'h\u00e9llo \u2713',
    empty: '',
    nul: 'null',
    tilde: '~',
    longml:
      'alpha beta gamma delta alpha beta gamma delta alpha beta gamma delta alpha beta gamma delta alpha beta gamma delta alpha beta gamma delta \nx',
    sp_nl: 'a \nb',
    nl_sp: 'a\n b',
    'k e y': 1,
    yes_key: { on: 1 },
  },
  yl: [3, 'x', true, null, 1.5, [], {}, [1, [2, 3]], { k: [4] }],
  ynested: {
    hosts: [
      { name: 'a', ip: '1.1.1.1', tags: ['x', 'y'] },
      { name: 'b', ip: '2.2.2.2', tags: [] },
    ],
    deep: {
      a: {
        b: {
          c: 'word word word word word word word word word word word word word word word word word word word word ',
        },
      },
    },
  },
  d: { b: 1, a: [1, 2, { c: null }], u: '\u00e9' },
  l: [3, 'x', true, null, 1.5],
  s: 'Hello World 42',
  n: 3725,
  f: 0.5,
  js: '{"a": 1, "b": [true, null], "c": 1.0}',
  ys: "a: 1\nb: [x, 'y']\nc: null\nd: yes\n",
  p: '/opt/stack/pack/actions/run.sh',
  q: 'say "hi"\n\tthere \\ ok',
  v: '1.2.3',
  big: 90061,
  nested: {
    hosts: [
      { name: 'a', ip: '1.1.1.1' },
      { name: 'b', ip: '2.2.2.2' },
    ],
  },
  e: '',
  nn: null,
  num: 12,
  y11: "a: yes\nb: No\nc: on\nd: OFF\ne: 010\nf: 0x1F\ng: 1_000\nh: 1:30\ni: 1e3\nj: 1.5\nk: ~\nl: .inf\nm: 0b101\nn: -0o7\no: y\np: '010'\nr: +12\n",
};

const SCRIPT = String.raw`
import json, sys
from jinja2 import Environment
from jinja2.sandbox import SandboxedEnvironment
plain = Environment()
st2 = Environment(trim_blocks=True, lstrip_blocks=True)
sandboxed = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
# st2's to_json_string (st2common/expressions/functions/data.py)
sandboxed.filters["to_json_string"] = lambda v, indent=None, sort_keys=False, separators=(",", ": "): json.dumps(v, indent=indent, sort_keys=sort_keys, separators=separators)
# st2's filters as st2common/expressions/functions writes them (orjson.loads is json.loads here,
# the same for valid JSON; mongodb_to_python_types has nothing to convert in plain data).
import datetime, os, re, yaml
def st2_from_json_string(value):
    return json.loads(str(value))
def st2_from_yaml_string(value):
    return yaml.load(str(value), Loader=yaml.CSafeLoader)
def st2_to_json_string(value, indent=None, sort_keys=False, separators=(",", ": ")):
    options = {}
    if indent is not None:
        options["indent"] = indent
    if sort_keys is not None:
        options["sort_keys"] = sort_keys
    if separators is not None:
        options["separators"] = separators
    return json.dumps(value, **options)
def st2_to_yaml_string(value, indent=None, allow_unicode=True):
    options = {"default_flow_style": False}
    if indent is not None:
        options["indent"] = indent
    if allow_unicode is not None:
        options["allow_unicode"] = allow_unicode
    # st2 dumps with libyaml's CSafeDumper (its packages ship libyaml), which ends no document with '...'.
    return yaml.dump(value, Dumper=yaml.CSafeDumper, **options)
def st2_regex_match(value, pattern, ignorecase=False):
    if not isinstance(value, str):
        value = str(value)
    return bool(re.match(pattern, value, re.I if ignorecase else 0))
def st2_regex_replace(value, pattern, replacement, ignorecase=False):
    if not isinstance(value, str):
        value = str(value)
    return re.compile(pattern, re.I if ignorecase else 0).sub(replacement, value)
def st2_regex_search(value, pattern, ignorecase=False):
    if not isinstance(value, str):
        value = str(value)
    return bool(re.search(pattern, value, re.I if ignorecase else 0))
def st2_regex_substring(value, pattern, result_index=0, ignorecase=False):
    if not isinstance(value, str):
        value = str(value)
    return re.findall(pattern, value, re.I if ignorecase else 0)[result_index]
def st2_to_human_time_from_seconds(seconds):
    assert isinstance(seconds, int) or isinstance(seconds, float)
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return "%s\u03BCs" % seconds
    if isinstance(seconds, float):
        seconds = int(round(seconds))
    offset_date = datetime.datetime(1, 1, 1) + datetime.timedelta(seconds=seconds)
    time_parts = [offset_date.year - 1, offset_date.day - 1, offset_date.hour, offset_date.minute, offset_date.second]
    first = next((i for i, x in enumerate(time_parts) if x), None)
    if first is None:
        return "0s"
    time_parts = time_parts[first:]
    return ["%ss", "%sm%ss", "%sh%sm%ss", "%sd%sh%sm%ss", "%sy%sd%sh%sm%ss"][len(time_parts) - 1] % tuple(time_parts)
st2filters = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
st2filters.filters.update({
    "from_json_string": st2_from_json_string,
    "from_yaml_string": st2_from_yaml_string,
    "json_escape": lambda value: json.dumps(value).strip('"'),
    "to_complex": lambda value: json.dumps(value),
    "to_json_string": st2_to_json_string,
    "to_yaml_string": st2_to_yaml_string,
    "regex_match": st2_regex_match,
    "regex_replace": st2_regex_replace,
    "regex_search": st2_regex_search,
    "regex_substring": st2_regex_substring,
    "to_human_time_from_seconds": st2_to_human_time_from_seconds,
    "use_none": lambda value: "%*****__%NONE%__*****%" if value is None else value,
    "basename": os.path.basename,
    "dirname": os.path.dirname,
})
req = json.load(sys.stdin)
def answer(fn):
    try:
        return {"ok": True, "value": fn()}
    except Exception as e:
        return {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
print(json.dumps({
    "expressions": {e: answer(lambda: plain.compile_expression(e)(**req["data"])) for e in req["expressions"]},
    "templates": {t: answer(lambda: st2.from_string(t).render(**req["data"])) for t in req["templates"]},
    "pythonisms": {t: answer(lambda: sandboxed.from_string(t).render(**req["pyData"])) for t in req["pythonisms"]},
    "st2filters": {t: answer(lambda: st2filters.from_string(t).render(**req["st2Data"])) for t in req["st2Filters"]},
}))
`;

type Answer = { ok: true; value: unknown } | { ok: false; error: string };

function ours(fn: () => unknown): Answer {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

describe('Jinja against Python Jinja2', () => {
  let python: {
    expressions: Record<string, Answer>;
    templates: Record<string, Answer>;
    pythonisms: Record<string, Answer>;
    st2filters: Record<string, Answer>;
  };
  beforeAll(async () => {
    if (!pythonAvailable()) throw new Error('python3 is required for the Jinja2 oracle');
    python = (await runPythonOracle(SCRIPT, {
      expressions: EXPRESSIONS,
      templates: TEMPLATES,
      data: DATA,
      pythonisms: ALL_PYTHONISMS,
      pyData: PY_DATA,
      st2Filters: ST2_FILTER_TEMPLATES,
      st2Data: ST2_DATA,
    })) as typeof python;
  }, 600_000);

  it.each(EXPRESSIONS)('+ and *: %s', (expr) => {
    const py = python.expressions[expr];
    const js = ours(() => evaluateJinja(`{{ ${expr} }}`, DATA));
    if (py.ok) {
      expect(js).toEqual(py);
    } else {
      // Python's TypeError, with Python's words.
      expect(py.error).toMatch(/^TypeError: /);
      expect(js.ok).toBe(false);
      expect(js.ok ? '' : js.error).toContain(py.error.replace(/^TypeError: /, ''));
    }
  });

  it.each(TEMPLATES)('whitespace control: %j', (template) => {
    const py = python.templates[template];
    expect(py.ok).toBe(true);
    expect(ours(() => renderTemplate(template, DATA))).toEqual(py);
  });

  // A fresh copy of the data each time: a template may not change the data another reads.
  const renderedAsPython = (py: Answer, template: string, data: Record<string, unknown>): void => {
    const js = ours(() => renderTemplate(template, structuredClone(data)));
    if (py.ok) {
      expect(js).toEqual(py);
    } else {
      // Python's exception, with Python's words.
      expect(js.ok).toBe(false);
      expect(js.ok ? '' : js.error).toContain(py.error.replace(/^\w+: /, ''));
    }
  };

  it.each(ALL_PYTHONISMS)('Python-isms: %j', (template) => {
    renderedAsPython(python.pythonisms[template], template, PY_DATA);
  });

  it.each(ST2_FILTER_TEMPLATES)("st2's filters: %j", (template) => {
    renderedAsPython(python.st2filters[template], template, ST2_DATA);
  });
});
