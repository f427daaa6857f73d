/**
 * Python's string formatting for Jinja templates: `'%s-%d' % (a, b)`, `'%(x)s' % d` and the
 * format specs of `'{:.2f}'.format(x)`. nunjucks compiled `%` to JavaScript's remainder, so
 * `'%s' % name` rendered 'nan'.
 */
import { SquallError } from '../../../errors.js';
import { spendBuild } from './budget.js';
import { isPlainObject, isTuple, pyRepr, pyStr, pyTypeName } from './python.js';

function typeError(message: string): SquallError {
  return new SquallError('JINJA_PYTHON_TYPE_ERROR', message, { python: 'TypeError' });
}

function valueError(message: string): SquallError {
  return new SquallError('JINJA_PYTHON_VALUE_ERROR', message, { python: 'ValueError' });
}

// Python writes exponents with at least two digits: 1.5e-07, 1e+20.
const twoDigitExponent = (s: string): string => s.replace(/e([+-])(\d)$/, 'e$10$2');

function gFormat(n: number, precision: number, alternate: boolean): string {
  const p = precision === 0 ? 1 : precision;
  if (n === 0) return alternate ? (0).toFixed(p - 1) : '0';
  const exp = Math.floor(Math.log10(Math.abs(Number(n.toPrecision(p)))));
  let out = exp < -4 || exp >= p ? n.toExponential(p - 1) : n.toFixed(Math.max(0, p - 1 - exp));
  if (!alternate) out = out.replace(/\.?0+(e|$)/, '$1');
  return twoDigitExponent(out);
}

function number(v: unknown, conversion: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw typeError(
    conversion === 'd' || conversion === 'i' || conversion === 'x' || conversion === 'o'
      ? `%${conversion} format: a real number is required, not ${pyTypeName(v)}`
      : `must be real number, not ${pyTypeName(v)}`,
  );
}

interface Spec {
  fill: string;
  align: string;
  sign: string;
  alternate: boolean;
  zero: boolean;
  width: number;
  grouping: string;
  precision: number | undefined;
  type: string;
}

/** One value converted by a spec (shared by `%` and str.format): the text before padding. */
function convert(v: unknown, spec: Spec): string {
  const { type, precision } = spec;
  if (type === 's' || (type === '' && typeof v !== 'number')) {
    const s = pyStr(v);
    return precision === undefined ? s : s.slice(0, precision);
  }
  if (type === 'r') return pyRepr(v);
  if (type === 'c') return typeof v === 'string' ? v : String.fromCodePoint(number(v, 'c'));
  const n = number(v, type);
  let body: string;
  const abs = Math.abs(n);
  if (!Number.isFinite(n)) body = Number.isNaN(n) ? 'nan' : 'inf';
  else if (type === 'd' || type === 'i' || type === 'n') body = String(Math.trunc(abs));
  else if (type === 'x' || type === 'X' || type === 'o' || type === 'b') {
    const base = type === 'o' ? 8 : type === 'b' ? 2 : 16;
    body = Math.trunc(abs).toString(base);
    if (spec.alternate) body = (type === 'o' ? '0o' : type === 'b' ? '0b' : '0x') + body;
    if (type === 'X') body = body.toUpperCase();
  } else if (type === 'f' || type === 'F') body = abs.toFixed(precision ?? 6);
  else if (type === 'e' || type === 'E') {
    body = twoDigitExponent(abs.toExponential(precision ?? 6));
    if (type === 'E') body = body.toUpperCase();
  } else if (type === '%') body = (abs * 100).toFixed(precision ?? 6) + '%';
  else if (type === 'g' || type === 'G') body = gFormat(abs, precision ?? 6, spec.alternate);
  else if (type === '') body = precision === undefined ? pyStr(abs) : gFormat(abs, precision, false);
  else throw valueError(`Unknown format code '${type}' for object of type '${pyTypeName(v)}'`);
  if (spec.grouping && /^\d+/.test(body))
    body = body.replace(/^\d+/, (d) => d.replace(/\B(?=(\d{3})+$)/g, spec.grouping));
  const sign = n < 0 || Object.is(n, -0) ? '-' : spec.sign === '+' ? '+' : spec.sign === ' ' ? ' ' : '';
  return sign + body;
}

