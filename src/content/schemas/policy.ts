import { contentNameSchema } from './name.js';
/** Policy (st2-reference.md §9, st2 `PolicyAPI`). */
export const policySchema = {
  $id: 'https://squall.dev/schemas/policy.json',
  title: 'Policy',
  description: 'Policy file under policies/: concurrency or retry rules for one action.',
  type: 'object',
  required: ['name', 'resource_ref', 'policy_type'],
  properties: {
    name: contentNameSchema('Policy name (ref = pack.name).'),
    pack: { type: 'string', description: 'Containing pack; must equal it when given.' },
    description: { type: 'string', description: 'What the policy is for.' },
    enabled: { type: 'boolean', description: 'Default true.' },
    resource_ref: { type: 'string', description: 'Ref of the action the policy applies to.' },
    policy_type: {
      type: 'string',
      description: 'action.concurrency, action.concurrency.attr or action.retry.',
    },
    parameters: { type: 'object', description: 'Parameters of the policy type.' },
    ref: { type: 'string', description: 'Computed; ignored when present.' },
    uid: { type: 'string', description: 'Computed; ignored when present.' },
    id: { type: 'string', description: 'Database id; ignored when present.' },
    metadata_file: { type: 'string', description: 'Set by the loader; ignored when present.' },
  },
  additionalProperties: false,
};

/** Policy types and their parameters (§9). */
export const POLICY_TYPE_PARAMETER_SCHEMAS: Record<string, Record<string, unknown>> = {
  'action.concurrency': {
    type: 'object',
    required: ['threshold'],
    properties: {
      threshold: { type: 'integer', minimum: 0, description: 'Maximum concurrent executions of the action.' },
      action: { enum: ['delay', 'cancel'], description: 'What happens to extra requests (default delay).' },
    },
    additionalProperties: false,
  },
  'action.concurrency.attr': {
    type: 'object',
    required: ['threshold'],
    properties: {
      threshold: {
        type: 'integer',
        minimum: 0,
        description: 'Maximum concurrent executions per distinct attribute values.',
      },
      action: { enum: ['delay', 'cancel'], description: 'What happens to extra requests (default delay).' },
      attributes: {
        type: 'array',
        items: { type: 'string' },
        description: 'Names of the action parameters that partition the count.',
      },
    },
    additionalProperties: false,
  },
  'action.retry': {
    type: 'object',
    required: ['retry_on'],
    properties: {
      retry_on: { enum: ['failure', 'timeout'], description: 'Which end status triggers a retry.' },
      max_retry_count: {
        type: 'integer',
        minimum: 1,
        maximum: 5,
        description: 'Retries at most (default 2).',
      },
      delay: { type: 'number', minimum: 0, maximum: 120, description: 'Seconds to wait before retrying.' },
    },
    additionalProperties: false,
  },
};
