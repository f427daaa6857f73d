import { SquallError } from '../errors.js';

type Spec = { type?: string | string[] };

/**
 * `k=v` arguments as st2's CLI reads them: arrays take comma lists (or JSON), objects take JSON
 * (or `a=1,b=2`), numbers and booleans are cast by the action's declared parameter types.
 */
export function parseKeyValues(args: string[], specs: Record<string, Spec> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      throw new SquallError('CLI_ARGUMENT_INVALID', `"${arg}" is not a key=value pair`, {
        hint: 'pass parameters as name=value, e.g. cmd="echo hi"',
      });
    }
    const name = arg.slice(0, eq);
    out[name] = castArgument(name, arg.slice(eq + 1), specs[name]);
  }
  return out;
}

function castArgument(name: string, raw: string, spec: Spec | undefined): unknown {
  const type = Array.isArray(spec?.type) ? spec!.type[0] : spec?.type;
  const fail = (expected: string) =>
    new SquallError('CLI_ARGUMENT_INVALID', `parameter "${name}": expected ${expected}, got "${raw}"`, {
      name,
    });
  switch (type) {
    case 'integer': {
      const n = Number(raw);
      if (!Number.isInteger(n)) throw fail('a whole number');
      return n;
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) throw fail('a number');
      return n;
    }
    case 'boolean':
      if (/^(true|yes|1|on)$/i.test(raw)) return true;
      if (/^(false|no|0|off)$/i.test(raw)) return false;
      throw fail('true or false');
    case 'array':
      if (raw.trim().startsWith('[')) {
        try {
          return JSON.parse(raw);
        } catch {
          throw fail('a JSON array or a comma-separated list');
        }
      }
      return raw === '' ? [] : raw.split(',').map((s) => s.trim());
    case 'object':
      if (raw.trim().startsWith('{')) {
        try {
          return JSON.parse(raw);
        } catch {
          throw fail('a JSON object or a=1,b=2');
        }
      }
      return Object.fromEntries(
        raw
          .split(',')
          .filter(Boolean)
          .map((pair) => {
            const i = pair.indexOf('=');
            if (i <= 0) throw fail('a JSON object or a=1,b=2');
            return [pair.slice(0, i).trim(), pair.slice(i + 1).trim()];
          }),
      );
    default:
      return raw;
  }
}
