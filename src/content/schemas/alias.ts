import { contentNameSchema } from './name.js';
/** Action alias (st2-reference.md §5.1, st2 `ActionAliasAPI`). */
export const aliasSchema = {
  $id: 'https://squall.dev/schemas/alias.json',
  title: 'Action alias',
  description: 'Alias file under aliases/: chat command formats mapped to an action.',
  type: 'object',
  required: ['name', 'action_ref', 'formats'],
  properties: {
    name: contentNameSchema('Alias name (ref = pack.name).'),
    pack: { type: 'string', description: 'Containing pack; must equal it when given.' },
    description: { type: 'string', description: 'Shown in chat help.' },
    enabled: { type: 'boolean', description: 'Disabled aliases do not match (default true).' },
    action_ref: { type: 'string', description: 'Ref of the action to run.' },
    formats: {
      type: 'array',
      minItems: 1,
      description: 'Command formats: a string, or {display, representation, match_multiple}.',
      items: {
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            required: ['representation'],
            properties: {
              display: { type: 'string', description: 'Shown in help.' },
              representation: {
                type: 'array',
                minItems: 1,
                items: { type: 'string', minLength: 1 },
                description: 'Formats that match.',
              },
              match_multiple: { type: 'boolean', description: 'Run once per match in a multi-line message.' },
            },
            additionalProperties: false,
          },
        ],
      },
    },
    ack: {
      type: 'object',
      description: 'Acknowledgement posted when the execution is requested.',
      properties: {
        enabled: { type: 'boolean', description: 'Post the ack (default true).' },
        format: { type: 'string', description: 'Jinja template of the ack.' },
        append_url: { type: 'boolean', description: 'Append the execution URL (default true).' },
        extra: { type: 'object', description: 'Extra data for the chat layer.' },
      },
      additionalProperties: false,
    },
    result: {
      type: 'object',
      description: 'How the result is posted.',
      properties: {
        enabled: { type: 'boolean', description: 'Post the result (default true).' },
        format: { type: 'string', description: 'Jinja template of the result message.' },
        extra: {
          type: 'object',
          description: 'Extra data for the chat layer (e.g. slack attachment fields).',
        },
      },
      additionalProperties: false,
    },
    extra: { type: 'object', description: 'Free-form data for the chat layer (e.g. security.twofactor).' },
    channels: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, pattern: '^\\S+$' },
      description:
        'Squall extension (st2 aliases have no such field): the chat channels the alias answers in, each a channel id ("C0OPS") or "<adapter>:<channel id>" ("slack:C0OPS"); elsewhere it is refused. Absent: every channel.',
    },
    immutable_parameters: {
      type: 'object',
      description: 'Parameters chat input cannot set (values may be Jinja).',
    },
    ref: { type: 'string', description: 'Computed; ignored when present.' },
    uid: { type: 'string', description: 'Computed; ignored when present.' },
    id: { type: 'string', description: 'Database id; ignored when present.' },
    metadata_file: { type: 'string', description: 'Set by the loader; ignored when present.' },
  },
  additionalProperties: false,
};
