/**
 * Python value conventions that StackStorm users see through Jinja2: how `str()` prints a value,
 * how `json.dumps` spaces its output, and how `ast.literal_eval` reads a Python literal back.
 * Templates written for st2 (and the casting of rendered parameters) depend on these exact shapes.
 */
import { SquallError } from '../../../errors.js';

/** st2's marker for "this template produced None" (st2common/util/jinja.py NONE_MAGIC_VALUE). */
export const NONE_MAGIC_VALUE = '%*****__%NONE%__*****%';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// Arrays a template wrote as Python tuples (`(a, b)`): `%` formatting spreads them, repr() prints
// them with parentheses. Everything else still sees an array.
const TUPLES = new WeakSet<unknown[]>();

export function pyTuple(items: unknown[]): unknown[] {
  TUPLES.add(items);
  return items;
}

/**
 * Jinja2's namespace(): an object whose attributes `{% set ns.name = value %}` may write from
 * inside a loop (the one way out of a loop iteration's scope). Its attributes are own properties.
 */
export class PyNamespace {}

export function isTuple(value: unknown): value is unknown[] {
  return Array.isArray(value) && TUPLES.has(value);
}

function pyFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  const abs = Math.abs(n);
  // Python's repr turns to an exponent below 1e-4 (JavaScript below 1e-6), with two digits at least.
  const s = abs !== 0 && abs < 1e-4 ? n.toExponential() : String(n);
  return s.includes('e') ? s.replace(/e([+-])(\d)$/, 'e$10$2') : s;
}

