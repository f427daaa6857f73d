import { describe, expect, it } from 'vitest';
import {
  changeAt,
  secretPaths,
  secretValuesAt,
  underSecretPath,
  valueAtTrail,
  valuesAt,
} from '../../../src/secret-paths.js';

// aws_boto3's credentials and email's smtp_accounts: secrets inside objects and lists.
const specs = {
  region: { type: 'string' },
  token: { type: 'string', secret: true },
  credentials: {
    type: 'object',
    properties: { AccessKeyId: { type: 'string' }, SecretAccessKey: { type: 'string', secret: true } },
  },
  accounts: {
    type: 'array',
    items: { type: 'object', properties: { name: { type: 'string' }, password: { secret: true } } },
  },
  vault: { type: 'object', secret: true, properties: { key: { type: 'string', secret: true } } },
};

describe('secret paths from a schema', () => {
  it('names secrets inside objects and in each element of a list; a secret object is secret whole', () => {
    expect(secretPaths(specs)).toEqual([
      'token',
      'credentials.SecretAccessKey',
      'accounts[].password',
      'vault',
    ]);
  });

  it('lists the secrets below a secret object too when asked (pack config secret_fields)', () => {
    expect(secretPaths(specs, { belowSecrets: true })).toContain('vault.key');
  });

  it('names secrets under patternProperties and additionalProperties as every value of the object, following $ref', () => {
    const config = {
      foreman: { type: 'object', patternProperties: { '^\\w+': { $ref: '#/properties/connection' } } },
      connection: { type: 'object', properties: { server: { type: 'string' }, password: { secret: true } } },
      tokens: { type: 'object', additionalProperties: { type: 'string', secret: true } },
      loop: { type: 'object', additionalProperties: { $ref: '#/properties/loop' } },
    };
    expect(secretPaths(config)).toEqual(['foreman{}.password', 'connection.password', 'tokens{}']);
    const values = {
      foreman: { prod: { server: 'p', password: 'pp' }, lab: { password: 'lp' } },
      tokens: { gh: 'g' },
    };
    expect(valuesAt(values, 'foreman{}.password')).toEqual(['pp', 'lp']);
    expect(changeAt(values, 'tokens{}', () => '***')).toEqual({ ...values, tokens: { gh: '***' } });
    expect(underSecretPath(['foreman{}.password'], ['foreman', 'lab', 'password'])).toBe(true);
    expect(underSecretPath(['foreman{}.password'], ['foreman', 'lab', 'server'])).toBe(false);
  });

  it('finds none in what is not a schema', () => {
    expect(secretPaths(undefined)).toEqual([]);
    expect(secretPaths({ a: 'text', b: null, c: [{ secret: true }] })).toEqual([]);
  });
});

describe('values at a secret path', () => {
  const values = {
    token: 't0ken',
    credentials: { AccessKeyId: 'id', SecretAccessKey: 's3cret' },
    accounts: [
      { name: 'a', password: 'pa' },
      { name: 'b', password: 'pb' },
    ],
  };

  it('changes each value the path names and leaves the original as it was', () => {
    const masked = changeAt(values, 'accounts[].password', () => '***');
    expect(masked.accounts).toEqual([
      { name: 'a', password: '***' },
      { name: 'b', password: '***' },
    ]);
    expect(values.accounts[0].password).toBe('pa');
    expect(masked.credentials).toBe(values.credentials);
  });

  it('changes nothing where the values lack the path or have another shape', () => {
    expect(changeAt(values, 'missing.key', () => 'x')).toEqual(values);
    expect(changeAt(values, 'token[]', () => 'x')).toEqual(values);
    expect(changeAt({ accounts: { password: 'p' } }, 'accounts[].password', () => 'x')).toEqual({
      accounts: { password: 'p' },
    });
  });

  it('reads the values at a path, several through a list', () => {
    expect(valuesAt(values, 'credentials.SecretAccessKey')).toEqual(['s3cret']);
    expect(valuesAt(values, 'accounts[].password')).toEqual(['pa', 'pb']);
    expect(valuesAt(values, 'nowhere')).toEqual([]);
  });

  it('gives the trail to each value, which finds the same value in another copy', () => {
    const stored = { accounts: [{ password: 'old-a' }, { password: 'old-b' }] };
    const sent = { accounts: [{ password: '***' }, { password: 'new-b' }] };
    const kept = changeAt(sent, 'accounts[].password', (value, trail) =>
      value === '***' ? valueAtTrail(stored, trail) : value,
    );
    expect(kept).toEqual({ accounts: [{ password: 'old-a' }, { password: 'new-b' }] });
    expect(valueAtTrail(stored, ['accounts', 5, 'password'])).toBeUndefined();
  });

  it('gives the secret values to mask: strings as they are, an object as its JSON and each string in it', () => {
    const held = { ...values, vault: { key: 'v-key', nested: ['v-one'] }, pin: 4321, none: null };
    expect(
      secretValuesAt(held, [
        'token',
        'credentials.SecretAccessKey',
        'accounts[].password',
        'vault',
        'pin',
        'none',
        'nowhere',
      ]),
    ).toEqual([
      't0ken',
      's3cret',
      'pa',
      'pb',
      '{"key":"v-key","nested":["v-one"]}',
      'v-key',
      'v-one',
      '4321',
    ]);
  });
});
