import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { toStandardSchema } from '../content/index.js';
import { cachedValidator } from '../lazy-validator.js';

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

function makeAjv(extra?: Options): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, ...extra });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'secret' });
  ajv.addKeyword({ keyword: 'immutable' });
  ajv.addKeyword({ keyword: 'position' });
  return ajv;
}
/** Made at the first schema compiled here that has no kept code (cachedValidator). */
let ajv: Ajv | undefined;
const FAMILY = { name: 'trigger-schema', ajv: makeAjv };

const cache = new Map<string, SchemaChecker>();

/** True when an st2-dialect schema constrains anything (an empty `{}` does not). */
export function isMeaningfulSchema(schema: unknown): schema is Record<string, unknown> {
  return schema !== null && typeof schema === 'object' && Object.keys(schema).length > 0;
}

function describe(where: string, e: ErrorObject): string {
  const at = e.instancePath ? `${where}${e.instancePath.replace(/\//g, '.')}` : where;
  if (e.keyword === 'required')
    return `${at}.${(e.params as { missingProperty: string }).missingProperty}: is required`;
  if (e.keyword === 'additionalProperties')
    return `${at}.${(e.params as { additionalProperty: string }).additionalProperty}: is not allowed (unknown field)`;
  return `${at}: ${e.message ?? e.keyword}`;
}

/** Checks values against one st2-dialect JSON schema (per-property `required: true` allowed). */
export interface SchemaChecker {
  /** One line per problem of `value`, each naming the field under `where` (e.g. `payload.body`). */
  problems(value: unknown, where: string): string[];
  /**
   * `value` with the schema's defaults filled in where a property is absent, in objects at any
   * depth, as st2 validates it (util_schema.validate with use_default: a `required` property with
   * a default is satisfied). A copy, so the caller's value stays as it was; `value` itself when
   * the schema has no default (known once per schema, so most payloads are not copied). `filled`
   * gets the paths of the defaults used.
   */
  withDefaults(value: unknown, where: string, filled: string[]): unknown;
}

/** The checker for an st2-dialect JSON schema, compiled once per distinct schema. */
export function schemaChecker(schema: Record<string, unknown>): SchemaChecker {
  // Keyed by the schema's text, not its object: each read of a trigger type (the content cache
  // too) gives a new copy, so every dispatch brings an object never seen before.
  const key = JSON.stringify(schema);
  const known = cache.get(key);
  if (known) return known;
  let validate: ValidateFunction;
  try {
    const standard = toStandardSchema(schema) as Record<string, unknown>;
    validate = cachedValidator(FAMILY, standard, () => (ajv ??= makeAjv()).compile(standard));
  } catch (err) {
    // A pack's trigger type may carry a broken payload_schema (st2 registers it too).
    const message = (err as Error).message;
    return {
      problems: (_value, where) => [
        `${where}: cannot be checked, the schema is not a valid JSON schema: ${message}`,
      ],
      withDefaults: (value) => value,
    };
  }
  // The walk's own copy of what the key says: a caller's later change to its schema object
  // cannot reach a checker that others share.
  const own = JSON.parse(key) as Record<string, unknown>;
  const copy = fillsDefaults(own);
  const checker: SchemaChecker = {
    problems(value, where) {
      if (validate(value)) return [];
      return (validate.errors ?? []).map((e) => describe(where, e));
    },
    withDefaults: (value, where, filled) => (copy ? withDefaults(own, value, where, filled) : value),
  };
  if (cache.size > 500) cache.clear();
  cache.set(key, checker);
  return checker;
}

/** `schemaChecker(schema).problems(value, where)`. */
export function schemaProblems(schema: Record<string, unknown>, value: unknown, where: string): string[] {
  return schemaChecker(schema).problems(value, where);
}

/** The properties of an object schema that are schemas, as `withDefaults` walks them. */
function propertySchemas(schema: Record<string, unknown>): Record<string, unknown>[] {
  const properties = schema.properties;
  if (schema.type !== 'object' || !properties || typeof properties !== 'object') return [];
  return Object.values(properties as Record<string, unknown>).filter(
    (sub): sub is Record<string, unknown> => Boolean(sub) && typeof sub === 'object',
  );
}

function fillsDefaults(schema: Record<string, unknown>): boolean {
  return propertySchemas(schema).some((sub) => 'default' in sub || fillsDefaults(sub));
}

function withDefaults(
  schema: Record<string, unknown>,
  value: unknown,
  where: string,
  filled: string[],
): unknown {
  if (schema.type !== 'object' || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const properties = schema.properties;
  if (!properties || typeof properties !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [name, sub] of Object.entries(properties as Record<string, unknown>)) {
    if (!sub || typeof sub !== 'object') continue;
    const subSchema = sub as Record<string, unknown>;
    if (!(name in out)) {
      if ('default' in subSchema) {
        out[name] = subSchema.default;
        filled.push(`${where}.${name}`);
      }
    } else out[name] = withDefaults(subSchema, out[name], `${where}.${name}`, filled);
  }
  return out;
}
