/**
 * Rule criteria operators with Python's semantics (st2-reference.md §4.2; st2common/operators.py).
 * Comparisons follow Python: `True == 1`, `'a' < 1` is a TypeError, `x in None` is a TypeError.
 * A TypeError here becomes an error result (st2 records a failed rule enforcement), never a match.
 */
import {
  fnmatchRegex,
  isPlainObject,
  pyEquals,
  pyOrder,
  pyRegexTest,
  pyRepr,
  pyTypeName,
} from '../../workflows/expressions/jinja/index.js';

export { pyEquals, pyTypeName };

/** An operator failed the way Python would raise (TypeError, AttributeError, re.error...). */
export class OperatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorError';
  }
}

/** Python `needle in container`. */
export function pyContains(container: unknown, needle: unknown): boolean {
  if (typeof container === 'string') {
    if (typeof needle !== 'string')
      throw new OperatorError(`'in <string>' requires string as left operand, not ${pyTypeName(needle)}`);
    return container.includes(needle);
  }
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, needle));
  if (isPlainObject(container)) {
    if (Array.isArray(needle) || isPlainObject(needle))
      throw new OperatorError(`unhashable type: '${pyTypeName(needle)}'`);
    return typeof needle === 'string' && Object.prototype.hasOwnProperty.call(container, needle);
  }
  throw new OperatorError(`argument of type '${pyTypeName(container)}' is not iterable`);
}

/** Python `<` / `>` ordering: numbers with numbers, strings with strings, lists element-wise. */
export function pyCompare(a: unknown, b: unknown, op: '<' | '>'): number {
  const order = pyOrder(a, b);
  if (order === undefined)
    throw new OperatorError(
      `'${op}' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`,
    );
  return order;
}

function str(v: unknown, method: string): string {
  if (typeof v !== 'string')
    throw new OperatorError(`'${pyTypeName(v)}' object has no attribute '${method}'`);
  return v;
}

function regexSubject(v: unknown): string {
  if (typeof v !== 'string')
    throw new OperatorError(`expected string or bytes-like object, got '${pyTypeName(v)}'`);
  return v;
}

