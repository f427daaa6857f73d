import { MASK } from './secrets.js';

/**
 * An action's `output_schema` may mark what its result holds (`result[output_key]`) as secret:
 * a field, the items of a list, the whole output. As st2 (st2common/util/output_schema.py,
 * mask_secret_output), the result is stored as the action returned it and masked where it is
 * shown: the API and the stream. A schema without `type` is st2's legacy form, the properties of
 * an object. A value that does not have the type its schema names is left as it is.
 */
export function maskSecretOutput(
  result: unknown,
  outputKey: string | undefined,
  outputSchema: unknown,
): unknown {
  if (!outputKey || !isObject(result) || !(outputKey in result) || !isObject(outputSchema)) return result;
  const schema =
    'type' in outputSchema
      ? outputSchema
      : { type: 'object', properties: outputSchema, additionalProperties: true };
  return { ...result, [outputKey]: masked(schema, result[outputKey]) };
}

/**
 * An inquiry's response with the answers its schema marks secret masked: as st2's
 * mask_inquiry_response, the schema's top-level properties.
 */
export function maskInquiryResponse(response: unknown, schema: unknown): unknown {
  const properties = isObject(schema) && isObject(schema.properties) ? schema.properties : {};
  if (!isObject(response)) return response;
  const out: Record<string, unknown> = { ...response };
  for (const [name, spec] of Object.entries(properties))
    if (isObject(spec) && spec.secret === true && name in out) out[name] = MASK;
  return out;
}

function masked(spec: unknown, value: unknown): unknown {
  if (!isObject(spec)) return value;
  if (spec.secret === true) return MASK;
  if (spec.type === 'object' && isObject(value)) return maskedObject(spec, value);
  if (spec.type === 'array' && Array.isArray(value)) return maskedArray(spec, value);
  return value;
}

function maskedObject(
  spec: Record<string, unknown>,
  value: Record<string, unknown>,
): Record<string, unknown> {
  const properties = isObject(spec.properties) ? spec.properties : {};
  const patterns = isObject(spec.patternProperties) ? Object.entries(spec.patternProperties) : [];
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key in properties) {
      out[key] = masked(properties[key], v);
      continue;
    }
    // JSON schema's patternProperties are unanchored regular expressions, as st2's re.search.
    const pattern = patterns.find(([p]) => safeRegExp(p)?.test(key));
    out[key] = pattern ? masked(pattern[1], v) : masked(spec.additionalProperties, v);
  }
  return out;
}

function maskedArray(spec: Record<string, unknown>, value: unknown[]): unknown[] {
  if (Array.isArray(spec.items)) {
    const items = spec.items;
    return value.map((v, i) => (i < items.length ? masked(items[i], v) : masked(spec.additionalItems, v)));
  }
  return value.map((v) => masked(spec.items, v));
}

function safeRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
