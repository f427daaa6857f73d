/**
 * Casting of rendered parameter values to their declared types, as st2 does after Jinja rendering
 * (st2-reference.md §2.1; st2common/util/casts.py): templates always yield strings, so
 * `"[1, 2]"` becomes an array (JSON or Python literal), `"True"`/`"false"` a boolean, `"5"` an
 * integer. st2's None marker (the `use_none` filter) becomes null for every type.
 */
import { SquallError } from '../errors.js';
import type { ParameterSpec } from '../runners/index.js';
import { NONE_MAGIC_VALUE, parsePythonLiteral, pyStr } from '../workflows/expressions/jinja/index.js';

function typeError(
  name: string,
  spec: ParameterSpec,
  expected: string,
  value: unknown,
  why: string,
): SquallError {
  const shown = spec.secret ? '<secret>' : JSON.stringify(pyStr(value)).slice(0, 120);
  return new SquallError('PARAM_TYPE', `Parameter "${name}" expects ${expected}: value ${shown} ${why}`, {
    parameter: name,
    expected,
    ...(spec.secret ? {} : { value }),
  });
}

function castOne(name: string, value: unknown, spec: ParameterSpec): unknown {
  if (value === null || value === undefined) return value;
  if (value === NONE_MAGIC_VALUE) return null;
  const type = spec.type;
  if (typeof type !== 'string') return value;
  switch (type) {
    case 'array':
    case 'object': {
      if (typeof value !== 'string') return value;
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        try {
          parsed = parsePythonLiteral(value);
        } catch {
          throw typeError(name, spec, `an ${type}`, value, 'is neither JSON nor a Python literal');
        }
      }
      return parsed;
    }
    case 'boolean': {
      if (typeof value !== 'string') return value;
      const t = value.trim().toLowerCase();
      if (t === 'true') return true;
      if (t === 'false') return false;
      throw typeError(name, spec, 'a boolean', value, 'is not true or false');
    }
    case 'integer': {
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) throw typeError(name, spec, 'an integer', value, 'is not finite');
        return Math.trunc(value);
      }
      if (typeof value === 'string' && /^\s*[-+]?\d[\d_]*\s*$/.test(value))
        return Number(value.trim().replace(/_/g, ''));
      throw typeError(name, spec, 'an integer', value, 'is not an integer');
    }
    case 'number': {
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value === 'number') return value;
      if (typeof value === 'string') {
        const t = value.trim().toLowerCase();
        if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
        if (t === '-inf' || t === '-infinity') return -Infinity;
        if (t !== '' && /^[-+]?(\d[\d_]*\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(t))
          return Number(t.replace(/_/g, ''));
      }
      throw typeError(name, spec, 'a number', value, 'is not a number');
    }
    case 'string':
      if (typeof value !== 'string') {
        throw typeError(
          name,
          spec,
          'a string',
          value,
          `must either be a string or None, got "${typeof value === 'number' ? (Number.isInteger(value) ? 'int' : 'float') : typeof value}"`,
        );
      }
      return value;
    default:
      return value;
  }
}

/**
 * Casts each value to its parameter's declared type. Values without a spec, or whose spec has no
 * single type, are left as they are (validation judges them).
 */
export function castParameters(
  values: Record<string, unknown>,
  specs: Record<string, ParameterSpec>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const spec = Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    out[name] = spec ? castOne(name, value, spec) : value === NONE_MAGIC_VALUE ? null : value;
  }
  return out;
}

/** Casts one value (e.g. an alias parameter) to the type its spec declares. */
export function castParameter(name: string, value: unknown, spec: ParameterSpec): unknown {
  return castOne(name, value, spec);
}
