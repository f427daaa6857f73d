/**
 * StackStorm's system and internal trigger types (st2-reference.md §3.1, §3.2) as data. They all
 * live in pack `core`; rules refer to them by `ref` (e.g. `core.st2.webhook`).
 */
import { hmacSchema } from './hmac.js';

export interface SystemTriggerType {
  ref: string;
  pack: 'core';
  name: string;
  uid: string;
  description: string;
  /** true for the types emitted by Squall itself (§3.2) rather than parameterised by rules (§3.1). */
  internal: boolean;
  parameters_schema: Record<string, unknown>;
  payload_schema: Record<string, unknown>;
  tags: Array<{ name: string; value: string }>;
}

const timezone = {
  type: 'string',
  description: 'Timezone (IANA name, e.g. "UTC" or "Europe/Paris") the schedule is evaluated in.',
};

const timerPayload = {
  type: 'object',
  properties: {
    executed_at: {
      type: 'string',
      format: 'date-time',
      description: 'When the timer fired (ISO 8601, UTC).',
    },
    schedule: { type: ['object', 'null'], description: 'The timer parameters that produced this firing.' },
  },
};

const cronField = (description: string, min?: number, max?: number) => ({
  anyOf: [
    { type: 'string' },
    {
      type: 'integer',
      ...(min !== undefined ? { minimum: min } : {}),
      ...(max !== undefined ? { maximum: max } : {}),
    },
  ],
  description: `${description} Omitted = "*".`,
});

const objectPayload = (what: string) => ({
  type: 'object',
  properties: { object: { type: 'object', description: what } },
});

function def(
  name: string,
  description: string,
  internal: boolean,
  parameters_schema: Record<string, unknown>,
  payload_schema: Record<string, unknown>,
): SystemTriggerType {
  return {
    ref: `core.${name}`,
    pack: 'core',
    name,
    uid: `trigger_type:core:${name}`,
    description,
    internal,
    parameters_schema,
    payload_schema,
    tags: [],
  };
}

