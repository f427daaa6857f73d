import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv, Options, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/**
 * An ajv validator compiled on its first call instead of when its module loads. Compiling the
 * built-in schemas (config, content kinds, rules, workflows, API routes) at import cost ~0.5 s of
 * CPU at every `squall start`, most of it for validators an idle server never calls. The result
 * behaves as the compiled function: same return value, same `errors` after a call.
 */
export function lazyValidator<T = unknown>(compile: () => ValidateFunction<T>): ValidateFunction<T> {
  let compiled: ValidateFunction<T> | undefined;
  const get = (): ValidateFunction<T> => (compiled ??= compile());
  const validate = function (this: unknown, ...args: Parameters<ValidateFunction<T>>) {
    return get().apply(this, args);
  } as ValidateFunction<T>;
  Object.defineProperty(validate, 'errors', {
    get: () => compiled?.errors,
    set: (v: ValidateFunction<T>['errors']) => {
      get().errors = v;
    },
  });
  Object.defineProperty(validate, 'schema', { get: () => get().schema });
  return validate;
}

/** A built-in schema whose validator the build writes out as code (ajv standalone). */
export interface BuiltSchema {
  /** File name of its code: `<name>.cjs`. */
  name: string;
  schema: object;
  /** A fresh ajv for it; the build passes `extra` options (standalone code output). */
  ajv: (extra?: Options) => Ajv;
}

const builtSchemas = new Map<string, BuiltSchema>();
/** Where `npm run build` writes the validators' code: dist/validators (this file is dist/src/). */
const BUILT_DIR = fileURLToPath(new URL('../validators/', import.meta.url));

let version: string | undefined;
/** The installed ajv's version (its package.json, next to its main file's dist/). */
function ajvVersion(): string {
  version ??= (
    JSON.parse(
      readFileSync(path.join(path.dirname(require.resolve('ajv')), '..', 'package.json'), 'utf8'),
    ) as {
      version: string;
    }
  ).version;
  return version;
}

/**
 * Identifies a schema's generated code: the schema, how its ajv is made and ajv's version. Code
 * written for anything else is not used.
 */
export function builtSchemaHash(b: BuiltSchema): string {
  return createHash('sha256')
    .update(JSON.stringify(b.schema))
    .update(b.ajv.toString())
    .update(ajvVersion())
    .digest('hex')
    .slice(0, 32);
}

/**
 * A built-in schema's validator: the code the build generated for it (dist/validators), loaded at
 * the first call, or, without that code or when it was made for another schema (a test run from
 * the sources, a stale build), ajv's compile as before. Compiling the config's and the content
 * kinds' schemas was ~0.25 s of CPU at every start (and loaded ajv); their code loads in ~10 ms.
 * `runtime` compiles it when there is no code (default: `b.ajv().compile(b.schema)`).
 */
export function builtValidator(
  b: BuiltSchema,
  runtime: () => ValidateFunction = () => b.ajv().compile(b.schema),
  dir = BUILT_DIR,
): ValidateFunction {
  builtSchemas.set(b.name, b);
  return lazyValidator(() => loadBuilt(b, dir) ?? runtime());
}

function loadBuilt(b: BuiltSchema, dir: string): ValidateFunction | undefined {
  return loadCode(path.join(dir, `${b.name}.cjs`), builtSchemaHash(b));
}

function loadCode(file: string, hash: string): ValidateFunction | undefined {
  let mod: ValidateFunction & { hash?: string };
  try {
    mod = require(file) as ValidateFunction & { hash?: string };
  } catch {
    return undefined; // not written (yet)
  }
  return mod.hash === hash ? mod : undefined;
}

/** The data dir whose cache/validators keeps pack schemas' validator code (set by `startService`). */
let dataDir: string | undefined;
const cacheDir = (): string | undefined => dataDir && path.join(dataDir, 'cache', 'validators');
const toWrite = new Map<string, BuiltSchema>();
let writing: NodeJS.Timeout | undefined;
/** Validator code is written this long after its schema was first compiled: after start-up. */
const WRITE_DELAY_MS = 10_000;

/**
 * Keeps validators of pack schemas as code under `<dataDir>/cache/validators` (undefined: compile
 * them every time, and forget what was not written yet: the service stopped).
 */
