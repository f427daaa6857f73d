import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { SquallError } from '../errors.js';
import { UnkeptAjv } from '../ajv-compile.js';
import { textKeyedCache } from '../lru-map.js';

/** A JSON schema as inquiries carry it (st2 accepts draft-4 style `required: true` on properties). */
export interface InquirySchema {
  type?: string;
  title?: string;
  description?: string;
  properties?: Record<string, PropertySchema>;
  required?: string[] | boolean;
  [k: string]: unknown;
}

export interface PropertySchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  required?: boolean | string[];
  default?: unknown;
  items?: PropertySchema;
  [k: string]: unknown;
}

/** st2's default inquirer schema (runner parameter `schema`). */
export const DEFAULT_SCHEMA: InquirySchema = {
  title: 'response_data',
  type: 'object',
  properties: {
    continue: { type: 'boolean', description: 'Would you like to continue the workflow?', required: true },
  },
};

// ajv-formats is CommonJS; under NodeNext its default export may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;
/** An ajv per schema (anyone's core.ask writes one), made when it is first checked. */
const ajv = new UnkeptAjv(() => addFormats(new Ajv({ allErrors: true, strict: false })), 1);
/** Validators by the schema's JSON: 500, and 1 M of JSON (a validator holds ~20 times it). */
const compiled = textKeyedCache<ValidateFunction>(500, 1024 * 1024);

/**
 * The schema in draft-07 form: st2 (and its users' workflows) mark required properties with
 * `required: true` on the property itself, which ajv 8 rejects; they become the parent's list.
 */
export function standardSchema(schema: unknown): Record<string, unknown> {
  if (Array.isArray(schema)) return schema.map((s) => standardSchema(s)) as never;
  if (!schema || typeof schema !== 'object') return schema as never;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (k === 'required' && typeof v === 'boolean') continue;
    out[k] = k === 'properties' || typeof v === 'object' ? standardSchemaMap(k, v) : v;
  }
  const props = (schema as InquirySchema).properties;
  if (props && typeof props === 'object') {
    const flagged = Object.entries(props)
      .filter(([, p]) => p && typeof p === 'object' && p.required === true)
      .map(([n]) => n);
    const listed = Array.isArray(out.required) ? (out.required as string[]) : [];
    const required = [...new Set([...listed, ...flagged])];
    if (required.length) out.required = required;
  }
  return out;
}

function standardSchemaMap(key: string, value: unknown): unknown {
  if (key !== 'properties' || !value || typeof value !== 'object') return standardSchema(value);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([n, p]) => [n, standardSchema(p)]),
  );
}

function describe(errors: ErrorObject[]): string {
  return errors
    .map((e) => {
      const at = e.instancePath ? e.instancePath.replace(/^\//, '').replace(/\//g, '.') : 'response';
      if (e.keyword === 'required')
        return `"${(e.params as { missingProperty: string }).missingProperty}" is a required property`;
      if (e.keyword === 'additionalProperties')
        return `${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
      if (e.keyword === 'enum')
        return `${at} must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
      return `${at} ${e.message ?? 'is invalid'}`;
    })
    .join('; ');
}

/** Checks a response against the inquiry's schema: 400 with st2's wording when it does not pass. */
export function validateResponse(schema: InquirySchema, response: unknown, inquiryId: string): void {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    try {
      validate = ajv.compile(standardSchema(schema), key);
    } catch (err) {
      throw new SquallError(
        'INQUIRY_SCHEMA_INVALID',
        `The schema of inquiry ${inquiryId} is not a valid JSON schema: ${(err as Error).message}`,
        { inquiry: inquiryId },
        500,
      );
    }
    compiled.set(key, validate);
  }
  if (validate(response)) return;
  const detail = describe(validate.errors ?? []);
  throw new SquallError(
    'INQUIRY_RESPONSE_INVALID',
    `Response did not pass schema validation: ${detail}`,
    { inquiry: inquiryId, errors: detail },
    400,
  );
}

function mainType(p: PropertySchema): string {
  const t = Array.isArray(p.type) ? p.type.find((x) => x !== 'null') : p.type;
  return t ?? (p.enum ? typeof p.enum[0] : 'string');
}

/**
 * Turns one typed answer into the property's type, as `st2 inquiry respond` does when it
 * prompts: yes/no for booleans, numbers, comma lists or JSON for arrays, JSON for objects.
 * Throws INQUIRY_ANSWER_INVALID with what was expected.
 */
export function coerceAnswer(name: string, prop: PropertySchema, text: string): unknown {
  const raw = text.trim();
  const bad = (expected: string) =>
    new SquallError('INQUIRY_ANSWER_INVALID', `"${raw}" is not ${expected} (field "${name}")`, {
      field: name,
      answer: raw,
    });
  const type = mainType(prop);
  if (prop.enum && prop.enum.length) {
    const hit = prop.enum.find((v) => String(v) === raw);
    if (hit === undefined) throw bad(`one of ${prop.enum.map((v) => String(v)).join(', ')}`);
    return hit;
  }
  switch (type) {
    case 'boolean':
      if (/^(y|yes|true|t|1|ok|approve)$/i.test(raw)) return true;
      if (/^(n|no|false|f|0|deny)$/i.test(raw)) return false;
      throw bad('yes or no');
    case 'integer':
      if (!/^[-+]?\d+$/.test(raw)) throw bad('an integer');
      return Number(raw);
    case 'number':
      if (raw === '' || !Number.isFinite(Number(raw))) throw bad('a number');
      return Number(raw);
    case 'array':
      if (raw.startsWith('[')) {
        try {
          const v = JSON.parse(raw) as unknown;
          if (Array.isArray(v)) return v;
        } catch {
          // reported below
        }
        throw bad('a JSON list');
      }
      return raw === '' ? [] : raw.split(',').map((s) => s.trim());
    case 'object':
      try {
        const v = JSON.parse(raw) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) return v;
      } catch {
        // reported below
      }
      throw bad('a JSON object');
    default:
      return raw;
  }
}

/**
 * Turns typed `key=value` answers (the `respond` chat command) into a response: each value is
 * coerced by its property's type with coerceAnswer. A name the schema does not list is refused
 * (a typo would otherwise pass as an extra field and the real one be reported missing), unless
 * the schema lists no properties or allows additional ones. Schema validation happens later.
 */
export function coerceAnswers(
  schema: InquirySchema,
  answers: Record<string, string>,
  inquiryId: string,
): Record<string, unknown> {
  const props = schema.properties ?? {};
  const known = Object.keys(props);
  const openEnded = known.length === 0 || (schema.additionalProperties ?? false) !== false;
  const response: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(answers)) {
    const prop = Object.hasOwn(props, name) ? props[name] : undefined;
    if (prop) response[name] = coerceAnswer(name, prop, text);
    else if (openEnded) response[name] = text;
    else
      throw new SquallError(
        'INQUIRY_ANSWER_UNKNOWN_FIELD',
        `inquiry ${inquiryId} has no field "${name}" (its fields: ${known.join(', ')})`,
        { inquiry: inquiryId, field: name, fields: known },
      );
  }
  return response;
}