// eslint-disable-next-line no-control-regex -- the control characters repr() escapes
const NEEDS_ESCAPE = /[\\'\x00-\x1f\x7f]/;

/** Python's repr() of a str: single quotes unless the text holds a single quote and no double. */
export function pyReprString(s: string): string {
  // Nothing to escape (the usual case): quoted as it is.
  if (!NEEDS_ESCAPE.test(s)) return `'${s}'`;
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + quote;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

/** Python's repr(): used for items inside containers. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return pyReprString(value);
  // nunjucks' safe strings (macro output, `| safe`, `| escape`) are String objects: Jinja2's Markup is a str.
  if (value instanceof String) return pyReprString(String(value));
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pyFloat(value);
  if (typeof value === 'bigint') return value.toString();
  if (isTuple(value))
    return value.length === 1 ? `(${pyRepr(value[0])},)` : `(${value.map(pyRepr).join(', ')})`;
  if (Array.isArray(value)) return '[' + value.map(pyRepr).join(', ') + ']';
  if (value instanceof Date) return pyReprString(value.toISOString());
  if (typeof value === 'function') return '<function>';
  if (value instanceof PyNamespace) return `<Namespace ${pyRepr({ ...value })}>`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${pyReprString(k)}: ${pyRepr(v)}`,
    );
    return '{' + entries.join(', ') + '}';
  }
  return String(value);
}

/** Python's str(): what Jinja2 prints for `{{ value }}`. */
export function pyStr(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof String) return String(value);
  if (value instanceof Date) return value.toISOString();
  return pyRepr(value);
}

export interface JsonDumpsOptions {
  indent?: number | string | null;
  sortKeys?: boolean;
  /** [item separator, key separator]; Python's default is [', ', ': '] (or [',', ': '] with indent). */
  separators?: [string, string] | null;
  ensureAscii?: boolean;
  /** Escape <, >, & and ' as Jinja2's `tojson` does. */
  htmlSafe?: boolean;
}

function jsonString(s: string, ensureAscii: boolean, htmlSafe: boolean): string {
  let out = JSON.stringify(s);
  if (ensureAscii)
    out = out.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (htmlSafe) {
    out = out.replace(/[<>&']/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  }
  return out;
}

/** Python's json.dumps with its default spacing, so rendered JSON looks as it does in st2. */
export function pyJsonDumps(value: unknown, options: JsonDumpsOptions = {}): string {
  const ensureAscii = options.ensureAscii ?? true;
  const htmlSafe = options.htmlSafe ?? false;
  const indent =
    options.indent === null || options.indent === undefined
      ? null
      : typeof options.indent === 'number'
        ? ' '.repeat(options.indent)
        : options.indent;
  const [itemSep, keySep] = options.separators ?? (indent !== null ? [',', ': '] : [', ', ': ']);
  const walk = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return jsonString(v, ensureAscii, htmlSafe);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return 'NaN';
      if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
      return String(v);
    }
    if (v instanceof Date) return jsonString(v.toISOString(), ensureAscii, htmlSafe);
    const open = indent !== null ? '\n' + indent.repeat(depth + 1) : '';
    const close = indent !== null ? '\n' + indent.repeat(depth) : '';
    const sep = indent !== null ? itemSep + '\n' + indent.repeat(depth + 1) : itemSep;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return '[' + open + v.map((x) => walk(x, depth + 1)).join(sep) + close + ']';
    }
    if (typeof v === 'object') {
      let keys = Object.keys(v as object);
      if (options.sortKeys) keys = keys.sort();
      if (keys.length === 0) return '{}';
      const items = keys.map(
        (k) =>
          jsonString(k, ensureAscii, htmlSafe) + keySep + walk((v as Record<string, unknown>)[k], depth + 1),
      );
      return '{' + open + items.join(sep) + close + '}';
    }
    throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
  };
  return walk(value, 0);
}

/**
 * Reads a Python literal (what `ast.literal_eval` accepts for data): dicts, lists, tuples, sets
 * (as arrays), strings, numbers, True/False/None. Throws SquallError PY_LITERAL when the text is
 * not one.
 */
export function parsePythonLiteral(text: string): unknown {
  let i = 0;
  const fail = (why: string): never => {
    throw new SquallError('PY_LITERAL', `Not a Python literal at offset ${i}: ${why}`, {
      text: text.slice(0, 200),
      offset: i,
    });
  };
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const parseString = (): string => {
    let prefix = '';
    while (/[rRbBuU]/.test(text[i])) prefix += text[i++].toLowerCase();
    const raw = prefix.includes('r');
    const q = text[i];
    const triple = text.slice(i, i + 3) === q.repeat(3);
    const delim = triple ? q.repeat(3) : q;
    i += delim.length;
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      if (text.startsWith(delim, i)) {
        i += delim.length;
        break;
      }
      const ch = text[i];
      if (ch === '\n' && !triple) fail('newline in string');
      if (ch === '\\' && !raw) {
        const nx = text[i + 1];
        i += 2;
        const simple: Record<string, string> = {
          n: '\n',
          t: '\t',
          r: '\r',
          '\\': '\\',
          "'": "'",
          '"': '"',
          a: '\x07',
          b: '\b',
          f: '\f',
          v: '\v',
          '0': '\0',
          '\n': '',
        };
        if (nx in simple) out += simple[nx];
        else if (nx === 'x') {
          out += String.fromCharCode(parseInt(text.slice(i, i + 2), 16));
          i += 2;
        } else if (nx === 'u') {
          out += String.fromCharCode(parseInt(text.slice(i, i + 4), 16));
          i += 4;
        } else if (nx === 'U') {
          out += String.fromCodePoint(parseInt(text.slice(i, i + 8), 16));
          i += 8;
        } else out += '\\' + nx;
        continue;
      }
      out += ch;
      i++;
    }
    ws();
    // Adjacent string literals concatenate in Python.
    if (i < text.length && (text[i] === "'" || text[i] === '"')) return out + parseString();
    return out;
  };
  const parseSeq = (close: string): unknown[] => {
    const items: unknown[] = [];
    ws();
    while (text[i] !== close) {
      items.push(parseValue());
      ws();
      if (text[i] === ',') {
        i++;
        ws();
      } else if (text[i] !== close) fail(`expected ',' or '${close}'`);
    }
    i++;
    return items;
  };
  const parseValue = (): unknown => {
    ws();
    const ch = text[i];
    if (ch === undefined) fail('unexpected end');
    if (ch === '{') {
      i++;
      ws();
      const obj: Record<string, unknown> = {};
      const set: unknown[] = [];
      let isSet = false;
      while (text[i] !== '}') {
        const key = parseValue();
        ws();
        if (text[i] === ':') {
          i++;
          obj[typeof key === 'string' ? key : pyStr(key)] = parseValue();
        } else {
          isSet = true;
          set.push(key);
        }
        ws();
        if (text[i] === ',') {
          i++;
          ws();
        } else if (text[i] !== '}') fail("expected ',' or '}'");
      }
      i++;
      return isSet ? set : obj;
    }
    if (ch === '[') {
      i++;
      return parseSeq(']');
    }
    if (ch === '(') {
      i++;
      return parseSeq(')');
    }
    if (
      ch === "'" ||
      ch === '"' ||
      (/[rRbBuU]/.test(ch) && /['"]|[rRbBuU]['"]/.test(text.slice(i + 1, i + 3)))
    )
      return parseString();
    const num =
      /^[-+]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?)/.exec(
        text.slice(i),
      );
    if (num && num[0] !== '-' && num[0] !== '+') {
      i += num[0].length;
      const s = num[0].replace(/_/g, '');
      const sign = s.startsWith('-') ? -1 : 1;
      const body = s.replace(/^[-+]/, '');
      if (/^0[xob]/i.test(body)) return sign * Number(body.toLowerCase());
      return sign * Number(body);
    }
    const word = /^[A-Za-z_]\w*/.exec(text.slice(i));
    if (word) {
      i += word[0].length;
      if (word[0] === 'True') return true;
      if (word[0] === 'False') return false;
      if (word[0] === 'None') return null;
      return fail(`name '${word[0]}' is not a literal`);
    }
    return fail(`unexpected character '${ch}'`);
  };
  const value = parseValue();
  ws();
  if (i < text.length) fail('trailing characters');
  return value;
}

/** Python's type name of a JSON-shaped value, for its error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (isTuple(v)) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v)) return 'dict';
  return typeof v;
}

function numeric(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

/** Python `==` on JSON-shaped values. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null && nb !== null) return na === nb;
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && pyEquals(a[k], b[k]))
    );
  }
  return false;
}

/** Python's ordering (numbers with numbers, strings with strings, lists element-wise): a signed
 * number, or undefined where Python raises TypeError. */
export function pyOrder(a: unknown, b: unknown): number | undefined {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null && nb !== null) return na - nb;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!pyEquals(a[i], b[i])) return pyOrder(a[i], b[i]);
    }
    return a.length - b.length;
  }
  return undefined;
}
