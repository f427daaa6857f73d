import { SquallError } from '../src/errors.js';
import { aliasRef, type AliasLike, type AliasParameters } from './types.js';

function renderDeep(value: unknown, render: (template: string) => string): unknown {
  if (typeof value === 'string') return render(value);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, render));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, render)]));
  }
  return value;
}

/**
 * Adds the alias's `immutable_parameters` (rendered through `render`, e.g. Jinja with `st2kv` and
 * the action context) to each parameter set, like st2's `inject_immutable_parameters` (§5.2).
 * Chat input may not set them: a parameter set that already names one is refused with st2's
 * message (`ALIAS_IMMUTABLE`). Values are rendered once; inputs are not modified.
 */
export function applyImmutableParameters(
  params: AliasParameters,
  alias: AliasLike,
  render: (template: string) => string,
): AliasParameters;
export function applyImmutableParameters(
  params: AliasParameters[],
  alias: AliasLike,
  render: (template: string) => string,
): AliasParameters[];
export function applyImmutableParameters(
  params: AliasParameters | AliasParameters[],
  alias: AliasLike,
  render: (template: string) => string,
): AliasParameters | AliasParameters[] {
  const sets = Array.isArray(params) ? params : [params];
  const immutable = alias.immutable_parameters ?? {};
  const names = Object.keys(immutable);
  if (names.length === 0) {
    const copies = sets.map((p) => ({ ...p }));
    return Array.isArray(params) ? copies : copies[0];
  }
  for (const set of sets) {
    const overridden = names.filter((name) => Object.prototype.hasOwnProperty.call(set, name));
    if (overridden.length) {
      throw new SquallError(
        'ALIAS_IMMUTABLE',
        `Immutable arguments cannot be overriden: ${overridden.join(',')}`,
        {
          alias: aliasRef(alias),
          parameters: overridden,
        },
      );
    }
  }
  const rendered: AliasParameters = {};
  for (const name of names) {
    try {
      rendered[name] = renderDeep(immutable[name], render);
    } catch (err) {
      if (err instanceof SquallError) throw err;
      throw new SquallError(
        'ALIAS_IMMUTABLE_RENDER',
        `Alias "${aliasRef(alias)}": immutable parameter "${name}" could not be rendered: ${(err as Error).message}`,
        { alias: aliasRef(alias), parameter: name },
      );
    }
  }
  const result = sets.map((set) => ({ ...set, ...rendered }));
  return Array.isArray(params) ? result : result[0];
}

export interface ParameterSpecLike {
  type?: string | string[];
}

class CastFailure extends Error {}

const INTEGER = /^\s*[+-]?\d+(?:_\d+)*\s*$/;
const NUMBER = /^\s*[+-]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

function castTo(type: string, value: string): unknown {
  switch (type) {
    case 'array': {
      const trimmed = value.trim();
      if (trimmed.startsWith('[')) {
        try {
          const parsed: unknown = JSON.parse(trimmed);
          if (Array.isArray(parsed)) return parsed;
        } catch {
          // Not JSON: fall through to the chat rule, which treats brackets as text.
        }
      }
      return trimmed === '' ? [] : value.split(',').map((v) => v.trim());
    }
    case 'integer': {
      if (!INTEGER.test(value)) throw new CastFailure('is not a whole number');
      const n = Number(value.trim().replace(/_/g, ''));
      if (!Number.isSafeInteger(n)) throw new CastFailure('is too large');
      return n;
    }
    case 'number': {
      if (!NUMBER.test(value)) throw new CastFailure('is not a number');
      return Number(value.trim().replace(/_/g, ''));
    }
    case 'boolean': {
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      throw new CastFailure('is not true/false (yes/no, on/off and 1/0 also work)');
    }
    case 'object': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        parsed = parsePythonLiteral(value);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new CastFailure('is not an object (write JSON such as {"key": "value"})');
      }
      return parsed;
    }
    case 'null': {
      const word = value.trim().toLowerCase();
      if (word === '' || word === 'null' || word === 'none') return null;
      throw new CastFailure('is not null');
    }
    default:
      return value;
  }
}

