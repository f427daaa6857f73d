import { describe, expect, it } from 'vitest';
import type { TriggerTypeRecord } from '../../../src/store/index.js';
import { validateTriggerPayload } from '../../../src/triggers/index.js';

// Shaped like st2's examples.sample_trigger: a property both `required: true` and with a default.
const type = {
  id: 'tt-sample',
  ref: 'demo.sample',
  name: 'sample',
  pack: 'demo',
  payload_schema: {
    type: 'object',
    properties: {
      value: { type: 'string', required: true },
      meta: {
        type: 'object',
        properties: { source: { type: 'string', required: true, default: 'cli' } },
      },
      executed_at: {
        type: 'string',
        format: 'date-time',
        default: '2014-07-30 05:04:24.578325',
        required: true,
      },
    },
    additionalProperties: false,
  },
} as unknown as TriggerTypeRecord;

describe('trigger payloads against payload_schema, with its defaults as st2 validates them', () => {
  it('accepts a payload missing a required property that has a default, at any depth, and leaves it as sent', () => {
    const payload = { value: 'x', meta: {} };
    expect(() => validateTriggerPayload(type, payload)).not.toThrow();
    expect(payload).toEqual({ value: 'x', meta: {} });
  });

  it('still refuses a missing required property without a default, and a wrong type', () => {
    expect(() => validateTriggerPayload(type, {})).toThrow(/payload\.value: is required/);
    expect(() => validateTriggerPayload(type, { value: 'x', executed_at: 5 })).toThrow(/executed_at/);
    // The format is checked on what the sender gives, not on the schema's own default.
    expect(() => validateTriggerPayload(type, { value: 'x', executed_at: 'yesterday' })).toThrow(
      /payload\.executed_at: must match format "date-time"/,
    );
  });
});
