import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  getRunnerType,
  OVERRIDABLE_RUNNER_PARAMETER_ATTRIBUTES,
  REMOVED_RUNNERS,
  RUNNER_TYPES,
  type ParameterSpec,
} from '../runners/index.js';
import { getSystemTriggerType, SYSTEM_TRIGGER_TYPES } from '../triggers/index.js';
import { isTimerType, timerProblem } from '../triggers/timers/index.js';
import { SquallError } from '../errors.js';
import { secretPaths } from '../secret-paths.js';
import { isSemver } from './semver.js';
import type { ContentProblem } from './problems.js';
import {
  CRITERIA_OPERATORS,
  KNOWN_PARAMETER_ATTRIBUTES,
  PACK_REF_PATTERN,
  POLICY_TYPE_PARAMETER_SCHEMAS,
  ST2_VERSION_PATTERN,
  SEARCH_CONDITIONS,
} from './schemas/index.js';
import type {
  ActionRecord,
  AliasRecord,
  LoadedPack,
  LoadedPacks,
  LoadOptions,
  PackRecord,
  PolicyRecord,
  RuleRecord,
  SensorRecord,
  TriggerTypeRecord,
} from './types.js';
import {
  compileSchema,
  fieldOf,
  isTemplate,
  parametersToObjectSchema,
  undefinedConfigNames,
  toStandardSchema,
  unsetNullOptionals,
  validateKind,
  validateWith,
  type FileKind,
  type Violation,
} from './validate.js';
import { parseYaml, type PathSegment, type Position } from './yaml.js';

const META_EXTS = new Set(['.yaml', '.yml', '.json']);
const RESERVED_PACK_NAMES = new Set(['_global']);
/** Runners whose entry point is a file that must exist (the others ignore entry_point). */
const ENTRY_POINT_RUNNERS = new Set([
  'local-shell-script',
  'remote-shell-script',
  'python-script',
  'nodejs',
  'orquesta',
  'action-chain',
  'winrm-ps-script',
]);

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One metadata file being read: reports problems against it with positions. */
class FileScope {
  errors = 0;
  locate: ((path: readonly PathSegment[], opts?: { key?: boolean }) => Position | undefined) | undefined;
  constructor(
    private readonly ctx: PackScan,
    readonly file: string,
  ) {}

  report(
    severity: 'error' | 'warning',
    code: string,
    message: string,
    path?: readonly PathSegment[],
    opts: { key?: boolean; field?: string; line?: number; column?: number } = {},
  ): void {
    if (severity === 'error') this.errors++;
    const pos =
      opts.line !== undefined
        ? { line: opts.line, column: opts.column ?? 1 }
        : path && this.locate
          ? this.locate(path, { key: opts.key })
          : undefined;
    const field = opts.field ?? (path && path.length ? fieldOf(path) : undefined);
    this.ctx.problems.push({
      severity,
      code,
      pack: this.ctx.ref,
      file: this.file,
      ...(pos ? { line: pos.line, column: pos.column } : {}),
      ...(field ? { field } : {}),
      message,
      pack_dir: this.ctx.dir,
    });
  }
  error(
    code: string,
    message: string,
    path?: readonly PathSegment[],
    opts?: { key?: boolean; field?: string },
  ): void {
    this.report('error', code, message, path, opts);
  }
  warn(
    code: string,
    message: string,
    path?: readonly PathSegment[],
    opts?: { key?: boolean; field?: string },
  ): void {
    this.report('warning', code, message, path, opts);
  }
  violations(vs: Violation[]): void {
    for (const v of vs) this.report('error', v.code, v.message, v.path, { key: v.atKey, field: v.field });
  }
}

interface PackScan {
  ref: string;
  dir: string;
  problems: ContentProblem[];
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function listMetaFiles(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const name of entries.sort()) {
    if (!META_EXTS.has(extname(name)) || name.startsWith('.')) continue;
    if (await isFile(join(dir, name))) files.push(name);
  }
  return files;
}

/** Reads and parses one YAML file, reporting syntax problems; returns undefined when unusable. */
async function readYamlFile(
  scope: FileScope,
  absPath: string,
  expect: 'mapping' | 'any' = 'mapping',
): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(absPath, 'utf8');
  } catch (err) {
    scope.error('UNREADABLE_FILE', `cannot read file: ${(err as Error).message}`);
    return undefined;
  }
  const parsed = parseYaml(text, absPath);
  if (!parsed.ok) {
    scope.report('error', 'YAML_SYNTAX', `invalid YAML: ${parsed.message}`, undefined, {
      line: parsed.line,
      column: parsed.column,
    });
    return undefined;
  }
  scope.locate = parsed.locate;
  if (expect === 'mapping' && !isObj(parsed.data)) {
    scope.error(
      'NOT_A_MAPPING',
      `the file must contain a YAML mapping, not ${parsed.data === null || parsed.data === undefined ? 'an empty document' : Array.isArray(parsed.data) ? 'a list' : typeof parsed.data}`,
      [],
    );
    return undefined;
  }
  return parsed.data;
}

function checkPackField(scope: FileScope, data: Obj, pack: string): boolean {
  if (data.pack !== undefined && data.pack !== pack) {
    scope.error(
      'PACK_MISMATCH',
      `the file is in pack "${pack}" but its field "pack" says "${String(data.pack)}"`,
      ['pack'],
    );
    return false;
  }
  return true;
}

function validateFile(scope: FileScope, kind: FileKind, data: Obj): boolean {
  const before = scope.errors;
  unsetNullOptionals(kind, data);
  scope.violations(validateKind(kind, data));
  return scope.errors === before;
}

/**
 * Sensors and trigger types read from a pack are not schema-checked by st2: its sensors registrar
 * builds `SensorTypeAPI(**content)` without `validate()`, and both it and the triggers registrar
 * hand trigger types to `add_trigger_models`, which keeps only name, pack, description,
 * payload_schema, parameters_schema and tags. An unknown field (email's `payload_info`) is
 * therefore ignored there; Squall ignores it too and says so. (POST /triggertypes stays strict,
 * as st2's `TriggerTypeAPI` is.)
 */
function validateLenient(scope: FileScope, kind: 'sensor' | 'trigger_type', data: Obj): boolean {
  const before = scope.errors;
  for (const v of validateKind(kind, data)) {
    if (v.code !== 'UNKNOWN_FIELD') scope.violations([v]);
    else
      scope.warn(
        'IGNORED_FIELD',
        `field "${String(v.path[v.path.length - 1])}" is not one st2 reads; it is ignored, as in st2`,
        v.path,
        { key: true, field: v.field },
      );
  }
  return scope.errors === before;
}

