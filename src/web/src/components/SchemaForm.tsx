import { useEffect, useId, useState } from 'react';
import type { ParamSpec } from '../api';

export interface Field {
  name: string;
  type: string;
  description?: string;
  required: boolean;
  default?: unknown;
  enum?: unknown[];
  secret: boolean;
  immutable: boolean;
  spec: ParamSpec;
}

export type FormValues = Record<string, string | boolean>;

function typeOf(spec: ParamSpec): string {
  const t = Array.isArray(spec.type) ? spec.type.find((x) => x !== 'null') : spec.type;
  return t ?? (spec.properties ? 'object' : 'string');
}

/** st2 parameter maps (`name: {type, required, default, secret, position, …}`). */
export function fieldsFromParams(params: Record<string, ParamSpec> | undefined): Field[] {
  const list = Object.entries(params ?? {}).map(([name, spec]) => ({
    name,
    type: typeOf(spec),
    description: spec.description,
    required: spec.required === true,
    default: spec.default,
    enum: spec.enum,
    secret: spec.secret === true,
    immutable: spec.immutable === true,
    spec,
  }));
  // st2web's order: positional first, then required, then the rest by name.
  return list.sort((a, b) => {
    const pa = a.spec.position ?? Infinity;
    const pb = b.spec.position ?? Infinity;
    if (pa !== pb) return pa - pb;
    if (a.required !== b.required) return a.required ? -1 : 1;
    return a.name.localeCompare(b.name);
  });
}

/** JSON schema objects (`{type: object, properties, required: [...]}`), e.g. inquiry schemas. */
export function fieldsFromJsonSchema(
  schema: { properties?: Record<string, ParamSpec>; required?: string[] | boolean } | undefined,
): Field[] {
  const required = new Set(Array.isArray(schema?.required) ? schema.required : []);
  const props = Object.fromEntries(
    Object.entries(schema?.properties ?? {}).map(([k, v]) => [
      k,
      { ...v, required: v.required === true || required.has(k) },
    ]),
  );
  return fieldsFromParams(props);
}

function textOf(field: Field, v: unknown): string | boolean {
  if (field.type === 'boolean') return v === true;
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (field.type === 'array' && Array.isArray(v) && v.every((x) => typeof x !== 'object'))
    return v.join(', ');
  return typeof v === 'object' ? JSON.stringify(v, null, 2) : String(v);
}

/** Initial form values: the given values, else the schema defaults. */
export function initialValues(fields: Field[], given: Record<string, unknown> = {}): FormValues {
  const out: FormValues = {};
  for (const f of fields) out[f.name] = textOf(f, f.name in given ? given[f.name] : f.default);
  return out;
}

const isTemplate = (s: string) => /\{\{.*\}\}|\{%.*%\}/s.test(s);

function convert(
  field: Field,
  raw: string | boolean,
  templated: boolean,
): { value?: unknown; error?: string } {
  const s = field.spec;
  if (field.type === 'boolean') return { value: raw === true };
  const text = String(raw);
  if (text.trim() === '') return field.required ? { error: 'required' } : {};
  if (templated && isTemplate(text)) return { value: text };
  switch (field.type) {
    case 'integer':
    case 'number': {
      const n = Number(text);
      if (!Number.isFinite(n)) return { error: `must be a ${field.type}` };
      if (field.type === 'integer' && !Number.isInteger(n)) return { error: 'must be a whole number' };
      if (s.minimum !== undefined && n < s.minimum) return { error: `must be ≥ ${s.minimum}` };
      if (s.maximum !== undefined && n > s.maximum) return { error: `must be ≤ ${s.maximum}` };
      return field.enum && !field.enum.includes(n)
        ? { error: 'not one of the allowed values' }
        : { value: n };
    }
    case 'array': {
      let arr: unknown[];
      if (text.trim().startsWith('[')) {
        try {
          arr = JSON.parse(text) as unknown[];
        } catch (e) {
          return { error: `not valid JSON: ${(e as Error).message}` };
        }
        if (!Array.isArray(arr)) return { error: 'must be a list' };
      } else {
        arr = text
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
        const it = s.items?.type;
        if (it === 'integer' || it === 'number') {
          const nums = arr.map(Number);
          if (nums.some((n) => !Number.isFinite(n))) return { error: `items must be ${it}s` };
          arr = nums;
        }
      }
      if (s.items?.enum && arr.some((x) => !s.items!.enum!.includes(x)))
        return { error: `items must be among ${s.items.enum.join(', ')}` };
      return { value: arr };
    }
    case 'object': {
      try {
        const v = JSON.parse(text) as unknown;
        if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'must be a JSON object' };
        return { value: v };
      } catch (e) {
        return { error: `not valid JSON: ${(e as Error).message}` };
      }
    }
    case 'string': {
      if (s.minLength !== undefined && text.length < s.minLength)
        return { error: `at least ${s.minLength} characters` };
      if (s.maxLength !== undefined && text.length > s.maxLength)
        return { error: `at most ${s.maxLength} characters` };
      if (s.pattern && !new RegExp(s.pattern).test(text)) return { error: `must match ${s.pattern}` };
      if (field.enum && !field.enum.includes(text)) return { error: 'not one of the allowed values' };
      return { value: text };
    }
    default: {
      try {
        return { value: JSON.parse(text) };
      } catch {
        return { value: text };
      }
    }
  }
}

