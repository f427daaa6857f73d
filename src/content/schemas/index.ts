export {
  parameterSchema,
  parametersMapSchema,
  PARAMETER_SCHEMA_ID,
  PARAMETER_TYPES,
  KNOWN_PARAMETER_ATTRIBUTES,
} from './parameter.js';
export { packSchema, PACK_REF_PATTERN, RESERVED_PACK_REFS, ST2_VERSION_PATTERN } from './pack.js';
export { actionSchema, tagsSchema } from './action.js';
export { ruleSchema, CRITERIA_OPERATORS, SEARCH_CONDITIONS } from './rule.js';
export { aliasSchema } from './alias.js';
export { policySchema, POLICY_TYPE_PARAMETER_SCHEMAS } from './policy.js';
export { triggerTypeSchema, sensorSchema } from './trigger-type.js';
export { configSchemaSchema, packConfigSchema } from './config-schema.js';