function regexPattern(p: unknown): string {
  if (typeof p !== 'string')
    throw new OperatorError(`first argument must be string or compiled pattern, not ${pyTypeName(p)}`);
  return p;
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses a date string as dateutil does for the common forms; naive times are UTC (st2). */
export function parseDateUtc(value: unknown): Date {
  if (typeof value !== 'string')
    throw new OperatorError(`Parser must be a string or character stream, not ${pyTypeName(value)}`);
  const m = ISO_DATE.exec(value.trim());
  if (m) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', tz] = m;
    const zone =
      !tz || tz.toUpperCase() === 'Z' ? 'Z' : tz.includes(':') ? tz : `${tz.slice(0, 3)}:${tz.slice(3)}`;
    const ms = frac ? frac.slice(0, 4).padEnd(4, '0') : '';
    const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${zone}`);
    if (!Number.isNaN(date.getTime())) return date;
  } else {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new OperatorError(`Unknown string format: ${value}`);
}

export interface OperatorContext {
  now: Date;
}

export type OperatorFunction = (value: unknown, pattern: unknown, ctx: OperatorContext) => boolean;

const nullFalse =
  (fn: OperatorFunction): OperatorFunction =>
  (value, pattern, ctx) =>
    pattern === null || pattern === undefined ? false : fn(value, pattern, ctx);

/**
 * Python's float(x), which st2 applies to the timediff pattern: st2web sends the seconds as a
 * string ("10"), so strings of a number count as that number.
 */
function pyFloat(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'string') {
    const t = x.trim().replace(/_/g, '');
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
    const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
    if (special) return special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
    throw new OperatorError(`could not convert string to float: '${x}'`);
  }
  throw new OperatorError(
    `float() argument must be a string or a real number, not '${x === null ? 'NoneType' : Array.isArray(x) ? 'list' : 'dict'}'`,
  );
}

function timediff(value: unknown, pattern: unknown, now: Date, op: '<' | '>'): boolean {
  const seconds = (now.getTime() - parseDateUtc(value).getTime()) / 1000;
  const period = pyFloat(pattern);
  return op === '<' ? seconds < period : seconds > period;
}

export interface OperatorInfo {
  name: string;
  aliases: string[];
  description: string;
  /** false for exists/nexists, which ignore the pattern. */
  usesPattern: boolean;
}

interface OperatorDef extends OperatorInfo {
  fn?: OperatorFunction;
}

const DEFS: OperatorDef[] = [
  {
    name: 'equals',
    aliases: ['eq'],
    description: 'value == pattern (any type)',
    usesPattern: true,
    fn: nullFalse((v, p) => pyEquals(v, p)),
  },
  {
    name: 'nequals',
    aliases: ['neq'],
    description: 'value != pattern (a null pattern is compared, not rejected)',
    usesPattern: true,
    fn: (v, p) => !pyEquals(v, p),
  },
  {
    name: 'iequals',
    aliases: ['ieq'],
    description: 'case-insensitive string equality',
    usesPattern: true,
    fn: nullFalse((v, p) => str(v, 'lower').toLowerCase() === str(p, 'lower').toLowerCase()),
  },
  {
    name: 'contains',
    aliases: [],
    description: 'pattern in value (substring or list membership)',
    usesPattern: true,
    fn: nullFalse((v, p) => pyContains(v, p)),
  },
  {
    name: 'ncontains',
    aliases: [],
    description: 'pattern not in value',
    usesPattern: true,
    fn: nullFalse((v, p) => !pyContains(v, p)),
  },
  {
    name: 'icontains',
    aliases: [],
    description: 'case-insensitive substring',
    usesPattern: true,
    fn: nullFalse((v, p) => str(v, 'lower').toLowerCase().includes(str(p, 'lower').toLowerCase())),
  },
  {
    name: 'incontains',
    aliases: [],
    description: 'case-insensitive "does not contain"',
    usesPattern: true,
    fn: nullFalse((v, p) => !str(v, 'lower').toLowerCase().includes(str(p, 'lower').toLowerCase())),
  },
  {
    name: 'startswith',
    aliases: [],
    description: 'value starts with pattern',
    usesPattern: true,
    fn: nullFalse((v, p) => str(v, 'startswith').startsWith(str(p, 'startswith'))),
  },
  {
    name: 'istartswith',
    aliases: [],
    description: 'value starts with pattern, ignoring case',
    usesPattern: true,
    fn: nullFalse((v, p) => str(v, 'lower').toLowerCase().startsWith(str(p, 'lower').toLowerCase())),
  },
  {
    name: 'endswith',
    aliases: [],
    description: 'value ends with pattern',
    usesPattern: true,
    fn: nullFalse((v, p) => str(v, 'endswith').endsWith(str(p, 'endswith'))),
  },
  {
    name: 'iendswith',
    aliases: [],
    description: 'value ends with pattern, ignoring case',
    usesPattern: true,
    fn: nullFalse((v, p) => str(v, 'lower').toLowerCase().endsWith(str(p, 'lower').toLowerCase())),
  },
  {
    name: 'lessthan',
    aliases: ['lt'],
    description: 'value < pattern',
    usesPattern: true,
    fn: nullFalse((v, p) => pyCompare(v, p, '<') < 0),
  },
  {
    name: 'greaterthan',
    aliases: ['gt'],
    description: 'value > pattern',
    usesPattern: true,
    fn: nullFalse((v, p) => pyCompare(v, p, '>') > 0),
  },
  {
    name: 'matchwildcard',
    aliases: [],
    description: 'shell glob (fnmatch: *, ?, [..])',
    usesPattern: true,
    fn: nullFalse((v, p) => fnmatchRegex(str(p, 'fnmatch')).test(regexSubject(v))),
  },
  {
    name: 'regex',
    aliases: [],
    description: 're.search(pattern, value) (unanchored)',
    usesPattern: true,
    fn: nullFalse((v, p) => pyRegexTest(regexPattern(p), regexSubject(v))),
  },
  {
    name: 'iregex',
    aliases: [],
    description: 'as regex, ignoring case',
    usesPattern: true,
    fn: nullFalse((v, p) => pyRegexTest(regexPattern(p), regexSubject(v), { ignoreCase: true })),
  },
  {
    name: 'matchregex',
    aliases: [],
    description: 'deprecated: re.match with DOTALL (anchored at the start)',
    usesPattern: true,
    fn: nullFalse((v, p) => pyRegexTest(regexPattern(p), regexSubject(v), { dotAll: true, anchored: true })),
  },
  {
    name: 'timediff_lt',
    aliases: ['td_lt'],
    description: '(now − value) in seconds < pattern',
    usesPattern: true,
    fn: nullFalse((v, p, c) => timediff(v, p, c.now, '<')),
  },
  {
    name: 'timediff_gt',
    aliases: ['td_gt'],
    description: '(now − value) in seconds > pattern',
    usesPattern: true,
    fn: nullFalse((v, p, c) => timediff(v, p, c.now, '>')),
  },
  {
    name: 'exists',
    aliases: [],
    description: 'key present (value not null)',
    usesPattern: false,
    fn: (v) => v !== null && v !== undefined,
  },
  {
    name: 'nexists',
    aliases: [],
    description: 'key absent (value null)',
    usesPattern: false,
    fn: (v) => v === null || v === undefined,
  },
  {
    name: 'inside',
    aliases: ['in'],
    description: 'value in pattern (reverse of contains)',
    usesPattern: true,
    fn: nullFalse((v, p) => pyContains(p, v)),
  },
  {
    name: 'ninside',
    aliases: ['nin'],
    description: 'value not in pattern',
    usesPattern: true,
    fn: nullFalse((v, p) => !pyContains(p, v)),
  },
  {
    name: 'search',
    aliases: [],
    description:
      'value is a list; pattern is a map of item.* criteria; condition any | all | any2any | all2any',
    usesPattern: true,
  },
];

/** Every operator with its aliases, for the criteria editor. */
export const OPERATORS: readonly OperatorInfo[] = DEFS.map(({ name, aliases, description, usesPattern }) => ({
  name,
  aliases,
  description,
  usesPattern,
}));

/** Every accepted operator name (canonical names and aliases), lower case. */
export const OPERATOR_NAMES: readonly string[] = DEFS.flatMap((d) => [d.name, ...d.aliases]);

const BY_NAME = new Map<string, OperatorDef>(
  DEFS.flatMap((d) => [d.name, ...d.aliases].map((n) => [n, d] as [string, OperatorDef])),
);

/** Canonical operator name for a name or alias, case-insensitively; undefined when unknown. */
export function canonicalOperator(name: unknown): string | undefined {
  return typeof name === 'string' ? BY_NAME.get(name.toLowerCase())?.name : undefined;
}

export function getOperator(name: string): OperatorFunction | undefined {
  return BY_NAME.get(name.toLowerCase())?.fn;
}

export const SEARCH_CONDITIONS = ['any', 'all', 'any2any', 'all2any'] as const;

export function describeValue(v: unknown): string {
  return pyRepr(v);
}