function warnUnknownAttributes(scope: FileScope, params: Obj, base: PathSegment[]): void {
  for (const [name, def] of Object.entries(params)) {
    if (!isObj(def)) continue;
    for (const attr of Object.keys(def)) {
      if (!KNOWN_PARAMETER_ATTRIBUTES.has(attr)) {
        scope.warn(
          'UNKNOWN_PARAMETER_ATTRIBUTE',
          `parameter "${name}" has unknown attribute "${attr}", which is ignored`,
          [...base, name, attr],
          { key: true },
        );
      }
    }
  }
}

/**
 * Validates each parameter's default (unless it is a template) against the parameter's own schema.
 * An action's is a warning: st2's actions registrar never checks a default against its type (the
 * slack pack has 25 such, e.g. `type: boolean, default: ""`); the default is checked when a run
 * leaves the parameter unset, as st2's create_request does.
 */
function checkDefaults(
  scope: FileScope,
  params: Record<string, ParameterSpec>,
  base: PathSegment[],
  action = false,
): void {
  for (const [name, def] of Object.entries(params)) {
    if (!isObj(def) || !('default' in def) || def.default === null || isTemplate(def.default)) continue;
    const { default: dflt, ...rest } = def;
    let validate;
    try {
      validate = compileSchema(toStandardSchema({ ...rest, required: undefined }) as Obj);
    } catch (err) {
      scope.error('BAD_SCHEMA', `parameter "${name}" is not a valid JSON schema: ${(err as Error).message}`, [
        ...base,
        name,
      ]);
      continue;
    }
    if (!validate(dflt)) {
      const e = validate.errors?.[0];
      const message = `default of parameter "${name}" is invalid: ${e?.message ?? 'does not match'} (got ${JSON.stringify(dflt)})`;
      if (action)
        scope.warn(
          'BAD_DEFAULT',
          `${message}; the action is registered, as in st2, and a run that leaves "${name}" unset is refused`,
          [...base, name, 'default'],
        );
      else scope.error('BAD_DEFAULT', message, [...base, name, 'default']);
    }
  }
}

function collectTemplates(value: unknown, prefix = ''): string[] {
  if (isTemplate(value)) return [prefix];
  const out: string[] = [];
  if (isObj(value))
    for (const [k, v] of Object.entries(value))
      out.push(...collectTemplates(v, prefix ? `${prefix}.${k}` : k));
  else if (Array.isArray(value)) value.forEach((v, i) => out.push(...collectTemplates(v, `${prefix}[${i}]`)));
  return out;
}

