import { describeNamePattern } from '../names.js';
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import {
  actionSchema,
  aliasSchema,
  configSchemaSchema,
  packSchema,
  parameterSchema,
  policySchema,
  ruleSchema,
  sensorSchema,
  triggerTypeSchema,
} from './schemas/index.js';
import type { PathSegment } from './yaml.js';
import { builtValidator, cachedValidator } from '../lazy-validator.js';
import { findTemplateVariables } from '../workflows/expressions/jinja/index.js';
import { LruMap, textKeyedCache } from '../lru-map.js';
import { UnkeptAjv } from '../ajv-compile.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

function makeAjv(useDefaults: boolean, extra: Options = {}): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    verbose: true,
    useDefaults,
    validateSchema: true,
    ...extra,
  });
  addFormats(ajv);
  // st2 extensions to JSON schema: metadata only for validation purposes.
  for (const keyword of ['position', 'immutable', 'secret']) ajv.addKeyword({ keyword });
  return ajv;
}

/** An ajv for the content kinds' own schemas. */
function makeKindAjv(extra?: Options): Ajv {
  const ajv = makeAjv(false, extra);
  ajv.addSchema(parameterSchema);
  return ajv;
}
let metaAjv: Ajv | undefined;

export type FileKind =
  'pack' | 'action' | 'rule' | 'alias' | 'policy' | 'sensor' | 'trigger_type' | 'config_schema';

const KIND_SCHEMAS: Record<FileKind, Record<string, unknown>> = {
  pack: packSchema,
  action: actionSchema,
  rule: ruleSchema,
  alias: aliasSchema,
  policy: policySchema,
  sensor: sensorSchema,
  trigger_type: triggerTypeSchema,
  config_schema: configSchemaSchema,
};

/**
 * Each kind's validator: the build's code for it, loaded when a file of that kind is first
 * validated, or compiled then (one ajv for all kinds).
 */
const compiled = Object.fromEntries(
  Object.entries(KIND_SCHEMAS).map(([kind, schema]) => [
    kind,
    builtValidator({ name: `content-${kind}`, schema, ajv: makeKindAjv }, () =>
      (metaAjv ??= makeKindAjv()).compile(schema),
    ),
  ]),
) as Record<FileKind, ValidateFunction>;

/** A schema violation translated for humans, with the data path to locate it in the YAML. */
export interface Violation {
  path: PathSegment[];
  /** true when the problem is about a key (unknown field), so locate the key, not the value. */
  atKey: boolean;
  field: string;
  code: string;
  message: string;
}

export function validateKind(kind: FileKind, data: unknown): Violation[] {
  const validate = compiled[kind];
  if (validate(data)) return [];
  return translateErrors(validate.errors ?? []);
}

/**
 * Deletes the null fields st2 accepts in a pack file: its registrars validate with
 * `allow_default_none=True`, under which a field its schema does not require may be null, and a
 * null one with a default takes the default (opsgenie's rule has a bare `description:`,
 * logicmonitor's pack.yaml a bare `email:`). Unset, Squall reads such a field as st2 reads the
 * null: absent, or its default. Like st2, it follows objects and arrays of objects whose schema
 * names their properties; a required field stays null and is refused.
 */
export function unsetNullOptionals(kind: FileKind, data: unknown): void {
  unsetNulls(KIND_SCHEMAS[kind], data);
}

function unsetNulls(schema: Record<string, unknown>, data: unknown): void {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties || typeof data !== 'object' || data === null) return;
  if (Array.isArray(data)) return;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const obj = data as Record<string, unknown>;
  for (const [name, sub] of Object.entries(properties)) {
    const value = obj[name];
    if (value === null) {
      const types = ([] as unknown[]).concat(sub.type ?? []);
      if (!required.has(name) && !types.includes('null')) delete obj[name];
    } else if (Array.isArray(value) && isSchema(sub.items)) {
      for (const item of value) unsetNulls(sub.items, item);
    } else unsetNulls(sub, value);
  }
}

const isSchema = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/** Validates `data` against an arbitrary (already standard) JSON schema. */
export function validateWith(
  validate: ValidateFunction,
  data: unknown,
  basePath: PathSegment[] = [],
): Violation[] {
  if (validate(data)) return [];
  return translateErrors(validate.errors ?? [], basePath);
}