function pad(text: string, spec: Spec, numeric: boolean): string {
  if (text.length >= spec.width) return text;
  spendBuild(spec.width, 'string formatting');
  const fill = spec.zero && !spec.align ? '0' : spec.fill;
  const align = spec.align || (spec.zero ? '=' : numeric ? '>' : '<');
  const gap = spec.width - text.length;
  if (align === '<') return text + fill.repeat(gap);
  if (align === '>') return fill.repeat(gap) + text;
  if (align === '^') {
    const left = Math.floor(gap / 2);
    return fill.repeat(left) + text + fill.repeat(gap - left);
  }
  const sign = /^[-+ ]/.test(text) ? text[0] : '';
  return sign + fill.repeat(gap) + text.slice(sign.length);
}

const PRINTF = /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXeEfFgGcrsa%])/g;

/** `format % args`, Python's printf-style formatting. */
export function pyPercentFormat(format: string, args: unknown): string {
  const mapping = isPlainObject(args) ? args : undefined;
  const positional = isTuple(args) ? args : [args];
  let next = 0;
  let usedMapping = false;
  const take = (): unknown => {
    if (next >= positional.length) throw typeError('not enough arguments for format string');
    return positional[next++];
  };
  const out = format.replace(
    PRINTF,
    (
      _m,
      key: string | undefined,
      flags: string,
      width: string | undefined,
      prec: string | undefined,
      type: string,
    ) => {
      if (type === '%') return '%';
      let value: unknown;
      if (key !== undefined) {
        if (!mapping) throw typeError('format requires a mapping');
        if (!Object.prototype.hasOwnProperty.call(mapping, key))
          throw new SquallError('JINJA_PYTHON_KEY_ERROR', `'${key}'`, { python: 'KeyError' });
        usedMapping = true;
        value = mapping[key];
      }
      const w = width === '*' ? Number(take()) : width === undefined ? 0 : Number(width);
      const p = prec === '*' ? Number(take()) : prec === undefined ? undefined : Number(prec);
      if (key === undefined) value = take();
      const t = type === 'u' ? 'd' : type === 'a' ? 'r' : type;
      const spec: Spec = {
        fill: ' ',
        align: flags.includes('-') ? '<' : '',
        sign: flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '',
        alternate: flags.includes('#'),
        zero: flags.includes('0') && !flags.includes('-') && !'srac'.includes(t),
        width: Math.abs(w),
        grouping: '',
        precision: p,
        type: t,
      };
      if (!spec.align && !spec.zero && !'srac'.includes(t)) spec.align = '>';
      if (!spec.align && 'srac'.includes(t)) spec.align = '>';
      return pad(convert(value, spec), spec, !'srac'.includes(t));
    },
  );
  if (!mapping && !usedMapping && next < positional.length)
    throw typeError('not all arguments converted during string formatting');
  return out;
}

const FORMAT_SPEC = /^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([a-zA-Z%])?$/s;

/** str.format()'s `{:spec}` applied to one value. */
export function pyFormatSpec(value: unknown, specText: string): string {
  if (specText === '') return pyStr(value);
  const m = FORMAT_SPEC.exec(specText);
  if (!m) throw valueError('Invalid format specifier');
  const spec: Spec = {
    fill: m[1] ?? (m[5] ? '0' : ' '),
    align: m[2] ?? (m[5] ? '=' : ''),
    sign: m[3] ?? '',
    alternate: m[4] !== undefined,
    zero: false,
    width: m[6] === undefined ? 0 : Number(m[6]),
    grouping: m[7] ?? '',
    precision: m[8] === undefined ? undefined : Number(m[8]),
    type: m[9] ?? '',
  };
  const numeric = typeof value === 'number' || typeof value === 'boolean';
  if (!numeric && spec.type !== '' && spec.type !== 's')
    throw valueError(`Unknown format code '${spec.type}' for object of type '${pyTypeName(value)}'`);
  return pad(convert(value, spec), spec, numeric);
}
