import { describe, expect, it } from 'vitest';
import { maskSecretOutput } from '../../../src/executions/output-schema.js';

// A Python action's result (output_key `result`) as st2 masks it by the action's output_schema.
const schema = {
  type: 'object',
  properties: {
    token: { type: 'string', secret: true },
    user: { type: 'string' },
    keys: { type: 'array', items: { type: 'string', secret: true } },
    pair: { type: 'array', items: [{ type: 'string' }, { type: 'string', secret: true }] },
  },
  patternProperties: { '^pw_': { type: 'string', secret: true } },
  additionalProperties: { type: 'object', properties: { key: { type: 'string', secret: true } } },
};

describe('masking a result by its output_schema (st2 mask_secret_output)', () => {
  it('masks fields, list items, pattern and additional properties the schema marks secret', () => {
    const result = {
      result: {
        token: 'tk-1',
        user: 'ann',
        keys: ['k1', 'k2'],
        pair: ['open', 'closed'],
        pw_db: 'p1',
        extra: { key: 'x1', other: 'o' },
      },
      stdout: 'tk-1',
    };
    const mask = '********';
    const shown = maskSecretOutput(result, 'result', schema) as typeof result;
    expect(shown.result).toEqual({
      ...result.result,
      token: mask,
      keys: [mask, mask],
      pair: ['open', mask],
      pw_db: mask,
      extra: { ...result.result.extra, key: mask },
    });
    expect(shown.stdout).toBe(result.stdout);
    // What is stored is left as the action returned it.
    expect(result.result.token).toBe('tk-1');
  });

  it('reads a legacy schema (no type) as the properties of an object, and masks a secret output whole', () => {
    expect(maskSecretOutput({ result: { token: 't', n: 1 } }, 'result', { token: { secret: true } })).toEqual(
      {
        result: { token: '********', n: 1 },
      },
    );
    expect(maskSecretOutput({ output: { a: 1 } }, 'output', { type: 'object', secret: true })).toEqual({
      output: '********',
    });
  });

  it('leaves a result without the output key, or a value of another type than its schema, as it is', () => {
    expect(maskSecretOutput({ stdout: 'x' }, 'result', schema)).toEqual({ stdout: 'x' });
    expect(maskSecretOutput({ result: 'plain text' }, 'result', schema)).toEqual({ result: 'plain text' });
    expect(maskSecretOutput({ result: { token: 't' } }, undefined, schema)).toEqual({
      result: { token: 't' },
    });
  });
});
