/**
 * A parameter definition as st2 writes it (st2-reference.md §2, `action_params.json`): a JSON
 * schema draft-4 property, `required` as a per-property boolean, plus the st2 extensions
 * `position`, `immutable` and `secret`. Also used for config.schema.yaml properties (§14.3).
 */
export const PARAMETER_SCHEMA_ID = 'https://squall.dev/schemas/parameter.json';

export const PARAMETER_TYPES = ['string', 'integer', 'number', 'boolean', 'object', 'array', 'null'];

/** Attributes we know; anything else gets a warning (st2 silently ignores typos like `requird`). */
export const KNOWN_PARAMETER_ATTRIBUTES = new Set([
  'type',
  'description',
  'default',
  'required',
  'enum',
  'position',
  'immutable',
  'secret',
  'items',
  'properties',
  'additionalProperties',
  'patternProperties',
  'additionalItems',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'title',
  'dependencies',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  '$schema',
  'id',
  '$id',
  'definitions',
  'const',
  'examples',
]);

const schemaOrBool = { anyOf: [{ type: 'boolean' }, { $ref: '#' }] };

export const parameterSchema = {
  $id: PARAMETER_SCHEMA_ID,
  title: 'Parameter',
  description:
    'One parameter: a JSON schema draft-4 property with st2 extensions (position, immutable, secret).',
  type: 'object',
  properties: {
    type: {
      description: 'JSON type of the value; a list allows several types.',
      anyOf: [{ enum: PARAMETER_TYPES }, { type: 'array', items: { enum: PARAMETER_TYPES }, minItems: 1 }],
    },
    description: { type: 'string', description: 'Shown in help, the UI and chat.' },
    default: { description: 'Value used when the caller gives none; strings may be Jinja templates.' },
    required: {
      description:
        'Draft-4 style: true when the caller must give a value (or a list of required sub-properties).',
      anyOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string' } }],
    },
    enum: { type: 'array', minItems: 1, description: 'Allowed values.' },
    position: {
      type: 'integer',
      minimum: 0,
      description: 'st2: position of the value among positional arguments of shell/script actions.',
    },
    immutable: { type: 'boolean', description: 'st2: the default cannot be overridden by callers.' },
    secret: { type: 'boolean', description: 'st2: the value is masked in API output, logs and the UI.' },
    items: {
      description: 'Schema of array items.',
      anyOf: [{ $ref: '#' }, { type: 'array', items: { $ref: '#' } }],
    },
    properties: {
      type: 'object',
      description: 'Sub-properties of an object value.',
      additionalProperties: { $ref: '#' },
    },
    patternProperties: {
      type: 'object',
      description: 'Sub-properties by name pattern.',
      additionalProperties: { $ref: '#' },
    },
    additionalProperties: {
      ...schemaOrBool,
      description: 'Whether (or which) other sub-properties are allowed.',
    },
    additionalItems: { ...schemaOrBool, description: 'Whether extra tuple items are allowed.' },
    pattern: {
      type: 'string',
      format: 'regex',
      description: 'Regular expression a string value must match.',
    },
    format: { type: 'string', description: 'Format of a string value (date-time, email, uri, ...).' },
    minimum: { type: 'number', description: 'Smallest allowed number.' },
    maximum: { type: 'number', description: 'Largest allowed number.' },
    exclusiveMinimum: { type: ['boolean', 'number'], description: 'Draft-4 boolean or draft-6 number.' },
    exclusiveMaximum: { type: ['boolean', 'number'], description: 'Draft-4 boolean or draft-6 number.' },
    multipleOf: {
      type: 'number',
      exclusiveMinimum: 0,
      description: 'The number must be a multiple of this.',
    },
    minLength: { type: 'integer', minimum: 0, description: 'Shortest allowed string.' },
    maxLength: { type: 'integer', minimum: 0, description: 'Longest allowed string.' },
    minItems: { type: 'integer', minimum: 0, description: 'Fewest allowed array items.' },
    maxItems: { type: 'integer', minimum: 0, description: 'Most allowed array items.' },
    uniqueItems: { type: 'boolean', description: 'Array items must be distinct.' },
    title: { type: 'string', description: 'Short title.' },
    anyOf: { type: 'array', items: { $ref: '#' }, description: 'Value matches at least one of these.' },
    oneOf: { type: 'array', items: { $ref: '#' }, description: 'Value matches exactly one of these.' },
    allOf: { type: 'array', items: { $ref: '#' }, description: 'Value matches all of these.' },
    not: { $ref: '#', description: 'Value must not match this.' },
  },
};

/** A map of parameter name → definition; names must be `^\w+$` (st2 §2). */
export const parametersMapSchema = {
  type: 'object',
  description: 'Map of parameter name (letters, digits, underscore) to its definition.',
  propertyNames: { pattern: '^\\w+$' },
  additionalProperties: { $ref: PARAMETER_SCHEMA_ID },
};