function valueAt(data: unknown, path: PathSegment[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------
// Phase 1: one pack, file by file.

interface PackDraft extends LoadedPack {
  /** Refs of actions recognised but skipped (removed/unsupported runners): known, not runnable. */
  skippedActionRefs: Set<string>;
  /** For cross-checks: the scope each record was read with. */
  scopes: Map<object, FileScope>;
}

async function readPackMetadata(
  dir: string,
  problems: ContentProblem[],
): Promise<{ record: PackRecord; ok: boolean } | undefined> {
  const dirName = basename(dir);
  const scan: PackScan = { ref: dirName, dir, problems };
  const scope = new FileScope(scan, 'pack.yaml');
  if (!(await exists(dir))) {
    scope.report('error', 'PACK_NOT_FOUND', `pack directory ${dir} does not exist`, undefined, {});
    problems[problems.length - 1].file = '.';
    return undefined;
  }
  if (!(await isFile(join(dir, 'pack.yaml')))) {
    scope.error('MISSING_PACK_YAML', 'pack.yaml is missing: every pack needs one (st2 §14.2)');
    return undefined;
  }
  const data = (await readYamlFile(scope, join(dir, 'pack.yaml'))) as Obj | undefined;
  if (!data) return undefined;
  validateFile(scope, 'pack', data);
  // ref: explicit, else the name when it is a valid ref (§14.2).
  let ref: string | undefined;
  if (typeof data.ref === 'string') ref = data.ref;
  else if (typeof data.name === 'string') {
    if (new RegExp(PACK_REF_PATTERN).test(data.name)) ref = data.name;
    else
      scope.error(
        'BAD_PACK_REF',
        `pack name "${data.name}" is not a valid ref (only lowercase letters, digits and underscores): add a "ref" field`,
        ['name'],
      );
  }
  if (ref && RESERVED_PACK_NAMES.has(ref))
    scope.error('BAD_PACK_REF', `"${ref}" is a reserved name and cannot be a pack ref`, [
      data.ref !== undefined ? 'ref' : 'name',
    ]);
  let version = data.version === undefined ? '' : String(data.version);
  if (data.version !== undefined) {
    if (!isSemver(version)) {
      const coerced = /^\d+\.\d+$/.test(version) ? `${version}.0` : undefined;
      if (coerced && isSemver(coerced)) {
        scope.warn('VERSION_NORMALISED', `version "${version}" is not semver; read as "${coerced}"`, [
          'version',
        ]);
        version = coerced;
      } else {
        scope.error(
          'BAD_VERSION',
          `version "${version}" is not a valid semantic version (MAJOR.MINOR.PATCH)`,
          ['version'],
        );
      }
    }
  }
  // As st2's PackAPI.validate: registration refuses the pack (a forced install included). Python's
  // `$` lets one trailing newline through, so the test drops it.
  if (
    typeof data.stackstorm_version === 'string' &&
    !new RegExp(ST2_VERSION_PATTERN).test(data.stackstorm_version.replace(/\n$/, ''))
  )
    scope.error(
      'BAD_STACKSTORM_VERSION',
      `stackstorm_version ${JSON.stringify(data.stackstorm_version)} is not one or more <op>MAJOR.MINOR.PATCH (op one of >, >=, =, <=, <; comma-separated; nothing before the first op), the form st2's pack.yaml schema requires: st2 refuses to register such a pack`,
      ['stackstorm_version'],
    );
  if (
    Array.isArray(data.python_versions) &&
    data.python_versions.length > 0 &&
    !data.python_versions.map(String).includes('3')
  ) {
    scope.warn(
      'PYTHON2_ONLY',
      `python_versions ${JSON.stringify(data.python_versions)} does not include "3"; Squall runs Python actions with Python 3`,
      ['python_versions'],
    );
  }
  if (ref && ref !== dirName) {
    scope.warn(
      'PACK_DIR_MISMATCH',
      `pack ref "${ref}" differs from its directory name "${dirName}"; installs place it in "${ref}/"`,
      [data.ref !== undefined ? 'ref' : 'name'],
    );
  }
  if (await isFile(join(dir, 'config.yaml'))) {
    const legacy = new FileScope(scan, 'config.yaml');
    legacy.warn(
      'LEGACY_CONFIG_YAML',
      'config.yaml inside a pack is deprecated and ignored: use config.schema.yaml and <configDir>/<pack>.yaml (§14.3)',
    );
  }
  // Problems reported before the ref was known name the directory; rename them now.
  if (ref) for (const p of problems) if (p.pack_dir === dir) p.pack = ref;
  if (!ref || scope.errors > 0) return ref ? { record: undefined as never, ok: false } : undefined;
  const record: PackRecord = {
    ref,
    uid: `pack:${ref}`,
    name: String(data.name),
    description: String(data.description ?? ''),
    version,
    author: String(data.author ?? ''),
    ...(data.email !== undefined ? { email: String(data.email) } : {}),
    keywords: (data.keywords as string[] | undefined) ?? [],
    contributors: (data.contributors as string[] | undefined) ?? [],
    dependencies: (data.dependencies as string[] | undefined) ?? [],
    ...(data.python_versions !== undefined
      ? { python_versions: (data.python_versions as unknown[]).map(String) }
      : {}),
    ...(data.stackstorm_version !== undefined ? { stackstorm_version: String(data.stackstorm_version) } : {}),
    system: (data.system as Obj | undefined) ?? {},
    ...(data.repo_url !== undefined ? { repo_url: String(data.repo_url) } : {}),
    path: dir,
  };
  return { record, ok: true };
}

async function readConfig(draft: PackDraft, scan: PackScan, options: LoadOptions): Promise<void> {
  const dir = draft.dir;
  let schemaMap: Obj | undefined;
  let schemaScope: FileScope | undefined;
  if (await isFile(join(dir, 'config.schema.yaml'))) {
    const scope = new FileScope(scan, 'config.schema.yaml');
    schemaScope = scope;
    const data = (await readYamlFile(scope, join(dir, 'config.schema.yaml'))) as Obj | undefined;
    if (data && validateFile(scope, 'config_schema', data)) {
      warnUnknownAttributes(scope, data, []);
      checkDefaults(scope, data as Record<string, ParameterSpec>, []);
      if (scope.errors === 0) schemaMap = data;
    }
    if (!schemaMap) return; // an invalid schema cannot validate the config
    draft.config_schema = schemaMap;
  }
  const configFile = options.configDir ? join(resolve(options.configDir), `${draft.ref}.yaml`) : undefined;
  let values: Obj = {};
  let fileScope: FileScope | undefined;
  if (configFile && (await isFile(configFile))) {
    fileScope = new FileScope(scan, configFile);
    const data = await readYamlFile(fileScope, configFile, 'any');
    if (data === undefined && fileScope.errors > 0) return;
    if (data === null || data === undefined) values = {};
    else if (!isObj(data)) {
      fileScope.error('NOT_A_MAPPING', 'the pack config must be a YAML mapping', []);
      return;
    } else values = data;
  }
  if (!schemaMap) {
    if (fileScope)
      draft.config = {
        values,
        secret_fields: [],
        dynamic_fields: collectTemplates(values),
        file: configFile,
      };
    return;
  }
  const schema = parametersToObjectSchema(schemaMap, true);
  const validate = compileSchema(schema, { useDefaults: true });
  const copy = structuredClone(values);
  validate(copy);
  const violations = validateWith(validate, copy).filter((v) => {
    // Dynamic values are rendered at use time, so only their presence can be checked now.
    if (v.code === 'MISSING_FIELD' || v.code === 'UNKNOWN_FIELD') return true;
    return !isTemplate(valueAt(copy, v.path));
  });
  if (violations.length > 0) {
    if (fileScope) {
      for (const v of violations) {
        fileScope.report(
          'error',
          v.code === 'MISSING_FIELD' ? 'CONFIG_MISSING_FIELD' : 'CONFIG_INVALID',
          `config does not match config.schema.yaml: ${v.message}`,
          v.path,
          { key: v.atKey, field: v.field },
        );
      }
      return;
    }
    // No config file at all: st2 registers the pack and fails when the config is used.
    const schemaScope = new FileScope(scan, 'config.schema.yaml');
    const missing = violations.filter((v) => v.code === 'MISSING_FIELD').map((v) => v.field);
    schemaScope.warn(
      'CONFIG_MISSING',
      `no config file${configFile ? ` at ${configFile}` : ''} and the schema requires ${missing.length ? missing.map((m) => `"${m}"`).join(', ') : 'values'} without defaults`,
    );
  }
  draft.config = {
    values: copy,
    // Below a secret object too: a PUT of the config that masks only a field inside one keeps it.
    secret_fields: secretPaths(schemaMap, { belowSecrets: true }),
    dynamic_fields: collectTemplates(copy),
    ...(fileScope ? { file: configFile } : {}),
  };
  checkConfigTemplates(draft.config.dynamic_fields, copy, values, fileScope, schemaScope);
}

/**
 * A config template st2 cannot render (the pre-st2kv `{{ system.key }}`) is reported now, naming
 * the file it comes from; an action of the pack is refused with st2's message when it runs.
 */
function checkConfigTemplates(
  dynamic: string[],
  rendered: Obj,
  given: Obj,
  fileScope: FileScope | undefined,
  schemaScope: FileScope | undefined,
): void {
  for (const dotted of dynamic) {
    const path = dotted.split('.');
    const template = valueAt(rendered, path);
    if (typeof template !== 'string') continue;
    let names: readonly string[];
    try {
      names = undefinedConfigNames(template);
    } catch {
      // A template that does not parse is refused with the parser's reason when it is rendered.
      continue;
    }
    if (names.length === 0) continue;
    const fromFile = fileScope !== undefined && valueAt(given, path) === template;
    const scope = fromFile ? fileScope : schemaScope;
    scope?.warn(
      'CONFIG_TEMPLATE_UNDEFINED',
      `config value "${dotted}" is "${template}", which names '${names[0]}': st2 renders a pack config template with only st2kv in it, so this pack's actions and sensors fail until it reads e.g. {{ st2kv.system.name }}`,
      fromFile ? path : [...path.flatMap((k, i) => (i === 0 ? [k] : ['properties', k])), 'default'],
      { field: dotted },
    );
  }
}

async function readActions(draft: PackDraft, scan: PackScan): Promise<void> {
  const actionsDir = join(draft.dir, 'actions');
  for (const name of await listMetaFiles(actionsDir)) {
    const file = `actions/${name}`;
    const scope = new FileScope(scan, file);
    const data = (await readYamlFile(scope, join(actionsDir, name))) as Obj | undefined;
    if (!data) continue;
    if (!validateFile(scope, 'action', data) || !checkPackField(scope, data, draft.ref)) continue;
    const actionName = String(data.name);
    const ref = `${draft.ref}.${actionName}`;
    const runnerName = String(data.runner_type);
    const params = (data.parameters as Record<string, ParameterSpec> | undefined) ?? {};
    warnUnknownAttributes(scope, params, ['parameters']);
    if (data.notify && isObj(data.notify)) {
      for (const [k, v] of Object.entries(data.notify)) {
        if (isObj(v) && v.channels !== undefined)
          scope.warn(
            'DEPRECATED_FIELD',
            '"channels" is a deprecated alias of "routes"',
            ['notify', k, 'channels'],
            { key: true },
          );
      }
    }
    if (REMOVED_RUNNERS[runnerName] !== undefined) {
      scope.warn(
        'REMOVED_RUNNER',
        `runner "${runnerName}" was removed from StackStorm: ${REMOVED_RUNNERS[runnerName]}; action "${ref}" is not loaded`,
        ['runner_type'],
      );
      draft.skipped.push({ kind: 'action', ref, metadata_file: file, reason: REMOVED_RUNNERS[runnerName] });
      draft.skippedActionRefs.add(ref);
      continue;
    }
    const runner = getRunnerType(runnerName);
    if (!runner) {
      scope.error(
        'UNKNOWN_RUNNER',
        `unknown runner "${runnerName}" (known: ${Object.keys(RUNNER_TYPES).join(', ')})`,
        ['runner_type'],
      );
      continue;
    }
    // st2 registers it; Squall lists it too, and an execution of it fails naming the runner.
    if (!runner.supported) {
      scope.warn(
        'UNSUPPORTED_RUNNER',
        `runner "${runnerName}" is recognised but Squall does not run it; action "${ref}" is registered and its executions fail`,
        ['runner_type'],
      );
    }
    // Runner parameter overrides (st2 §1): only some attributes, and only when they differ.
    const merged: Record<string, ParameterSpec> = {};
    for (const [pname, pdef] of Object.entries(runner.runner_parameters)) merged[pname] = { ...pdef };
    for (const [pname, pdef] of Object.entries(params)) {
      const rdef = runner.runner_parameters[pname];
      if (rdef) {
        for (const [attr, value] of Object.entries(pdef)) {
          if (OVERRIDABLE_RUNNER_PARAMETER_ATTRIBUTES.includes(attr)) continue;
          if (!isDeepStrictEqual(rdef[attr], value)) {
            scope.error(
              'BAD_PARAMETER_OVERRIDE',
              `parameter "${pname}" overrides attribute "${attr}" of runner "${runnerName}" (runner: ${JSON.stringify(rdef[attr]) ?? 'unset'}, action: ${JSON.stringify(value)}); only ${OVERRIDABLE_RUNNER_PARAMETER_ATTRIBUTES.join(', ')} may be overridden`,
              ['parameters', pname, attr],
              { key: true },
            );
          }
        }
        merged[pname] = { ...rdef, ...pdef };
      } else {
        merged[pname] = { ...pdef };
      }
    }
    checkDefaults(scope, params, ['parameters'], true);
    const positions = new Map<number, string>();
    for (const [pname, pdef] of Object.entries(params)) {
      if (typeof pdef.position !== 'number') continue;
      const other = positions.get(pdef.position);
      if (other)
        scope.error(
          'DUPLICATE_POSITION',
          `parameters "${other}" and "${pname}" both have position ${pdef.position}`,
          ['parameters', pname, 'position'],
        );
      positions.set(pdef.position, pname);
    }
    const entryPoint = typeof data.entry_point === 'string' ? data.entry_point : '';
    let entryPointPath: string | undefined;
    if (ENTRY_POINT_RUNNERS.has(runnerName)) {
      if (!entryPoint) {
        scope.error(
          'MISSING_FIELD',
          `runner "${runnerName}" needs an entry_point (a file under actions/)`,
          [],
          { field: 'entry_point' },
        );
      } else {
        entryPointPath = resolve(actionsDir, entryPoint);
        if (!entryPointPath.startsWith(resolve(draft.dir) + '/')) {
          scope.error('BAD_ENTRY_POINT', `entry_point "${entryPoint}" points outside the pack`, [
            'entry_point',
          ]);
        } else if (!(await isFile(entryPointPath))) {
          // st2's actions registrar never looks for the file (libcloud's import_public_ssh_key
          // names one the pack lacks): the action registers and a run of it fails naming the file.
          scope.warn(
            'MISSING_ENTRY_POINT',
            `entry point file actions/${entryPoint} does not exist; the action is registered, as in st2, and a run of it fails until the file is there`,
            ['entry_point'],
          );
        } else if (runnerName === 'orquesta' || runnerName === 'action-chain') {
          await checkWorkflowFile(scan, draft, entryPointPath, runnerName, scope);
        } else if (runnerName === 'nodejs' && !/\.(m|c)?(js|ts)$/.test(entryPoint)) {
          scope.error(
            'BAD_ENTRY_POINT',
            `entry_point "${entryPoint}" of a nodejs action must be a .js, .mjs, .cjs or .ts module`,
            ['entry_point'],
          );
        } else if (runnerName === 'python-script' && !entryPoint.endsWith('.py')) {
          scope.error(
            'BAD_ENTRY_POINT',
            `entry_point "${entryPoint}" of a python-script action must be a .py module`,
            ['entry_point'],
          );
        }
      }
    }
    if (scope.errors > 0) continue;
    const record: ActionRecord = {
      name: actionName,
      pack: draft.ref,
      ref,
      uid: `action:${draft.ref}:${actionName}`,
      ...(data.description !== undefined ? { description: String(data.description) } : {}),
      metadata_file: file,
      pack_dir: draft.dir,
      enabled: data.enabled !== false,
      runner_type: runnerName,
      entry_point: entryPoint,
      ...(entryPointPath ? { entry_point_path: entryPointPath } : {}),
      parameters: params,
      merged_parameters: merged,
      ...(data.output_schema !== undefined ? { output_schema: data.output_schema as Obj } : {}),
      // Read by crash recovery: run again, not abandoned, when its process dies mid-run.
      ...(data.idempotent === true ? { idempotent: true } : {}),
      tags: (data.tags as ActionRecord['tags'] | undefined) ?? [],
      ...(data.notify !== undefined ? { notify: data.notify as Obj } : {}),
    };
    draft.actions.push(record);
    draft.scopes.set(record, scope);
  }
}

async function checkWorkflowFile(
  scan: PackScan,
  draft: PackDraft,
  absPath: string,
  runner: string,
  actionScope: FileScope,
): Promise<void> {
  const rel = absPath.slice(resolve(draft.dir).length + 1);
  const wf = new FileScope(scan, rel);
  const data = (await readYamlFile(wf, absPath)) as Obj | undefined;
  if (data) {
    if (runner === 'orquesta') {
      if (data.version === undefined)
        wf.error('MISSING_FIELD', 'orquesta workflow needs "version" (1.0)', [], { field: 'version' });
      else if (String(data.version) !== '1' && String(data.version) !== '1.0')
        wf.error('BAD_VALUE', `orquesta workflow version must be 1.0, not ${JSON.stringify(data.version)}`, [
          'version',
        ]);
      if (!isObj(data.tasks))
        wf.error(
          data.tasks === undefined ? 'MISSING_FIELD' : 'WRONG_TYPE',
          'orquesta workflow needs "tasks", a mapping of task name to task',
          data.tasks === undefined ? [] : ['tasks'],
          { field: 'tasks' },
        );
    } else {
      if (!Array.isArray(data.chain))
        wf.error(
          data.chain === undefined ? 'MISSING_FIELD' : 'WRONG_TYPE',
          'action chain needs "chain", a list of tasks',
          data.chain === undefined ? [] : ['chain'],
          { field: 'chain' },
        );
    }
  }
  if (wf.errors > 0)
    actionScope.error('BAD_WORKFLOW', `workflow file ${rel} is invalid (see its own problems)`, [
      'entry_point',
    ]);
}

async function readRules(draft: PackDraft, scan: PackScan): Promise<void> {
  const dir = join(draft.dir, 'rules');
  for (const name of await listMetaFiles(dir)) {
    const file = `rules/${name}`;
    const scope = new FileScope(scan, file);
    const data = (await readYamlFile(scope, join(dir, name))) as Obj | undefined;
    if (!data) continue;
    if (!validateFile(scope, 'rule', data) || !checkPackField(scope, data, draft.ref)) continue;
    const criteria = (data.criteria as RuleRecord['criteria'] | undefined) ?? {};
    for (const [key, c] of Object.entries(criteria)) {
      const op = String(c.type).toLowerCase();
      if (!CRITERIA_OPERATORS.includes(op)) {
        scope.error(
          'UNKNOWN_OPERATOR',
          `unknown criteria operator "${c.type}" (known: ${CRITERIA_OPERATORS.join(', ')})`,
          ['criteria', key, 'type'],
        );
      } else if (op === 'matchregex') {
        scope.warn(
          'DEPRECATED_OPERATOR',
          'operator "matchregex" is deprecated: use "regex" (unanchored) or anchor the pattern',
          ['criteria', key, 'type'],
        );
      }
      if (op === 'search') {
        if (c.condition === undefined || !SEARCH_CONDITIONS.includes(String(c.condition))) {
          scope.error(
            'BAD_VALUE',
            `operator "search" needs condition ${SEARCH_CONDITIONS.join(', ')} (got ${JSON.stringify(c.condition) ?? 'nothing'})`,
            c.condition === undefined ? ['criteria', key] : ['criteria', key, 'condition'],
            { field: `criteria.${key}.condition` },
          );
        }
        if (!isObj(c.pattern))
          scope.error(
            'WRONG_TYPE',
            'operator "search" needs pattern, a map of item.* criteria',
            ['criteria', key],
            { field: `criteria.${key}.pattern` },
          );
      }
      if (!key.startsWith('trigger.') && key !== 'trigger') {
        scope.warn(
          'CRITERIA_KEY_PREFIX',
          `criteria key "${key}" does not start with "trigger."; it is looked up in the payload as written`,
          ['criteria', key],
          { key: true },
        );
      }
    }
    if (scope.errors > 0) continue;
    const trigger = data.trigger as Obj;
    const action = data.action as Obj;
    const type = (data.type as Obj | undefined) ?? {};
    const record: RuleRecord = {
      name: String(data.name),
      pack: draft.ref,
      ref: `${draft.ref}.${String(data.name)}`,
      uid: `rule:${draft.ref}:${String(data.name)}`,
      ...(data.description !== undefined ? { description: String(data.description) } : {}),
      metadata_file: file,
      pack_dir: draft.dir,
      enabled: data.enabled === true,
      type: {
        ref: (type.ref as 'standard' | 'backstop' | undefined) ?? 'standard',
        parameters: (type.parameters as Obj | undefined) ?? {},
      },
      trigger: { type: String(trigger.type), parameters: (trigger.parameters as Obj | undefined) ?? {} },
      criteria,
      action: { ref: String(action.ref), parameters: (action.parameters as Obj | undefined) ?? {} },
      context: (data.context as Obj | undefined) ?? {},
      tags: (data.tags as RuleRecord['tags'] | undefined) ?? [],
    };
    if (data.enabled === undefined)
      scope.warn(
        'MISSING_ENABLED',
        'rule has no "enabled" field; it is registered disabled (st2 API default)',
        [],
        { field: 'enabled' },
      );
    draft.rules.push(record);
    draft.scopes.set(record, scope);
  }
}

const ALIAS_PARAM_RE = /\{\{\s*(\w+)\s*(?:=[^}]*)?\}\}/g;

async function readAliases(draft: PackDraft, scan: PackScan): Promise<void> {
  const dir = join(draft.dir, 'aliases');
  for (const name of await listMetaFiles(dir)) {
    const file = `aliases/${name}`;
    const scope = new FileScope(scan, file);
    const data = (await readYamlFile(scope, join(dir, name))) as Obj | undefined;
    if (!data) continue;
    if (!validateFile(scope, 'alias', data) || !checkPackField(scope, data, draft.ref)) continue;
    const record: AliasRecord = {
      name: String(data.name),
      pack: draft.ref,
      ref: `${draft.ref}.${String(data.name)}`,
      uid: `action_alias:${draft.ref}:${String(data.name)}`,
      ...(data.description !== undefined ? { description: String(data.description) } : {}),
      metadata_file: file,
      pack_dir: draft.dir,
      enabled: data.enabled !== false,
      action_ref: String(data.action_ref),
      formats: data.formats as AliasRecord['formats'],
      ...(data.ack !== undefined ? { ack: data.ack as AliasRecord['ack'] } : {}),
      ...(data.result !== undefined ? { result: data.result as AliasRecord['result'] } : {}),
      extra: (data.extra as Obj | undefined) ?? {},
      immutable_parameters: (data.immutable_parameters as Obj | undefined) ?? {},
      ...(data.channels !== undefined ? { channels: data.channels as string[] } : {}),
    };
    draft.aliases.push(record);
    draft.scopes.set(record, scope);
  }
}

async function readPolicies(draft: PackDraft, scan: PackScan): Promise<void> {
  const dir = join(draft.dir, 'policies');
  for (const name of await listMetaFiles(dir)) {
    const file = `policies/${name}`;
    const scope = new FileScope(scan, file);
    const data = (await readYamlFile(scope, join(dir, name))) as Obj | undefined;
    if (!data) continue;
    if (!validateFile(scope, 'policy', data) || !checkPackField(scope, data, draft.ref)) continue;
    const type = String(data.policy_type);
    const paramSchema = POLICY_TYPE_PARAMETER_SCHEMAS[type];
    if (!paramSchema) {
      scope.error(
        'UNKNOWN_POLICY_TYPE',
        `unknown policy type "${type}" (known: ${Object.keys(POLICY_TYPE_PARAMETER_SCHEMAS).join(', ')})`,
        ['policy_type'],
      );
      continue;
    }
    scope.violations(validateWith(compileSchema(paramSchema), data.parameters ?? {}, ['parameters']));
    if (scope.errors > 0) continue;
    const record: PolicyRecord = {
      name: String(data.name),
      pack: draft.ref,
      ref: `${draft.ref}.${String(data.name)}`,
      uid: `policy:${draft.ref}:${String(data.name)}`,
      ...(data.description !== undefined ? { description: String(data.description) } : {}),
      metadata_file: file,
      pack_dir: draft.dir,
      enabled: data.enabled !== false,
      resource_ref: String(data.resource_ref),
      policy_type: type as PolicyRecord['policy_type'],
      parameters: (data.parameters as Obj | undefined) ?? {},
    };
    draft.policies.push(record);
    draft.scopes.set(record, scope);
  }
}

function makeTriggerType(
  scope: FileScope,
  draft: PackDraft,
  data: Obj,
  file: string,
  source: string,
  path: PathSegment[],
): TriggerTypeRecord | undefined {
  const before = scope.errors;
  for (const key of ['parameters_schema', 'payload_schema'] as const) {
    if (data[key] === undefined) continue;
    try {
      compileSchema(toStandardSchema(data[key]) as Obj);
    } catch (err) {
      const message = `${key} is not a valid JSON schema: ${(err as Error).message}`;
      // st2's add_trigger_models checks only that payload_schema is an object (bitbucket's
      // `items: "string"` registers there); its payloads then fail validation when dispatched.
      if (key === 'payload_schema')
        scope.warn(
          'BAD_SCHEMA',
          `${message}; the trigger type is registered, as in st2, and a payload dispatched to it is refused until the schema is fixed`,
          [...path, key],
        );
      else scope.error('BAD_SCHEMA', message, [...path, key]);
    }
  }
  if (data.pack !== undefined && data.pack !== draft.ref) {
    scope.error(
      'PACK_MISMATCH',
      `the trigger type is in pack "${draft.ref}" but its field "pack" says "${String(data.pack)}"`,
      [...path, 'pack'],
    );
  }
  if (scope.errors > before) return undefined;
  const name = String(data.name);
  return {
    name,
    pack: draft.ref,
    ref: `${draft.ref}.${name}`,
    uid: `trigger_type:${draft.ref}:${name}`,
    ...(data.description !== undefined ? { description: String(data.description) } : {}),
    metadata_file: file,
    pack_dir: draft.dir,
    parameters_schema: (data.parameters_schema as Obj | undefined) ?? {},
    payload_schema: (data.payload_schema as Obj | undefined) ?? {},
    tags: (data.tags as TriggerTypeRecord['tags'] | undefined) ?? [],
    source,
  };
}

async function readTriggerTypes(draft: PackDraft, scan: PackScan): Promise<void> {
  const dir = join(draft.dir, 'triggers');
  for (const name of await listMetaFiles(dir)) {
    const file = `triggers/${name}`;
    const scope = new FileScope(scan, file);
    const data = (await readYamlFile(scope, join(dir, name))) as Obj | undefined;
    if (!data || !validateLenient(scope, 'trigger_type', data)) continue;
    const record = makeTriggerType(scope, draft, data, file, 'triggers', []);
    if (record) {
      draft.trigger_types.push(record);
      draft.scopes.set(record, scope);
    }
  }
}

async function readSensors(draft: PackDraft, scan: PackScan): Promise<void> {
  const dir = join(draft.dir, 'sensors');
  for (const name of await listMetaFiles(dir)) {
    const file = `sensors/${name}`;
    const scope = new FileScope(scan, file);
    const data = (await readYamlFile(scope, join(dir, name))) as Obj | undefined;
    if (!data) continue;
    if (!validateLenient(scope, 'sensor', data) || !checkPackField(scope, data, draft.ref)) continue;
    const entryPoint = String(data.entry_point);
    const entryPointPath = resolve(dir, entryPoint);
    const ext = extname(entryPoint);
    const language =
      ext === '.py'
        ? 'python'
        : /^\.(m|c)?js$/.test(ext)
          ? 'javascript'
          : /^\.(m|c)?ts$/.test(ext)
            ? 'typescript'
            : undefined;
    if (!language)
      scope.error(
        'BAD_ENTRY_POINT',
        `sensor entry_point "${entryPoint}" must be a Python (.py) or JS/TS module`,
        ['entry_point'],
      );
    else if (!entryPointPath.startsWith(resolve(draft.dir) + '/'))
      scope.error('BAD_ENTRY_POINT', `entry_point "${entryPoint}" points outside the pack`, ['entry_point']);
    else if (!(await isFile(entryPointPath)))
      scope.error('MISSING_ENTRY_POINT', `entry point file sensors/${entryPoint} does not exist`, [
        'entry_point',
      ]);
    const className = String(data.class_name);
    const sensorRef = `${draft.ref}.${className}`;
    const triggerTypes: TriggerTypeRecord[] = [];
    ((data.trigger_types as Obj[] | undefined) ?? []).forEach((tt, i) => {
      const rec = makeTriggerType(scope, draft, tt, file, sensorRef, ['trigger_types', i]);
      if (rec) triggerTypes.push(rec);
    });
    if (scope.errors > 0) continue;
    const record: SensorRecord = {
      name: typeof data.name === 'string' ? data.name : className,
      pack: draft.ref,
      ref: sensorRef,
      uid: `sensor_type:${draft.ref}:${className}`,
      ...(data.description !== undefined ? { description: String(data.description) } : {}),
      metadata_file: file,
      pack_dir: draft.dir,
      class_name: className,
      entry_point: entryPoint,
      entry_point_path: entryPointPath,
      language: language!,
      enabled: data.enabled !== false,
      ...(typeof data.poll_interval === 'number' ? { poll_interval: data.poll_interval } : {}),
      trigger_types: triggerTypes.map((t) => t.ref),
    };
    draft.sensors.push(record);
    draft.scopes.set(record, scope);
    for (const t of triggerTypes) {
      draft.trigger_types.push(t);
      draft.scopes.set(t, scope);
    }
  }
}

async function scanPack(
  dir: string,
  options: LoadOptions,
  problems: ContentProblem[],
): Promise<PackDraft | undefined> {
  const absDir = resolve(dir);
  const meta = await readPackMetadata(absDir, problems);
  if (!meta || !meta.ok) return undefined;
  const scan: PackScan = { ref: meta.record.ref, dir: absDir, problems };
  const draft: PackDraft = {
    ref: meta.record.ref,
    dir: absDir,
    pack: meta.record,
    actions: [],
    rules: [],
    aliases: [],
    policies: [],
    sensors: [],
    trigger_types: [],
    skipped: [],
    problems: [],
    skippedActionRefs: new Set(),
    scopes: new Map(),
  };
  await readConfig(draft, scan, options);
  await readActions(draft, scan);
  await readTriggerTypes(draft, scan);
  await readSensors(draft, scan);
  await readRules(draft, scan);
  await readAliases(draft, scan);
  await readPolicies(draft, scan);
  return draft;
}

// ---------------------------------------------------------------------------------------------
// Phase 2: cross-checks over every pack loaded together.

type Kind = 'actions' | 'rules' | 'aliases' | 'policies' | 'sensors' | 'trigger_types';
const KIND_LABEL: Record<Kind, string> = {
  actions: 'action',
  rules: 'rule',
  aliases: 'alias',
  policies: 'policy',
  sensors: 'sensor',
  trigger_types: 'trigger type',
};

function crossCheck(drafts: PackDraft[], options: LoadOptions): void {
  // Duplicate refs: across packs the first one read wins; inside one pack the last file wins.
  for (const kind of Object.keys(KIND_LABEL) as Kind[]) {
    const seen = new Map<string, { file: string; pack: string; rec?: object }>();
    if (kind === 'actions')
      for (const d of drafts)
        for (const s of d.skipped) seen.set(s.ref, { file: s.metadata_file, pack: d.ref });
    for (const d of drafts) {
      const list = d[kind] as Array<{ ref: string; metadata_file: string }>;
      const replaced = new Set<object>();
      d[kind] = list.filter((rec) => {
        const first = seen.get(rec.ref);
        if (!first) {
          seen.set(rec.ref, { file: rec.metadata_file, pack: d.ref, rec });
          return true;
        }
        const scope = d.scopes.get(rec)!;
        const where = first.pack === d.ref ? first.file : `${first.pack}/${first.file}`;
        const nameField = kind === 'sensors' ? 'class_name' : 'name';
        const path: PathSegment[] =
          kind === 'trigger_types' && rec.metadata_file.startsWith('sensors/') ? [] : [nameField];
        // st2's registrars read a pack's files in sorted order and update the record by ref, so
        // of two files of one pack naming the same action, rule, alias, policy or sensor the later
        // one defines it (cisco_ise's copy-pasted get_by_id.yml names update_by_id).
        if (kind !== 'trigger_types' && first.pack === d.ref) {
          if (first.rec) replaced.add(first.rec);
          seen.set(rec.ref, { file: rec.metadata_file, pack: d.ref, rec });
          scope.warn(
            'DUPLICATE_REF',
            `${KIND_LABEL[kind]} "${rec.ref}" is also defined in ${where}; as in st2, the file read last (this one) defines it`,
            path,
            { field: nameField },
          );
          return true;
        }
        // Two sensors of one pack declaring the same trigger type (newrelic's legacy and current
        // app sensors): st2's create_or_update_trigger_type_db updates the one record by ref.
        if (
          kind === 'trigger_types' &&
          first.pack === d.ref &&
          first.file.startsWith('sensors/') &&
          rec.metadata_file.startsWith('sensors/')
        ) {
          scope.warn(
            'DUPLICATE_REF',
            `${KIND_LABEL[kind]} "${rec.ref}" is also declared in ${where}; it is registered once, as in st2, with that file's definition`,
            path,
            { field: 'trigger_types' },
          );
          return false;
        }
        scope.error(
          'DUPLICATE_REF',
          `${KIND_LABEL[kind]} "${rec.ref}" is already defined in ${where}`,
          path,
          { field: kind === 'trigger_types' && path.length === 0 ? 'trigger_types' : nameField },
        );
        return false;
      }) as never;
      if (replaced.size > 0)
        d[kind] = (d[kind] as Array<{ ref: string }>).filter((rec) => !replaced.has(rec)) as never;
    }
  }

  const actions = new Map<string, ActionRecord>();
  for (const d of drafts) for (const a of d.actions) actions.set(a.ref, a);
  const skippedActions = new Set<string>();
  for (const d of drafts) for (const r of d.skippedActionRefs) skippedActions.add(r);
  const externalActions = options.known?.actions ?? new Set<string>();
  const triggerTypes = new Map<string, Record<string, unknown>>();
  for (const t of SYSTEM_TRIGGER_TYPES) triggerTypes.set(t.ref, t.parameters_schema);
  for (const d of drafts) for (const t of d.trigger_types) triggerTypes.set(t.ref, t.parameters_schema);
  const externalTriggers = options.known?.triggerTypes ?? new Set<string>();

  /** Checks an action ref; returns the action when it is loaded here. false = unknown (reported). */
  const checkActionRef = (
    scope: FileScope,
    ref: string,
    path: PathSegment[],
    what: string,
  ): ActionRecord | undefined | false => {
    const a = actions.get(ref);
    if (a) return a;
    if (skippedActions.has(ref)) {
      scope.warn(
        'ACTION_NOT_RUNNABLE',
        `${what} names action "${ref}", whose runner Squall does not run`,
        path,
      );
      return undefined;
    }
    if (externalActions.has(ref)) return undefined;
    // st2 registers a rule whatever its action (RuleAPI.to_model never looks it up): the rule's
    // enforcement fails when it fires. Its aliases registrar only logs "Action … not found in DB"
    // and registers the alias (opsgenie's send_heartbeat names an action the pack lacks); its
    // policies registrar looks up only the policy type, so a policy applies once the action exists.
    if (what === 'rule') {
      scope.warn(
        'UNKNOWN_ACTION',
        `rule names action "${ref}", which is not installed; the rule is registered and its enforcements fail until the action is installed`,
        path,
      );
      return undefined;
    }
    if (what === 'alias') {
      scope.warn(
        'UNKNOWN_ACTION',
        `alias names action "${ref}", which is not installed; the alias is registered, as in st2, and a command matching it fails until the action is installed`,
        path,
      );
      return undefined;
    }
    if (what === 'policy') {
      scope.warn(
        'UNKNOWN_ACTION',
        `policy names action "${ref}", which is not installed; the policy is registered, as in st2, and applies once the action is installed`,
        path,
      );
      return undefined;
    }
    scope.error('UNKNOWN_ACTION', `${what} names unknown action "${ref}"`, path);
    return false;
  };

  for (const d of drafts) {
    d.rules = d.rules.filter((rule) => {
      const scope = d.scopes.get(rule)!;
      const before = scope.errors;
      const ttRef = rule.trigger.type;
      if (triggerTypes.has(ttRef)) {
        const schema = triggerTypes.get(ttRef)!;
        if (isObj(schema) && Object.keys(schema).length > 0) {
          try {
            const validate = compileSchema(toStandardSchema(schema) as Obj);
            for (const v of validateWith(validate, rule.trigger.parameters, ['trigger', 'parameters'])) {
              if (
                v.code !== 'MISSING_FIELD' &&
                v.code !== 'UNKNOWN_FIELD' &&
                isTemplate(valueAt({ trigger: { parameters: rule.trigger.parameters } }, v.path))
              )
                continue;
              scope.report(
                'error',
                'BAD_TRIGGER_PARAMETERS',
                `trigger parameters do not match trigger type "${ttRef}": ${v.message}`,
                v.path.length > 2 ? v.path : ['trigger', 'parameters'],
                { key: v.atKey, field: v.field },
              );
            }
          } catch {
            // the trigger type's own schema problem was reported where it is defined
          }
        }
      }
      // A timer's parameters say when it fires: checked as the timers engine will read them.
      if (scope.errors === before && isTimerType(ttRef)) {
        const problem = timerProblem(ttRef, (rule.trigger.parameters ?? {}) as Obj);
        if (problem)
          scope.error('BAD_TRIGGER_PARAMETERS', problem.message, [
            'trigger',
            'parameters',
            ...(problem.field ? [problem.field] : []),
          ]);
      }
      if (!triggerTypes.has(ttRef) && !externalTriggers.has(ttRef)) {
        const system = getSystemTriggerType(ttRef.startsWith('st2.') ? `core.${ttRef}` : ttRef);
        scope.error(
          'UNKNOWN_TRIGGER_TYPE',
          `unknown trigger type "${ttRef}"` + (system ? ` (did you mean "${system.ref}"?)` : ''),
          ['trigger', 'type'],
        );
      }
      const action = checkActionRef(scope, rule.action.ref, ['action', 'ref'], 'rule');
      // Like st2, a rule's action parameters are checked when it fires, not at registration.
      if (action)
        checkActionParameters(scope, action, rule.action.parameters, ['action', 'parameters'], 'warning');
      return scope.errors === before;
    });

    d.aliases = d.aliases.filter((alias) => {
      const scope = d.scopes.get(alias)!;
      const before = scope.errors;
      const action = checkActionRef(scope, alias.action_ref, ['action_ref'], 'alias');
      // st2's aliases registrar never compares an alias's parameters with its action's (vyatta's
      // cfg_ip_route names a misspelt one): the alias is registered, and its action's parameter
      // schema refuses the unknown parameter when a command gives it.
      if (action) {
        alias.formats.forEach((f, i) => {
          const reps =
            typeof f === 'string'
              ? [{ s: f, path: ['formats', i] as PathSegment[] }]
              : f.representation.map((s, j) => ({
                  s,
                  path: ['formats', i, 'representation', j] as PathSegment[],
                }));
          for (const { s, path } of reps) {
            for (const m of s.matchAll(ALIAS_PARAM_RE)) {
              if (!(m[1] in action.merged_parameters)) {
                scope.warn(
                  'UNKNOWN_ALIAS_PARAMETER',
                  `format "${s}" names parameter "${m[1]}", which action "${action.ref}" does not have (has: ${Object.keys(action.merged_parameters).join(', ')}); the alias is registered, as in st2, and a command giving "${m[1]}" is refused`,
                  path,
                );
              }
            }
          }
        });
        for (const p of Object.keys(alias.immutable_parameters)) {
          if (!(p in action.merged_parameters))
            scope.warn(
              'UNKNOWN_ALIAS_PARAMETER',
              `immutable parameter "${p}" is not a parameter of action "${action.ref}"; the alias is registered, as in st2, and each command matching it is refused`,
              ['immutable_parameters', p],
              { key: true },
            );
        }
      }
      return scope.errors === before;
    });

    d.policies = d.policies.filter((policy) => {
      const scope = d.scopes.get(policy)!;
      const before = scope.errors;
      const action = checkActionRef(scope, policy.resource_ref, ['resource_ref'], 'policy');
      if (action && policy.policy_type === 'action.concurrency.attr') {
        ((policy.parameters.attributes as string[] | undefined) ?? []).forEach((attr, i) => {
          if (!(attr in action.merged_parameters))
            scope.error(
              'UNKNOWN_ACTION_PARAMETER',
              `attribute "${attr}" is not a parameter of action "${action.ref}"`,
              ['parameters', 'attributes', i],
            );
        });
      }
      return scope.errors === before;
    });
  }
}

/** Rule action parameters: names must exist; required ones without default must be given. */
function checkActionParameters(
  scope: FileScope,
  action: ActionRecord,
  given: Obj,
  path: PathSegment[],
  severity: 'error' | 'warning' = 'error',
): void {
  for (const name of Object.keys(given)) {
    if (!(name in action.merged_parameters)) {
      scope.report(
        severity,
        'UNKNOWN_ACTION_PARAMETER',
        `action "${action.ref}" has no parameter "${name}" (has: ${Object.keys(action.merged_parameters).join(', ')})`,
        [...path, name],
        { key: true },
      );
    } else if (action.merged_parameters[name].immutable === true) {
      scope.report(
        severity,
        'IMMUTABLE_PARAMETER',
        `parameter "${name}" of action "${action.ref}" is immutable and cannot be set`,
        [...path, name],
        { key: true },
      );
    }
  }
  for (const [name, def] of Object.entries(action.merged_parameters)) {
    if (def.required === true && def.default === undefined && !(name in given)) {
      scope.report(
        severity,
        'MISSING_ACTION_PARAMETER',
        `action "${action.ref}" requires parameter "${name}"`,
        path.slice(0, -1).concat(path.length ? [path[path.length - 1]] : []),
        { field: [...path.map(String), name].join('.') },
      );
    }
  }
}

function finish(draft: PackDraft, problems: ContentProblem[]): LoadedPack {
  const { skippedActionRefs: _s, scopes: _sc, ...pack } = draft;
  pack.problems = problems.filter((p) => p.pack_dir === draft.dir);
  return pack;
}

/** Loads several packs together so refs can be cross-checked between them. Never throws for content problems. */
export async function loadPacks(dirs: string[], options: LoadOptions = {}): Promise<LoadedPacks> {
  const problems: ContentProblem[] = [];
  const drafts: PackDraft[] = [];
  const byRef = new Map<string, string>();
  for (const dir of [...new Set(dirs.map((d) => resolve(d)))]) {
    const draft = await scanPack(dir, options, problems);
    if (!draft) continue;
    const first = byRef.get(draft.ref);
    if (first) {
      problems.push({
        severity: 'error',
        code: 'DUPLICATE_PACK',
        pack: draft.ref,
        file: 'pack.yaml',
        field: 'ref',
        message: `pack "${draft.ref}" is already loaded from ${first}; this copy is skipped`,
        pack_dir: draft.dir,
      });
      for (let i = problems.length - 2; i >= 0; i--)
        if (problems[i].pack_dir === draft.dir) problems.splice(i, 1);
      continue;
    }
    byRef.set(draft.ref, draft.dir);
    drafts.push(draft);
  }
  crossCheck(drafts, options);
  return { packs: drafts.map((d) => finish(d, problems)), problems };
}

/** Loads one pack; refs are checked against it, the system trigger types and `options.known`. */
export async function loadPack(dir: string, options: LoadOptions = {}): Promise<LoadedPack> {
  const result = await loadPacks([dir], options);
  const pack = result.packs[0];
  if (!pack) {
    throw new SquallError(
      'PACK_INVALID',
      `pack at ${dir} cannot be loaded: ${result.problems
        .filter((p) => p.severity === 'error')
        .map((p) => p.message)
        .join('; ')}`,
      { dir, problems: result.problems },
    );
  }
  return pack;
}