/**
 * Converts form text to typed values and validates them. Unchanged defaults are left out so the
 * server applies its own; immutable fields are never sent. `templated`: Jinja expressions are
 * accepted as-is (rule action parameters).
 */
export function collect(
  fields: Field[],
  values: FormValues,
  templated = false,
): { value: Record<string, unknown>; errors: Record<string, string> } {
  const value: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    if (f.immutable) continue;
    const r = convert(f, values[f.name] ?? '', templated);
    if (r.error) errors[f.name] = r.error;
    else if (r.value !== undefined) {
      const unchangedDefault =
        f.default !== undefined && JSON.stringify(r.value) === JSON.stringify(f.default) && !f.required;
      if (!unchangedDefault) value[f.name] = r.value;
    }
  }
  return { value, errors };
}

interface Props {
  fields: Field[];
  values: FormValues;
  errors: Record<string, string>;
  onChange: (values: FormValues) => void;
  templated?: boolean;
}

export function SchemaForm({ fields, values, errors, onChange, templated }: Props) {
  const id = useId();
  // A field edited since the last validation no longer shows that validation's error.
  const [edited, setEdited] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => setEdited((e) => (e.size ? new Set() : e)), [errors]);
  if (fields.length === 0) return <p className="muted">No parameters.</p>;
  return (
    <div className="schema-form">
      {fields.map((f) => {
        const fid = `${id}-${f.name}`;
        const set = (v: string | boolean) => {
          if (errors[f.name] && !edited.has(f.name)) setEdited(new Set([...edited, f.name]));
          onChange({ ...values, [f.name]: v });
        };
        const err = edited.has(f.name) ? undefined : errors[f.name];
        const common = {
          id: fid,
          name: f.name,
          disabled: f.immutable,
          'aria-invalid': err ? true : undefined,
          'aria-describedby': `${fid}-help`,
          required: f.required && f.type !== 'boolean',
        };
        let input;
        if (f.type === 'boolean') {
          input = (
            <input
              type="checkbox"
              {...common}
              checked={values[f.name] === true}
              onChange={(e) => set(e.target.checked)}
            />
          );
        } else if (f.enum && !templated) {
          input = (
            <select {...common} value={String(values[f.name] ?? '')} onChange={(e) => set(e.target.value)}>
              {!f.required && <option value="">—</option>}
              {f.enum.map((o) => (
                <option key={String(o)} value={String(o)}>
                  {String(o)}
                </option>
              ))}
            </select>
          );
        } else if (
          f.type === 'object' ||
          (f.type === 'array' && String(values[f.name] ?? '').startsWith('['))
        ) {
          input = (
            <textarea
              {...common}
              rows={4}
              spellCheck={false}
              value={String(values[f.name] ?? '')}
              onChange={(e) => set(e.target.value)}
              placeholder={f.type === 'object' ? '{ }' : '[ ]'}
            />
          );
        } else {
          input = (
            <input
              {...common}
              type={
                f.secret
                  ? 'password'
                  : (f.type === 'integer' || f.type === 'number') && !templated
                    ? 'number'
                    : 'text'
              }
              autoComplete={f.secret ? 'new-password' : 'off'}
              step={f.type === 'integer' ? 1 : f.type === 'number' ? 'any' : undefined}
              value={String(values[f.name] ?? '')}
              onChange={(e) => set(e.target.value)}
              placeholder={f.type === 'array' ? 'a, b, c  or  [JSON]' : undefined}
            />
          );
        }
        return (
          <div className={`field${err ? ' invalid' : ''}`} key={f.name}>
            <label htmlFor={fid}>
              {/* one line: the label is a flex column, so the name and its star go in one item */}
              <span>
                {f.name}
                {f.required && (
                  <span className="req" aria-hidden="true">
                    {' '}
                    *
                  </span>
                )}
              </span>
              <span className="muted small">
                {' '}
                {f.type}
                {f.secret ? ', secret' : ''}
                {f.immutable ? ', immutable' : ''}
              </span>
            </label>
            {input}
            <div id={`${fid}-help`} className="help">
              {err ? (
                <span className="field-error">
                  {f.name}: {err}
                </span>
              ) : (
                <span className="muted small">{f.description}</span>
              )}
            </div>
          </div>
        );
      })}
    </div>
  );
}
