import { contentNameSchema } from './name.js';
import { PARAMETER_SCHEMA_ID, parametersMapSchema } from './parameter.js';

const notifyEntry = {
  type: 'object',
  description: 'A notification sent when the execution ends in this way.',
  properties: {
    message: { type: 'string', description: 'Jinja template of the message.' },
    data: { type: 'object', description: 'Jinja-rendered data sent along with the message.' },
    routes: {
      type: 'array',
      items: { type: 'string' },
      description: 'Where to send it (one notifytrigger per route).',
    },
    channels: { type: 'array', items: { type: 'string' }, description: 'Deprecated alias of routes.' },
  },
  additionalProperties: false,
};

export const tagsSchema = {
  type: 'array',
  description: 'Free-form tags.',
  items: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', description: 'Tag name.' },
      value: { type: 'string', description: 'Tag value.' },
    },
    additionalProperties: false,
  },
};

/** Action metadata (st2-reference.md §2, st2 `ActionAPI`). */
export const actionSchema = {
  $id: 'https://squall.dev/schemas/action.json',
  title: 'Action',
  description: 'Action metadata file under actions/.',
  type: 'object',
  required: ['name', 'runner_type'],
  properties: {
    name: contentNameSchema('Action name (ref = pack.name, split at the first dot); printable, no spaces.'),
    pack: { type: 'string', description: 'Containing pack; defaults to it, and must equal it when given.' },
    description: { type: 'string', description: 'What the action does.' },
    enabled: { type: 'boolean', description: 'Disabled actions cannot be executed (default true).' },
    idempotent: {
      type: 'boolean',
      description:
        'Squall extension: safe to run twice. When its process dies mid-run it is run again instead of ending abandoned.',
    },
    runner_type: { type: 'string', description: 'Name of the runner that executes the action.' },
    entry_point: {
      type: 'string',
      description: 'Path relative to actions/ of the script, module or workflow file.',
    },
    parameters: {
      ...parametersMapSchema,
      description: 'Action parameters; merged over the runner parameters.',
    },
    output_schema: {
      type: 'object',
      description: 'JSON schema of result[output_key]; may mark fields (or the whole output) `secret`.',
      additionalProperties: { anyOf: [{ $ref: PARAMETER_SCHEMA_ID }, {}] },
    },
    tags: tagsSchema,
    notify: {
      type: 'object',
      description: 'Notifications on completion.',
      properties: { 'on-success': notifyEntry, 'on-failure': notifyEntry, 'on-complete': notifyEntry },
      additionalProperties: false,
    },
    ref: { type: 'string', description: 'Computed; ignored when present.' },
    uid: { type: 'string', description: 'Computed; ignored when present.' },
    id: { type: 'string', description: 'Database id; ignored when present.' },
    metadata_file: { type: 'string', description: 'Set by the loader; ignored when present.' },
  },
  additionalProperties: false,
};