const defaultsAjv = new UnkeptAjv(() => makeAjv(true), 100);
const plainAjv = new UnkeptAjv(() => makeAjv(false), 100);
/** How compileSchema's validators are made, for the code kept of them (cachedValidator). */
const WITH_DEFAULTS = { name: 'schema-defaults', ajv: (extra?: Options) => makeAjv(true, extra) };
const PLAIN = { name: 'schema', ajv: (extra?: Options) => makeAjv(false, extra) };
/** Compiled schemas by their JSON and options, the last 2,000 used, and 4 M of JSON. */
const compiledByJson = textKeyedCache<ValidateFunction>(2000, 4 * 1024 * 1024);

/**
 * Compiles a standard JSON schema; throws ajv's error when the schema itself is invalid. The same
 * schema compiles once: registering the bundled packs compiled ~1,000 schemas (one per parameter
 * default, most of them `{type: string}` and the like) at every start, and ajv kept each.
 */
export function compileSchema(
  schema: Record<string, unknown>,
  opts: { useDefaults?: boolean } = {},
): ValidateFunction {
  const key = `${opts.useDefaults ? 'd' : 'p'}${JSON.stringify(schema)}`;
  const cached = compiledByJson.get(key);
  if (cached) return cached;
  const validate = opts.useDefaults
    ? cachedValidator(WITH_DEFAULTS, schema, () => defaultsAjv.compile(schema, key))
    : cachedValidator(PLAIN, schema, () => plainAjv.compile(schema, key));
  compiledByJson.set(key, validate);
  return validate;
}

