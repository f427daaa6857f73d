import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ValidateFunction } from 'ajv';
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

  /** A fresh data dir with the cache on; `fn` gets the cache folder and a counting compile. */
  async function withCache(
    fn: (
      cacheDir: string,
      use: (s?: object) => { compiled: () => number; validate: ValidateFunction },
    ) => Promise<void>,
  ): Promise<void> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'squall-validator-cache-'));
    try {
      useValidatorCache(dataDir);
      await fn(path.join(dataDir, 'cache', 'validators'), (s = schema) => {
        let n = 0;
        const validate = cachedValidator(
          { name: 'test', ajv: family.ajv },
          s,
          () => (n++, family.ajv().compile(s)),
        );
        return { compiled: () => n, validate };
      });
    } finally {
      useValidatorCache(undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  it('are kept 0600 in a 0700 folder, and pruned at the first write after a start when nothing used them', async () => {
    await withCache(async (cacheDir, use) => {
      const other = { type: 'object', properties: { gone: { type: 'boolean' } } };
      use();
      use(other);
      await writeKept();
      const files = readdirSync(cacheDir).sort();
      expect(files).toHaveLength(2);
      expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
      for (const f of files) expect(statSync(path.join(cacheDir, f)).mode & 0o777).toBe(0o600);
      writeFileSync(path.join(cacheDir, 'leftover.cjs.tmp'), 'x');
      // Started again (same data dir): only `schema` is loaded; `other`'s pack is gone.
      useValidatorCache(path.dirname(path.dirname(cacheDir)));
      expect(use().compiled()).toBe(0);
      await writeKept();
      const left = readdirSync(cacheDir);
      expect(left).toHaveLength(1);
      expect(files).toContain(left[0]);
      expect(use().compiled()).toBe(0);
      // Pruning happens once per start: what is written later stays.
      use(other);
      await writeKept();
      expect(readdirSync(cacheDir)).toHaveLength(2);
    });
  });

  it('refuse, without running it, a file that is corrupt, foreign, a link or writable by others', async () => {
    await withCache(async (cacheDir, use) => {
      use();
      await writeKept();
      const [name] = readdirSync(cacheDir);
      const file = path.join(cacheDir, name);
      const good = readFileSync(file, 'utf8');
      const g = globalThis as { squallPwned?: number };
      delete g.squallPwned;
      // The right name and hash property, code of someone else's: its seal does not match.
      const evil = good.replace(
        '"use strict";',
        '"use strict";globalThis.squallPwned = (globalThis.squallPwned ?? 0) + 1;',
      );
      expect(evil).not.toBe(good);
      const refused = (text: string, mode = 0o600) => {
        rmSync(file, { force: true });
        writeFileSync(file, text, { mode });
        chmodSync(file, mode);
        const u = use();
        expect(u.compiled()).toBe(1);
        expect(u.validate({ host: 'a.example' })).toBe(true);
      };
      refused(evil);
      refused(good.slice(0, good.length - 20)); // cut short
      refused(good.slice(0, good.lastIndexOf('\n// squall-sha256:'))); // no seal at all
      // A sealed file anyone may write is not trusted either, nor a folder anyone may write.
      const resealed = (code: string) =>
        `${code}\n// squall-sha256:${createHash('sha256').update(code).digest('hex')}\n`;
      const evilCode = evil.slice(0, evil.lastIndexOf('\n// squall-sha256:'));
      refused(resealed(evilCode), 0o666);
      refused(resealed(evilCode), 0o620);
      // A link to a sealed file elsewhere.
      const elsewhere = path.join(path.dirname(cacheDir), 'elsewhere.cjs');
      writeFileSync(elsewhere, good, { mode: 0o600 });
      rmSync(file);
      symlinkSync(elsewhere, file);
      expect(use().compiled()).toBe(1);
      rmSync(file);
      writeFileSync(file, good, { mode: 0o600 });
      chmodSync(cacheDir, 0o777);
      expect(use().compiled()).toBe(1);
      chmodSync(cacheDir, 0o700);
      expect(g.squallPwned).toBeUndefined();
      // The file as written is trusted again; a refused one is written anew.
      expect(use().compiled()).toBe(0);
      rmSync(file);
      writeFileSync(file, evil, { mode: 0o600 });
      expect(use().compiled()).toBe(1);
      await writeKept();
      expect(readFileSync(file, 'utf8')).toBe(good);
      expect(use().compiled()).toBe(0);
      expect(g.squallPwned).toBeUndefined();
    });
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