export function useValidatorCache(dir: string | undefined): void {
  dataDir = dir;
  if (dir) return;
  toWrite.clear();
  clearTimeout(writing);
  writing = undefined;
}

/**
 * A schema from a pack (an action's parameter, a trigger type's payload), compiled by `compile`
 * with the ajv `family.ajv` makes, or loaded from the code kept for it under the cache directory.
 * Registering the bundled packs compiled ~45 such schemas at every start, ~0.15 s of CPU, and
 * loaded ajv. A schema that does not compile (ajv's error) is never kept, so it fails every time.
 * The code of a newly compiled schema is written after start-up, in the background.
 */
export function cachedValidator(
  family: Omit<BuiltSchema, 'schema'>,
  schema: object,
  compile: () => ValidateFunction,
): ValidateFunction {
  const dir = cacheDir();
  if (!dir) return compile();
  const b: BuiltSchema = { ...family, schema };
  const hash = builtSchemaHash(b);
  const name = `${family.name}-${hash}.cjs`;
  const kept = loadCode(path.join(dir, name), hash);
  if (kept) return kept;
  const validate = compile();
  toWrite.set(name, b);
  writing ??= setTimeout(() => void writeKept(), WRITE_DELAY_MS).unref();
  return validate;
}

/** Writes the code of the schemas compiled since the last write (errors only cost the cache). */
export async function writeKept(): Promise<void> {
  writing = undefined;
  const batch = [...toWrite];
  toWrite.clear();
  const dir = cacheDir();
  // Not into a data dir that is gone (a test's, removed after its service stopped).
  if (!dir || batch.length === 0 || !existsSync(dataDir!)) return;
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return;
  }
  const ajvs = new Map<string, Ajv>();
  for (const [name, b] of batch) {
    try {
      if (!ajvs.has(b.name)) ajvs.set(b.name, b.ajv(await codeOptions()));
      const file = path.join(dir, name);
      writeFileSync(`${file}.tmp`, await builtValidatorSource(b, { ajv: ajvs.get(b.name), resolved: true }));
      renameSync(`${file}.tmp`, file);
    } catch {
      // a schema ajv cannot write as code, or a read-only data dir: compiled at every start
    }
  }
}

/** The built-in schemas registered so far (by the modules loaded), for the build. */
export function registeredBuiltSchemas(): BuiltSchema[] {
  return [...builtSchemas.values()];
}

/** The ajv options that make it keep each validator's code, formats included (ajv-formats). */
async function codeOptions(): Promise<Options> {
  const { _ } = await import('ajv');
  return { code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` } };
}

/**
 * The standalone code of a schema's validator (a CommonJS module), tagged with its hash; `ajv`
 * (made by `b.ajv` with codeOptions) is shared by the schemas of one family.
 */
export async function builtValidatorSource(
  b: BuiltSchema,
  { ajv, resolved = false }: { ajv?: Ajv; resolved?: boolean } = {},
): Promise<string> {
  const standalone = (await import('ajv/dist/standalone/index.js')) as unknown as {
    default: (ajv: Ajv, validate: ValidateFunction) => string;
  };
  ajv ??= b.ajv(await codeOptions());
  let code = standalone.default(ajv, ajv.compile(b.schema));
  // Code outside the installation (the data dir) requires ajv's runtime by its installed path.
  if (resolved)
    code = code.replace(
      /require\("((?:ajv|ajv-formats)\/[^"]+)"\)/g,
      (_m, spec: string) => `require(${JSON.stringify(require.resolve(spec))})`,
    );
  return `${code}\nmodule.exports.hash = ${JSON.stringify(builtSchemaHash(b))};\n`;
}

/** Writes every registered built-in schema's validator code to `dir` (the build: dist/validators). */
export async function writeBuiltValidators(dir = BUILT_DIR): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (const b of registeredBuiltSchemas()) {
    const file = path.join(dir, `${b.name}.cjs`);
    writeFileSync(`${file}.tmp`, await builtValidatorSource(b));
    renameSync(`${file}.tmp`, file);
    names.push(b.name);
  }
  return names;
}
