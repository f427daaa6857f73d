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

const cache = new Map<string, ValidateFunction>();

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

/**
 * Checks `value` against an st2-dialect JSON schema (per-property `required: true` allowed) and
 * returns one line per problem, each naming the field under `where` (e.g. `payload.body`).
 */
export function schemaProblems(schema: Record<string, unknown>, value: unknown, where: string): string[] {
  const key = JSON.stringify(schema);
  let validate = cache.get(key);
  if (!validate) {
    try {
      const standard = toStandardSchema(schema) as Record<string, unknown>;
      validate = cachedValidator(FAMILY, standard, () => (ajv ??= makeAjv()).compile(standard));
    } catch (err) {
      // A pack's trigger type may carry a broken payload_schema (st2 registers it too).
      return [
        `${where}: cannot be checked, the schema is not a valid JSON schema: ${(err as Error).message}`,
      ];
    }
    if (cache.size > 500) cache.clear();
    cache.set(key, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => describe(where, e));
}
