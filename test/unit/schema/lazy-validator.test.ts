import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { compileSchema } from '../../../src/content/validate.js';
import { lazyValidator } from '../../../src/lazy-validator.js';

describe('lazyValidator', () => {
  it('compiles on the first call, once, and answers as the compiled validator does', () => {
    let compiles = 0;
    const validate = lazyValidator(() => {
      compiles++;
      return new Ajv({ allErrors: true }).compile({
        type: 'object',
        properties: { n: { type: 'integer' } },
        required: ['n'],
      });
    });
    expect(compiles).toBe(0);
    expect(validate.errors).toBeUndefined();
    expect(validate({ n: 1 })).toBe(true);
    expect(validate.errors).toBeNull();
    expect(validate({ n: 'x' })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: '/n', keyword: 'type' });
    expect(validate({})).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ keyword: 'required' });
    expect(compiles).toBe(1);
    expect(validate.schema).toMatchObject({ required: ['n'] });
  });

  it('throws the compile error at the first call', () => {
    const validate = lazyValidator(() => new Ajv().compile({ type: 'no-such-type' }));
    expect(() => validate({})).toThrow(/type/);
  });
});

describe('compileSchema', () => {
  it('compiles the same schema once per option set, and still refuses invalid schemas', () => {
    const a = compileSchema({ type: 'string', minLength: 2 });
    expect(compileSchema({ type: 'string', minLength: 2 })).toBe(a);
    expect(compileSchema({ type: 'string', minLength: 2 }, { useDefaults: true })).not.toBe(a);
    expect(a('ab')).toBe(true);
    expect(a('a')).toBe(false);
    expect(() => compileSchema({ type: 'string', minLength: 'two' })).toThrow();
    expect(() => compileSchema({ type: 'string', minLength: 'two' })).toThrow();
  });

  it('applies defaults with useDefaults, from the cached validator too', () => {
    const schema = { type: 'object', properties: { x: { type: 'integer', default: 3 } } };
    for (let i = 0; i < 2; i++) {
      const data: Record<string, unknown> = {};
      expect(compileSchema(schema, { useDefaults: true })(data)).toBe(true);
      expect(data).toEqual({ x: 3 });
    }
  });
});