/**
 * Casts chat strings to the action's parameter types (§5.2), with the chat rule for arrays: a
 * comma-separated list, each item trimmed. Only strings are cast (immutable and typed values pass
 * through); parameters the action does not declare are kept as they are; null values are dropped
 * so the action's own defaults apply. With several types the first that fits wins, and `string`
 * keeps the text. Throws `ALIAS_PARAMETER_TYPE` naming the parameter.
 */
export function castAliasParameters(
  params: AliasParameters,
  specs: Record<string, ParameterSpecLike | undefined>,
): AliasParameters {
  const result: AliasParameters = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    const declared = specs[name]?.type;
    if (typeof value !== 'string' || declared === undefined) {
      result[name] = value;
      continue;
    }
    const types = Array.isArray(declared) ? declared : [declared];
    let firstFailure: { type: string; why: string } | undefined;
    let done = false;
    for (const type of types) {
      if (type === 'string') {
        result[name] = value;
        done = true;
        break;
      }
      try {
        result[name] = castTo(type, value);
        done = true;
        break;
      } catch (err) {
        if (!(err instanceof CastFailure)) throw err;
        firstFailure ??= { type, why: err.message };
      }
    }
    if (!done && firstFailure) {
      const expected = types.join(' or ');
      throw new SquallError(
        'ALIAS_PARAMETER_TYPE',
        `Parameter "${name}" must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}: "${value}" ${firstFailure.why}`,
        { parameter: name, type: declared, value },
      );
    }
  }
  return result;
}

/**
 * A Python literal (`{'a': 'b', 'n': [1, True, None]}`), as st2 accepts through `ast.literal_eval`
 * when a chat value is not JSON. Throws CastFailure on anything else.
 */
function parsePythonLiteral(text: string): unknown {
  let i = 0;
  const fail = (): never => {
    throw new CastFailure('is neither JSON nor a Python literal');
  };
  const space = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const parseString = (): string => {
    const quote = text[i++];
    let out = '';
    while (i < text.length && text[i] !== quote) {
      if (text[i] === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = {
          n: '\n',
          t: '\t',
          r: '\r',
          '\\': '\\',
          "'": "'",
          '"': '"',
          '0': '\0',
        };
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        out += simple[e] ?? '\\' + e;
        i += 2;
      } else {
        out += text[i++];
      }
    }
    if (text[i] !== quote) fail();
    i++;
    return out;
  };
  const parseSeq = (close: string): unknown[] => {
    const items: unknown[] = [];
    i++;
    space();
    while (text[i] !== close) {
      items.push(parseValue());
      space();
      if (text[i] === ',') {
        i++;
        space();
      } else if (text[i] !== close) fail();
    }
    i++;
    return items;
  };
  const parseValue = (): unknown => {
    space();
    const c = text[i];
    if (c === "'" || c === '"') return parseString();
    if (c === '[') return parseSeq(']');
    if (c === '(') return parseSeq(')');
    if (c === '{') {
      const obj: Record<string, unknown> = {};
      i++;
      space();
      while (text[i] !== '}') {
        const key = parseValue();
        space();
        if (text[i] !== ':') fail();
        i++;
        obj[String(key)] = parseValue();
        space();
        if (text[i] === ',') {
          i++;
          space();
        } else if (text[i] !== '}') fail();
      }
      i++;
      return obj;
    }
    const word = /^(?:True|False|None|true|false|null|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(
      text.slice(i),
    );
    if (!word) return fail();
    i += word[0].length;
    if (word[0] === 'True' || word[0] === 'true') return true;
    if (word[0] === 'False' || word[0] === 'false') return false;
    if (word[0] === 'None' || word[0] === 'null') return null;
    return Number(word[0]);
  };
  const value = parseValue();
  space();
  if (i !== text.length) fail();
  return value;
}
