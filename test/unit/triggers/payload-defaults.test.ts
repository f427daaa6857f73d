import { describe, expect, it } from 'vitest';
import type { TriggerTypeRecord } from '../../../src/store/index.js';
import { schemaChecker, validateTriggerPayload } from '../../../src/triggers/index.js';

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

describe("filling a payload_schema's defaults", () => {
  it('returns the payload itself, not a copy, when the schema gives no default anywhere', () => {
    const schema = {
      type: 'object',
      properties: {
        value: { type: 'string', required: true },
        meta: { type: 'object', properties: { source: { type: 'string' } } },
      },
    };
    const payload = { value: 'x', meta: { source: 'cli' } };
    const filled: string[] = [];
    expect(schemaChecker(schema).withDefaults(payload, 'payload', filled)).toBe(payload);
    expect(filled).toEqual([]);
  });

  it('fills the defaults, nested ones too, into a copy when the schema gives them', () => {
    const schema = type.payload_schema as Record<string, unknown>;
    const payload = { value: 'x', meta: {} };
    const filled: string[] = [];
    const withDefaults = schemaChecker(schema).withDefaults(payload, 'payload', filled);
    expect(withDefaults).toEqual({
      value: 'x',
      meta: { source: 'cli' },
      executed_at: '2014-07-30 05:04:24.578325',
    });
    expect(filled.sort()).toEqual(['payload.executed_at', 'payload.meta.source']);
    expect(payload).toEqual({ value: 'x', meta: {} });
  });
});
