import { contentNameSchema } from './name.js';
import { tagsSchema } from './action.js';

const triggerTypeProperties = {
  name: contentNameSchema('Trigger type name (ref = pack.name).'),
  pack: { type: 'string', description: 'Containing pack; must equal it when given.' },
  description: { type: 'string', description: 'What the trigger means.' },
  parameters_schema: { type: 'object', description: 'JSON schema of trigger parameters (rules give them).' },
  payload_schema: {
    type: 'object',
    description: 'JSON schema of the payload (criteria and templates read it).',
  },
  tags: tagsSchema,
  ref: { type: 'string', description: 'Computed; ignored when present.' },
  uid: { type: 'string', description: 'Computed; ignored when present.' },
  id: { type: 'string', description: 'Database id; ignored when present.' },
  metadata_file: { type: 'string', description: 'Set by the loader; ignored when present.' },
};

/** Trigger type (st2-reference.md §3, files under triggers/ and inline in sensors). */
export const triggerTypeSchema = {
  $id: 'https://squall.dev/schemas/trigger-type.json',
  title: 'Trigger type',
  description: 'Trigger type file under triggers/.',
  type: 'object',
  required: ['name'],
  properties: triggerTypeProperties,
  additionalProperties: false,
};

/** Sensor (st2-reference.md §3.3, st2 `SensorTypeAPI`). */
export const sensorSchema = {
  $id: 'https://squall.dev/schemas/sensor.json',
  title: 'Sensor',
  description: 'Sensor file under sensors/: a long-running class that dispatches trigger instances.',
  type: 'object',
  required: ['class_name', 'entry_point'],
  properties: {
    name: contentNameSchema('Sensor name; defaults to class_name.', { required: false }),
    class_name: {
      type: 'string',
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      description: 'Class implementing the sensor (ref = pack.class_name).',
    },
    entry_point: {
      type: 'string',
      minLength: 1,
      description: 'Path relative to sensors/ of the Python or JS module.',
    },
    description: { type: 'string', description: 'What the sensor watches.' },
    enabled: { type: 'boolean', description: 'Default true.' },
    pack: { type: 'string', description: 'Containing pack; must equal it when given.' },
    poll_interval: {
      type: 'number',
      exclusiveMinimum: 0,
      description: 'Seconds between poll() calls (polling sensors).',
    },
    trigger_types: {
      type: 'array',
      description: 'Trigger types the sensor dispatches (inline definitions).',
      items: {
        type: 'object',
        required: ['name'],
        properties: triggerTypeProperties,
        additionalProperties: false,
      },
    },
    ref: { type: 'string', description: 'Computed; ignored when present.' },
    uid: { type: 'string', description: 'Computed; ignored when present.' },
    id: { type: 'string', description: 'Database id; ignored when present.' },
    metadata_file: { type: 'string', description: 'Set by the loader; ignored when present.' },
    artifact_uri: { type: 'string', description: 'Set by st2 registrar; ignored.' },
  },
  additionalProperties: false,
};
