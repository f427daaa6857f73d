/**
 * Squall's Jinja changes reach into nunjucks' internals: they replace or wrap its parser's and
 * compiler's methods, and the loop changes rewrite lines of the JavaScript nunjucks emits. A
 * nunjucks upgrade that renamed a method or changed a line would otherwise let a patch stop
 * applying without a word, and templates would quietly render as nunjucks does (a `{% set %}` in a
 * loop leaking out of it, `[]` true). Each patch names what it needs here, and the probes below,
 * rendered once before the first template, fail loudly with the name of the patch that no longer
 * holds.
 */
import { SquallError } from '../../../errors.js';

export function patchMismatch(patch: string, what: string): SquallError {
  return new SquallError(
    'JINJA_PATCH_MISMATCH',
    `the Jinja patch '${patch}' no longer applies to this nunjucks version: it did not find ${what}`,
    { patch },
    500,
  );
}

/** A nunjucks internal a patch replaces or wraps; a nunjucks that renamed it fails here, by name. */
export function nunjucksMethod<T>(proto: Record<string, unknown>, name: string, patch: string): T {
  const fn = proto[name];
  if (typeof fn !== 'function') throw patchMismatch(patch, `nunjucks' ${name}()`);
  return fn as T;
}

export interface PatchProbe {
  /** The patch the probe proves, as named in the error. */
  patch: string;
  template: string;
  expected: string;
}

/** One template per patch, with what Jinja2 renders for it (and nunjucks alone does not). */
export const PATCH_PROBES: readonly PatchProbe[] = [
  { patch: 'python output', template: '{{ [none, true] }}', expected: '[None, True]' },
  { patch: 'python methods', template: "{{ ' a b '.split() }}", expected: "['a', 'b']" },
  { patch: 'comparisons', template: '{{ [1, 2] < [1, 3] }}', expected: 'True' },
  { patch: 'in', template: "{{ [1] in [[1]] }}{{ 'a' in nope }}", expected: 'TrueFalse' },
  { patch: 'arithmetic', template: "{{ [1] + [2] }}{{ '-' * 2 }}", expected: '[1, 2]--' },
  { patch: 'truth', template: "{{ 'y' if [] else 'n' }}{% if {} %}y{% endif %}", expected: 'n' },
  { patch: 'and/or', template: "{{ [] or 'x' }}", expected: 'x' },
  { patch: '~', template: '{{ none ~ true }}', expected: 'NoneTrue' },
  {
    patch: 'loop scope',
    template: '{% set c = 0 %}{% for x in [1, 2] %}{% set c = x %}{% endfor %}{{ c }}',
    expected: '0',
  },
  { patch: 'loop sequence', template: "{% for k in {'a': 1} %}{{ k }}{% endfor %}", expected: 'a' },
  {
    patch: 'loop sequence',
    template: "{% for k, v in {'a': 1}.items() %}{% for x in [k] %}{{ x }}{{ v }}{% endfor %}{% endfor %}",
    expected: 'a1',
  },
  { patch: 'loop filter', template: '{% for x in [1, 2, 3] if x > 1 %}{{ x }}{% endfor %}', expected: '23' },
  {
    patch: 'loop.cycle',
    template: "{% for x in [1, 2, 3] %}{{ loop.cycle('a', 'b') }}{% endfor %}",
    expected: 'aba',
  },
  { patch: 'tuples', template: '{{ (1, 2) }}{{ (1,) }}{{ [1,] }}', expected: '(1, 2)(1,)[1]' },
  { patch: 'tests', template: '{{ 6 is divisibleby 3 }}{{ none is sameas none }}', expected: 'TrueTrue' },
  { patch: 'numbers', template: '{{ 1e3 }} {{ 1.5e-3 }} {{ 1_000 }}', expected: '1000.0 0.0015 1000' },
  {
    patch: 'namespace',
    template:
      '{% set ns = namespace(n=0) %}{% for x in [1, 2] %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}',
    expected: '3',
  },
  { patch: 'floats', template: '{{ 4 / 2 }}', expected: '2.0' },
  { patch: 'subscripts', template: "{{ 'abc'[::-1] }}{{ [1, 2, 3][-1] }}", expected: 'cba3' },
  { patch: 'sandbox', template: '{{ range.constructor }}', expected: '' },
];

/**
 * Renders each probe; the first that does not render what Jinja2 does throws, naming its patch.
 * Only the jinja index calls it (with its renderer), once for the process.
 */
export function checkPatches(render: (template: string) => string, probes = PATCH_PROBES): void {
  for (const { patch, template, expected } of probes) {
    let got: string;
    try {
      got = render(template);
    } catch (err) {
      // A patch's own check (a line it did not find) says more than the probe can.
      if (err instanceof SquallError && err.code === 'JINJA_PATCH_MISMATCH') throw err;
      throw patchMismatch(patch, `'${template}' rendering (it failed: ${(err as Error).message})`);
    }
    if (got !== expected)
      throw patchMismatch(patch, `'${template}' rendering as Jinja2 does ('${expected}', not '${got}')`);
  }
}