export function fieldOf(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  return s && s.length > 60 ? `${s.slice(0, 57)}...` : String(s);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function translateErrors(errors: ErrorObject[], basePath: PathSegment[] = []): Violation[] {
  // anyOf/oneOf report every failed branch; keep only the summary for each such error.
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const kept = errors.filter(
    (e) =>
      !unions.some(
        (u) =>
          u !== e &&
          e.schemaPath.startsWith(u.schemaPath.replace(/\/(anyOf|oneOf)$/, '') + '/' + u.keyword + '/'),
      ),
  );
  const out: Violation[] = [];
  const seen = new Set<string>();
  for (const e of kept) {
    const path = [...basePath, ...pointerToPath(e.instancePath)];
    let v: Violation;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required': {
        const missing = String(params.missingProperty);
        v = {
          path,
          atKey: false,
          field: fieldOf([...path, missing]),
          code: 'MISSING_FIELD',
          message: `required field "${missing}" is missing`,
        };
        break;
      }
      case 'additionalProperties': {
        const extra = String(params.additionalProperty);
        const allowed = Object.keys(
          ((e.parentSchema as Record<string, unknown>)?.properties as object) ?? {},
        );
        v = {
          path: [...path, extra],
          atKey: true,
          field: fieldOf([...path, extra]),
          code: 'UNKNOWN_FIELD',
          message: `unknown field "${extra}"` + (allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''),
        };
        break;
      }
      case 'propertyNames': {
        const name = String(params.propertyName);
        v = {
          path: [...path, name],
          atKey: true,
          field: fieldOf([...path, name]),
          code: 'BAD_NAME',
          message: `name "${name}" is not allowed: names may contain only letters, digits and underscores`,
        };
        break;
      }
      case 'type':
        v = {
          path,
          atKey: false,
          field: fieldOf(path),
          code: 'WRONG_TYPE',
          message: `must be ${String(params.type).replace(/,/g, ' or ')}, not ${typeName(e.data)} (${show(e.data)})`,
        };
        break;
      case 'enum':
        v = {
          path,
          atKey: false,
          field: fieldOf(path),
          code: 'NOT_ALLOWED_VALUE',
          message: `must be one of ${(params.allowedValues as unknown[]).map((x) => show(x)).join(', ')}, not ${show(e.data)}`,
        };
        break;
      case 'pattern':
        v = {
          path,
          atKey: false,
          field: fieldOf(path),
          code: 'BAD_VALUE',
          message: describeNamePattern(String(params.pattern))
            ? `${show(e.data)} is not a valid name: it must be ${describeNamePattern(String(params.pattern))}`
            : `${show(e.data)} must match the pattern ${String(params.pattern)}`,
        };
        break;
      case 'format':
        v = {
          path,
          atKey: false,
          field: fieldOf(path),
          code: 'BAD_VALUE',
          message: `${show(e.data)} is not a valid ${String(params.format)}`,
        };
        break;
      case 'anyOf':
      case 'oneOf': {
        const desc = (e.parentSchema as Record<string, unknown> | undefined)?.description;
        v = {
          path,
          atKey: false,
          field: fieldOf(path),
          code: 'WRONG_TYPE',
          message: `${show(e.data)} matches none of the allowed forms` + (desc ? ` (${String(desc)})` : ''),
        };
        break;
      }
      default:
        v = {
          path,
          atKey: false,
          field: fieldOf(path),
          code: 'BAD_VALUE',
          message: `${e.message ?? 'is invalid'} (got ${show(e.data)})`,
        };
    }
    const key = `${v.field}|${v.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(v);
    }
  }
  return out;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Converts an st2-dialect schema (draft-4 per-property `required: true`, draft-4 boolean
 * `exclusiveMinimum`) into a standard JSON schema ajv 8 accepts. `position`, `immutable` and
 * `secret` are kept (registered as annotation keywords).
 */
export function toStandardSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toStandardSchema);
  if (!isObj(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' || k === 'patternProperties' || k === 'definitions') {
      if (isObj(v)) out[k] = Object.fromEntries(Object.entries(v).map(([n, s]) => [n, toStandardSchema(s)]));
      else out[k] = v;
    } else if (k === 'items' || k === 'additionalProperties' || k === 'additionalItems' || k === 'not') {
      out[k] = typeof v === 'boolean' ? v : toStandardSchema(v);
    } else if (k === 'anyOf' || k === 'oneOf' || k === 'allOf') {
      out[k] = Array.isArray(v) ? v.map(toStandardSchema) : v;
    } else if (k === 'required' && typeof v === 'boolean') {
      // handled by the parent
    } else if (k === 'default' || k === 'enum' || k === 'const' || k === 'examples') {
      out[k] = v;
    } else {
      out[k] = v;
    }
  }
  if (isObj(schema.properties)) {
    const req = Object.entries(schema.properties)
      .filter(([, s]) => isObj(s) && s.required === true)
      .map(([n]) => n);
    const existing = Array.isArray(schema.required) ? (schema.required as string[]) : [];
    const all = [...new Set([...existing, ...req])];
    if (all.length) out.required = all;
  }
  for (const side of ['Minimum', 'Maximum'] as const) {
    const ex = schema[`exclusive${side}`];
    const bound = schema[side.toLowerCase()];
    if (typeof ex === 'boolean') {
      delete out[`exclusive${side}`];
      if (ex && typeof bound === 'number') {
        out[`exclusive${side}`] = bound;
        delete out[side.toLowerCase()];
      }
    }
  }
  delete out.$schema;
  delete out.id;
  return out;
}

/** Wraps a map of st2 parameter definitions into one object schema. */
export function parametersToObjectSchema(
  params: Record<string, unknown>,
  additionalProperties = true,
): Record<string, unknown> {
  return toStandardSchema({ type: 'object', properties: params, additionalProperties }) as Record<
    string,
    unknown
  >;
}

export function isTemplate(v: unknown): boolean {
  return typeof v === 'string' && (v.includes('{{') || v.includes('{%'));
}

/** Jinja2's own globals, defined in every template. */
const JINJA_GLOBALS = new Set(['range', 'lipsum', 'dict', 'cycler', 'joiner', 'namespace']);

/**
 * The names of the pack config templates parsed last, by template text, least recently used first:
 * renderPackConfig checks a pack's dynamic values before every execution's render, and a parse
 * costs far more than the render (which nunjucks' compiled template serves from its own cache).
 */
const configNames = new LruMap<string, readonly string[]>(256);

/**
 * Names a pack config template reads that st2 does not give it: st2 renders config values with
 * StrictUndefined and only `st2kv` in the context (config_loader.py), so any other name fails.
 * Throws JinjaRenderError when the template does not parse (each time: a failure is not kept).
 */
export function undefinedConfigNames(template: string): readonly string[] {
  const kept = configNames.get(template);
  if (kept) return kept;
  const names = Object.freeze(
    [...findTemplateVariables(template)].filter((v) => v !== 'st2kv' && !JINJA_GLOBALS.has(v)),
  );
  configNames.set(template, names);
  return names;
}