export const SYSTEM_TRIGGER_TYPES: readonly SystemTriggerType[] = Object.freeze([
  def(
    'st2.webhook',
    'Trigger type for registering webhooks that can consume arbitrary payload.',
    false,
    {
      type: 'object',
      properties: {
        url: {
          type: 'string',
          description: 'URL path under /api/v1/webhooks/ (leading and trailing "/" are ignored).',
          required: true,
        },
        hmac: hmacSchema,
        wait: {
          type: 'integer',
          minimum: 0,
          description:
            'Squall extension: wait up to this many seconds for the triggered executions and answer with their results.',
        },
      },
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        headers: { type: 'object', description: 'HTTP headers of the request.' },
        body: {
          anyOf: [{ type: 'object' }, { type: 'array' }],
          description: 'Request body (JSON-decoded when possible).',
        },
      },
    },
  ),
  def(
    'st2.IntervalTimer',
    'Triggers on specified intervals. e.g. every 30s, 1week etc.',
    false,
    {
      type: 'object',
      properties: {
        timezone,
        unit: {
          enum: ['weeks', 'days', 'hours', 'minutes', 'seconds'],
          required: true,
          description: 'Unit of `delta`.',
        },
        delta: { type: 'integer', required: true, description: 'Number of units between two firings.' },
      },
      additionalProperties: false,
    },
    timerPayload,
  ),
  def(
    'st2.DateTimer',
    'Triggers exactly once when the current time matches the specified time. e.g. timezone:UTC date:2014-12-31 23:59:59.',
    false,
    {
      type: 'object',
      properties: {
        timezone,
        date: { type: 'string', format: 'date-time', required: true, description: 'When to fire.' },
      },
      additionalProperties: false,
    },
    timerPayload,
  ),
  def(
    'st2.CronTimer',
    'Triggers whenever current time matches the specified time constraints like a UNIX cron scheduler.',
    false,
    {
      type: 'object',
      properties: {
        timezone,
        year: cronField('Year (4 digits).'),
        month: cronField('Month 1-12.', 1, 12),
        day: cronField('Day of month 1-31.', 1, 31),
        week: cronField('ISO week 1-53.', 1, 53),
        day_of_week: cronField('Day of week 0-6 (Monday = 0); names like "mon-fri" allowed.', 0, 6),
        hour: cronField('Hour 0-23.', 0, 23),
        minute: cronField('Minute 0-59.', 0, 59),
        second: cronField('Second 0-59.', 0, 59),
      },
      additionalProperties: false,
    },
    timerPayload,
  ),
  def(
    'st2.generic.actiontrigger',
    'Trigger encapsulating the completion of an action execution.',
    true,
    {},
    {
      type: 'object',
      properties: {
        execution_id: { type: 'string' },
        status: { type: 'string' },
        start_timestamp: { type: 'string', format: 'date-time' },
        action_name: { type: 'string' },
        action_ref: { type: 'string' },
        runner_ref: { type: 'string' },
        parameters: { type: 'object' },
        result: {
          anyOf: [
            { type: 'object' },
            { type: 'string' },
            { type: 'integer' },
            { type: 'number' },
            { type: 'boolean' },
            { type: 'array' },
            { type: 'null' },
          ],
        },
      },
    },
  ),
  def(
    'st2.generic.notifytrigger',
    'Notification trigger (one per notify route of a completed execution).',
    true,
    {},
    {
      type: 'object',
      properties: {
        execution_id: { type: 'string' },
        status: { type: 'string' },
        start_timestamp: { type: 'string', format: 'date-time' },
        end_timestamp: { type: 'string', format: 'date-time' },
        action_ref: { type: 'string' },
        runner_ref: { type: 'string' },
        channel: { type: 'string', description: 'Deprecated alias of route.' },
        route: { type: 'string' },
        message: { type: 'string' },
        data: { type: 'object' },
      },
    },
  ),
  def(
    'st2.action.file_written',
    'Trigger encapsulating action file being written on disk.',
    true,
    {},
    {
      type: 'object',
      properties: { ref: { type: 'string' }, file_path: { type: 'string' }, host_info: { type: 'object' } },
    },
  ),
  def(
    'st2.generic.inquiry',
    'Trigger indicating a new "inquiry" has entered "pending" status.',
    true,
    {},
    {
      type: 'object',
      properties: {
        id: { type: 'string', description: 'ID of the new inquiry (its action execution id).' },
        route: {
          type: 'string',
          description: 'An arbitrary value for allowing rules to route to proper notification channel.',
        },
      },
    },
  ),
  def(
    'st2.sensor.process_spawn',
    'Trigger indicating sensor process is started up.',
    true,
    {},
    objectPayload('The sensor process.'),
  ),
  def(
    'st2.sensor.process_exit',
    'Trigger indicating sensor process is stopped.',
    true,
    {},
    objectPayload('The sensor process.'),
  ),
  def(
    'st2.key_value_pair.create',
    'Trigger encapsulating datastore item creation.',
    true,
    {},
    objectPayload('The key-value pair.'),
  ),
  def(
    'st2.key_value_pair.update',
    'Trigger encapsulating datastore set action.',
    true,
    {},
    objectPayload('The key-value pair.'),
  ),
  def(
    'st2.key_value_pair.value_change',
    'Trigger encapsulating a change of datastore item value.',
    true,
    {},
    {
      type: 'object',
      properties: { old_object: { type: 'object' }, new_object: { type: 'object' } },
    },
  ),
  def(
    'st2.key_value_pair.delete',
    'Trigger encapsulating datastore item deletion.',
    true,
    {},
    objectPayload('The key-value pair.'),
  ),
]);

const byRef = new Map(SYSTEM_TRIGGER_TYPES.map((t) => [t.ref, t]));

export function getSystemTriggerType(ref: string): SystemTriggerType | undefined {
  return byRef.get(ref);
}
