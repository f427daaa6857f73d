import { PARAMETER_SCHEMA_ID } from './parameter.js';

/**
 * config.schema.yaml (st2-reference.md §14.3): a map of property name → property definition in
 * the parameter dialect (type, description, required, default, secret, nested properties).
 */
export const configSchemaSchema = {
  $id: 'https://squall.dev/schemas/config-schema.json',
  title: 'config.schema.yaml',
  description:
    'Map of config property name to its definition (type, description, required, default, secret, properties).',
  type: 'object',
  propertyNames: { pattern: '^[\\w-]+$' },
  additionalProperties: { $ref: PARAMETER_SCHEMA_ID },
};

/** The pack config file `<configDir>/<pack>.yaml`: a mapping validated against the pack's schema. */
export const packConfigSchema = {
  $id: 'https://squall.dev/schemas/pack-config.json',
  title: 'Pack config',
  description: 'Values for the pack config; static or dynamic ("{{ st2kv.system.x }}").',
  type: 'object',
};
