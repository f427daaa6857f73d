import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src/config/load.js';
import '../../../src/content/validate.js';
import {
  builtSchemaHash,
  builtValidator,
  cachedValidator,
  registeredBuiltSchemas,
  useValidatorCache,
  writeBuiltValidators,
  writeKept,
} from '../../../src/lazy-validator.js';

// Inside the repository: the generated code requires ajv's runtime from node_modules.
const cache = path.resolve(import.meta.dirname, '../../../node_modules/.cache');
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(path.join(cache, 'squall-validators-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Valid and invalid documents of every kind: each must get the same answer, errors and defaults. */
const SAMPLES: unknown[] = [
  {},
  [],
  'text',
  null,
  { api: { port: 'x' }, log: { level: 'loud' }, nope: 1 },
  { data_dir: '/tmp/x', api: { host: '0.0.0.0', port: 9101 } },
  { name: 5, ref: 'a b', version: 1, parameters: { x: { type: 'foo' } } },
  { ref: 'mypack', name: 'mypack', version: '1.0.0', author: 'me', email: 'not-an-email' },
  {
    name: 'act',
    runner_type: 'local-shell-cmd',
    entry_point: 3,
    parameters: {
      p: { type: 'string', required: 'yes', position: 'first' },
      q: { type: 'integer', default: 2 },
    },
  },
  {
    name: 'r',
    pack: 'x',
    enabled: 'maybe',
    trigger: {},
    action: { ref: 1 },
    criteria: { a: { type: 'eq' } },
  },
  { name: 'al', action_ref: 'x.y', formats: ['run {{cmd}}', { display: 'd', representation: [1] }] },
  { name: 'p', resource_ref: 'x.y', policy_type: 'action.concurrency', parameters: { threshold: 'many' } },
  {
    class_name: 'S',
    entry_point: 's.py',
    trigger_types: [{ name: 't', payload_schema: { type: 'object' } }],
  },
  { host: { type: 'string', required: true, secret: 'yes' }, port: { type: 'integer', default: 'eighty' } },
];

describe('validators the build writes as code (dist/validators)', () => {
  it('answer every document exactly as ajv compiled at run time does', async () => {
    const schemas = registeredBuiltSchemas();
    expect(schemas.map((b) => b.name).sort()).toEqual([
      'config',
      'content-action',
      'content-alias',
      'content-config_schema',
      'content-pack',
      'content-policy',
      'content-rule',
      'content-sensor',
      'content-trigger_type',
    ]);
    await writeBuiltValidators(dir);
    for (const b of schemas) {
      let compiled = 0;
      const fromCode = builtValidator(b, () => (compiled++, b.ajv().compile(b.schema)), dir);
      const atRunTime = b.ajv().compile(b.schema);
      for (const sample of SAMPLES) {
        const [d1, d2] = [structuredClone(sample), structuredClone(sample)];
        const [r1, r2] = [fromCode(d1), atRunTime(d2)];
        const same =
          r1 === r2 && isDeepStrictEqual(fromCode.errors, atRunTime.errors) && isDeepStrictEqual(d1, d2);
        expect(same, `${b.name}: ${JSON.stringify(sample)}`).toBe(true);
      }
      expect(compiled, `${b.name} compiled instead of loading its code`).toBe(0);
    }
  });

  it('compile at run time when the code is missing or was made from another schema', () => {
    const b = registeredBuiltSchemas().find((s) => s.name === 'content-pack')!;
    const stale = mkdtempSync(path.join(cache, 'squall-validators-stale-'));
    try {
      writeFileSync(
        path.join(stale, 'content-pack.cjs'),
        `module.exports = () => true; module.exports.hash = ${JSON.stringify(builtSchemaHash({ ...b, schema: {} }))};`,
      );
      let compiled = 0;
      const validate = builtValidator(b, () => (compiled++, b.ajv().compile(b.schema)), stale);
      expect(validate({ nonsense: true })).toBe(false);
      expect(compiled).toBe(1);
      const missing = builtValidator(
        b,
        () => (compiled++, b.ajv().compile(b.schema)),
        path.join(stale, 'none'),
      );
      expect(missing({ nonsense: true })).toBe(false);
      expect(compiled).toBe(2);
    } finally {
      rmSync(stale, { recursive: true, force: true });
    }
  });
});

describe('validators of pack schemas kept as code in the data dir', () => {
  const family = registeredBuiltSchemas().find((s) => s.name === 'content-action')!;
  const schema = {
    type: 'object',
    properties: { host: { type: 'string', format: 'hostname' }, n: { type: 'integer', default: 3 } },
    required: ['host'],
  };

  it('are written after they compile, then loaded instead of compiled, with the same answers', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'squall-validator-cache-'));
    try {
      useValidatorCache(dataDir);
      let compiled = 0;
      const compile = () => (compiled++, family.ajv().compile(schema));
      const first = cachedValidator({ name: 'test', ajv: family.ajv }, schema, compile);
      expect(compiled).toBe(1);
      await writeKept();
      expect(readdirSync(path.join(dataDir, 'cache', 'validators'))).toHaveLength(1);
      const kept = cachedValidator({ name: 'test', ajv: family.ajv }, schema, compile);
      expect(compiled).toBe(1);
      for (const sample of [{ host: 'a.example' }, { host: 'not a host!' }, {}, { host: 1, n: 'x' }]) {
        const [d1, d2] = [structuredClone(sample), structuredClone(sample)];
        expect(kept(d1)).toBe(first(d2));
        expect(kept.errors).toEqual(first.errors);
        expect(d1).toEqual(d2);
      }
      // A schema ajv refuses is never kept: it fails every time.
      const bad = { type: 'string', minLength: 'two' };
      const badCompile = () => family.ajv().compile(bad);
      expect(() => cachedValidator({ name: 'test', ajv: family.ajv }, bad, badCompile)).toThrow();
      await writeKept();
      expect(() => cachedValidator({ name: 'test', ajv: family.ajv }, bad, badCompile)).toThrow();
      expect(readdirSync(path.join(dataDir, 'cache', 'validators'))).toHaveLength(1);
    } finally {
      useValidatorCache(undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('without a data dir, compile every time and write nothing', async () => {
    let compiled = 0;
    const compile = () => (compiled++, family.ajv().compile(schema));
    cachedValidator({ name: 'test', ajv: family.ajv }, schema, compile);
    cachedValidator({ name: 'test', ajv: family.ajv }, schema, compile);
    await writeKept();
    expect(compiled).toBe(2);
  });
});
