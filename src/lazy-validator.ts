import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants as fsConstants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
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
/** The files of the cache this process loaded or wrote since `useValidatorCache` (what pruning keeps). */
const used = new Set<string>();
/** Whether the next write pass also deletes the files nothing used since start. */
let pruneDue = false;
/** The last line of a kept file: the sha256 of everything before it. */
const SEAL = '\n// squall-sha256:';

/**
 * Keeps validators of pack schemas as code under `<dataDir>/cache/validators` (undefined: compile
 * them every time, and forget what was not written yet: the service stopped). Once start-up is
 * over (WRITE_DELAY_MS), the files no schema loaded since then used are deleted: packs removed or
 * changed leave none behind.
 */
export function useValidatorCache(dir: string | undefined): void {
  dataDir = dir;
  used.clear();
  clearTimeout(writing);
  writing = undefined;
  pruneDue = Boolean(dir);
  if (dir) {
    writing = setTimeout(() => void writeKept(), WRITE_DELAY_MS).unref();
    return;
  }
  toWrite.clear();
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
  used.add(name);
  const kept = loadKept(dir, name, hash);
  if (kept) return kept;
  const validate = compile();
  toWrite.set(name, b);
  writing ??= setTimeout(() => void writeKept(), WRITE_DELAY_MS).unref();
  return validate;
}

/** Whether a file or folder of the cache is this user's and nobody else's to write. */
function privateToUs(st: Stats): boolean {
  if (typeof process.getuid !== 'function') return true; // no owners to check (Windows)
  return st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

/**
 * The cache folder, made this user's alone (0700): null when it cannot be, e.g. another user
 * owns it, and then nothing is read from or written to it.
 */
function privateDir(dir: string, create: boolean): string | null {
  try {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory()) return null;
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return null;
    if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
    return dir;
  } catch {
    return null;
  }
}

/** `code` sealed with its hash, as the cache keeps it. */
function seal(code: string): string {
  return `${code}${SEAL}${createHash('sha256').update(code).digest('hex')}\n`;
}

/** The code of a sealed file's text, or undefined when the seal does not match (corrupt, foreign). */
function unseal(text: string): string | undefined {
  const at = text.lastIndexOf(SEAL);
  if (at < 0) return undefined;
  const code = text.slice(0, at);
  const digest = text.slice(at + SEAL.length).trim();
  return createHash('sha256').update(code).digest('hex') === digest ? code : undefined;
}

/**
 * A kept validator, run only when its file is trustworthy: a regular file (no link), in a folder
 * and owned by this user with no one else allowed to write either, whose seal matches its content,
 * made for this very schema (`hash`). The code run is the text that was checked, not the file
 * read again. Anything else is refused (the schema is compiled, and its code written anew).
 */
function loadKept(dir: string, name: string, hash: string): ValidateFunction | undefined {
  const file = path.join(dir, name);
  let text: string;
  try {
    if (!privateToUs(statSync(dir))) return undefined;
    const fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || !privateToUs(st)) return undefined;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined; // not written (yet), or a link
  }
  const code = unseal(text);
  if (code === undefined) return undefined;
  try {
    const mod = { exports: {} as ValidateFunction & { hash?: string } };
    const run = vm.runInThisContext(`(function (module, exports, require) {${code}\n})`, {
      filename: file,
    }) as (m: typeof mod, e: unknown, r: NodeJS.Require) => void;
    run(mod, mod.exports, createRequire(file));
    return mod.exports.hash === hash ? mod.exports : undefined;
  } catch {
    return undefined;
  }
}

/** Deletes the cache's files that nothing loaded or wrote since start (schemas of packs gone). */
function prune(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (used.has(name)) continue;
    try {
      unlinkSync(path.join(dir, name));
    } catch {
      // gone already, or not ours to delete
    }
  }
}

/**
 * Writes the code of the schemas compiled since the last write (errors only cost the cache), and
 * the first time after start deletes what nothing used.
 */
export async function writeKept(): Promise<void> {
  writing = undefined;
  const batch = [...toWrite];
  toWrite.clear();
  const dir = cacheDir();
  // Not into a data dir that is gone (a test's, removed after its service stopped).
  if (!dir || !existsSync(dataDir!)) return;
  if (batch.length === 0 && !(pruneDue && existsSync(dir))) return;
  if (!privateDir(dir, true)) return;
  const ajvs = new Map<string, Ajv>();
  for (const [name, b] of batch) {
    try {
      if (!ajvs.has(b.name)) ajvs.set(b.name, b.ajv(await codeOptions()));
      const file = path.join(dir, name);
      const code = await builtValidatorSource(b, { ajv: ajvs.get(b.name), resolved: true });
      writeFileSync(`${file}.tmp`, seal(code), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    } catch {
      // a schema ajv cannot write as code, or a read-only data dir: compiled at every start
    }
  }
  if (pruneDue) {
    pruneDue = false;
    prune(dir);
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
