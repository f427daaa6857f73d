import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
  let mod: ValidateFunction & { hash?: string };
  try {
    mod = require(path.join(dir, `${b.name}.cjs`)) as ValidateFunction & { hash?: string };
  } catch {
    return undefined; // not built
  }
  return mod.hash === builtSchemaHash(b) ? mod : undefined;
}

/** The built-in schemas registered so far (by the modules loaded), for the build. */
export function registeredBuiltSchemas(): BuiltSchema[] {
  return [...builtSchemas.values()];
}

/** The standalone code of a built-in schema's validator (a CommonJS module), tagged with its hash. */
export async function builtValidatorSource(b: BuiltSchema): Promise<string> {
  const { _ } = await import('ajv');
  const standalone = (await import('ajv/dist/standalone/index.js')) as unknown as {
    default: (ajv: Ajv, validate: ValidateFunction) => string;
  };
  const ajv = b.ajv({
    code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
  });
  const code = standalone.default(ajv, ajv.compile(b.schema));
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
