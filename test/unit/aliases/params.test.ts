import { describe, expect, it } from 'vitest';
import { SquallError } from '../../../src/errors.js';
import { applyImmutableParameters, castAliasParameters, type AliasLike } from '../../../aliases/index.js';

const base: AliasLike = {
  name: 'deploy',
  pack: 'ops',
  action_ref: 'ops.deploy',
  formats: ['deploy {{app}}'],
};
const upper = (t: string) =>
  t.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, name: string) => `<${name.toUpperCase()}>`);

function thrown(fn: () => unknown): SquallError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SquallError);
    return err as SquallError;
  }
  throw new Error('expected an error');
}

describe('applyImmutableParameters', () => {
  it('injects immutable parameters next to the chat ones', () => {
    const alias = { ...base, immutable_parameters: { env: 'dev' } };
    expect(applyImmutableParameters({ param1: 'value1', param2: 'value2' }, alias, upper)).toEqual({
      param1: 'value1',
      param2: 'value2',
      env: 'dev',
    });
  });

  it('renders templates, including inside lists and objects, and keeps other types', () => {
    const alias = {
      ...base,
      immutable_parameters: {
        user: '{{ user }}',
        tags: ['{{ a }}', 'x'],
        opts: { k: '{{ b }}', n: 3 },
        flag: true,
      },
    };
    expect(applyImmutableParameters({ app: 'web' }, alias, upper)).toEqual({
      app: 'web',
      user: '<USER>',
      tags: ['<A>', 'x'],
      opts: { k: '<B>', n: 3 },
      flag: true,
    });
  });

  it('refuses a chat value for an immutable parameter with st2 message', () => {
    const alias = { ...base, immutable_parameters: { env: 'dev', region: 'eu' } };
    const err = thrown(() =>
      applyImmutableParameters({ app: 'web', env: 'prod', region: 'us' }, alias, upper),
    );
    expect(err.code).toBe('ALIAS_IMMUTABLE');
    expect(err.message).toBe('Immutable arguments cannot be overriden: env,region');
    expect(err.context).toEqual({ alias: 'ops.deploy', parameters: ['env', 'region'] });
  });

  it('applies to every parameter set of a match_multiple match without changing the input', () => {
    const alias = { ...base, immutable_parameters: { env: 'dev' } };
    const input = [{ issue: 'A-1' }, { issue: 'B-2' }];
    expect(applyImmutableParameters(input, alias, upper)).toEqual([
      { issue: 'A-1', env: 'dev' },
      { issue: 'B-2', env: 'dev' },
    ]);
    expect(input).toEqual([{ issue: 'A-1' }, { issue: 'B-2' }]);
  });

  it('names the parameter when rendering fails', () => {
    const alias = { ...base, immutable_parameters: { token: '{{ st2kv.system.missing }}' } };
    const err = thrown(() =>
      applyImmutableParameters({}, alias, () => {
        throw new Error('undefined variable st2kv');
      }),
    );
    expect(err.code).toBe('ALIAS_IMMUTABLE_RENDER');
    expect(err.message).toBe(
      'Alias "ops.deploy": immutable parameter "token" could not be rendered: undefined variable st2kv',
    );
  });
});

describe('castAliasParameters', () => {
  const specs = {
    hosts: { type: 'array' },
    count: { type: 'integer' },
    ratio: { type: 'number' },
    force: { type: 'boolean' },
    opts: { type: 'object' },
    name: { type: 'string' },
    either: { type: ['integer', 'string'] },
  };

  it('splits arrays on commas and trims each item (the chat rule)', () => {
    expect(castAliasParameters({ hosts: ' web1, web2 ,web3' }, specs)).toEqual({
      hosts: ['web1', 'web2', 'web3'],
    });
    expect(castAliasParameters({ hosts: '["a", "b c"]' }, specs)).toEqual({ hosts: ['a', 'b c'] });
  });

  it('casts integers, numbers and booleans', () => {
    expect(castAliasParameters({ count: '42', ratio: '0.25', force: 'True' }, specs)).toEqual({
      count: 42,
      ratio: 0.25,
      force: true,
    });
    expect(castAliasParameters({ force: 'no' }, specs)).toEqual({ force: false });
  });

  it('parses objects from JSON and from Python literals', () => {
    expect(castAliasParameters({ opts: '{"a": [1, 2]}' }, specs)).toEqual({ opts: { a: [1, 2] } });
    expect(castAliasParameters({ opts: "{'a':'c', 'on': True, 'x': None}" }, specs)).toEqual({
      opts: { a: 'c', on: true, x: null },
    });
  });

  it('keeps strings, undeclared parameters and already typed values; drops nulls', () => {
    expect(
      castAliasParameters({ name: '007', extra: '5', count: 3, hosts: ['x'], dir: null }, specs),
    ).toEqual({ name: '007', extra: '5', count: 3, hosts: ['x'] });
  });

  it('with several types the first that fits wins', () => {
    expect(castAliasParameters({ either: '12' }, specs)).toEqual({ either: 12 });
    expect(castAliasParameters({ either: 'twelve' }, specs)).toEqual({ either: 'twelve' });
  });

  it('explains a value that does not fit, naming the parameter', () => {
    const err = thrown(() => castAliasParameters({ count: 'many' }, specs));
    expect(err.code).toBe('ALIAS_PARAMETER_TYPE');
    expect(err.message).toBe('Parameter "count" must be an integer: "many" is not a whole number');
    expect(err.context).toEqual({ parameter: 'count', type: 'integer', value: 'many' });
    expect(thrown(() => castAliasParameters({ ratio: '1,5' }, specs)).message).toBe(
      'Parameter "ratio" must be a number: "1,5" is not a number',
    );
    expect(thrown(() => castAliasParameters({ force: 'maybe' }, specs)).message).toMatch(
      /^Parameter "force" must be a boolean/,
    );
    expect(thrown(() => castAliasParameters({ opts: '[1, 2]' }, specs)).message).toMatch(
      /^Parameter "opts" must be an object: "\[1, 2\]" is not an object/,
    );
    expect(thrown(() => castAliasParameters({ opts: '{oops' }, specs)).message).toMatch(
      /neither JSON nor a Python literal/,
    );
  });
});
