/**
 * Action parameter rendering and validation (st2-reference.md §2, §2.1; st2common/util/param.py).
 *
 * Values and defaults are Jinja templates rendered against the execution context
 * (`action_context`, `config_context`, `st2kv`, `trigger`, ...) and against each other: a
 * parameter may reference another by name, so they are rendered in dependency order and a cycle
 * is an error ("Cyclic dependency found"). Rendered strings are then cast to the declared type.
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { SquallError } from '../errors.js';
import type { ParameterSpec } from '../runners/index.js';
import type { ActionRecord } from '../store/index.js';
import {
  findTemplateVariables,
  hasJinja,
  renderValue,
  type JinjaOptions,
} from '../workflows/expressions/jinja/index.js';
import { castParameters } from './casting.js';
import { secretPaths, secretValuesAt, underSecretPath } from '../secret-paths.js';
import { redactDeep, redactText, withoutSecrets } from './secrets.js';

export { castParameters, castParameter } from './casting.js';

/** Names of templates' variables found in a (possibly nested) value. */
function referencedNames(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') {
    if (hasJinja(value)) for (const n of findTemplateVariables(value)) out.add(n);
  } else if (Array.isArray(value)) {
    for (const v of value) referencedNames(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) referencedNames(v, out);
  }
}

/** Depth-first topological order; returns the names on a cycle when there is one. */
function orderByDependencies(
  names: string[],
  deps: Map<string, Set<string>>,
): { order: string[]; cycle?: string[] } {
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const s = state.get(name);
    if (s === 'done') return undefined;
    if (s === 'visiting') return stack.slice(stack.indexOf(name));
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of [...(deps.get(name) ?? [])].sort()) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    order.push(name);
    return undefined;
  };
  for (const name of names) {
    const cycle = visit(name);
    if (cycle) return { order, cycle };
  }
  return { order };
}

/** What one execution request may cost; going over any of them is a 400 PARAM_LIMIT. */
export const PARAMETER_LIMITS = {
  /** Parameters given in one request. */
  maxParameters: 256,
  /** Characters of one template (a string value holding Jinja). */
  maxTemplateChars: 64 * 1024,
  /** Time rendering all of a request's templates may take. */
  renderMs: 5_000,
} as const;

function limitError(message: string, context: Record<string, unknown>): SquallError {
  return new SquallError('PARAM_LIMIT', message, context, 400);
}

/** Rejects what costs too much to render before any of it is rendered. */
function checkRequestShape(specs: Record<string, ParameterSpec>, provided: Record<string, unknown>): void {
  const names = Object.keys(provided).filter((n) => provided[n] !== undefined);
  if (names.length > PARAMETER_LIMITS.maxParameters) {
    throw limitError(
      `${names.length} parameters were given; at most ${PARAMETER_LIMITS.maxParameters} are accepted in one request`,
      { limit: 'maxParameters', max: PARAMETER_LIMITS.maxParameters, given: names.length },
    );
  }
  // Unknown names are refused here, before rendering, as validateParameters would refuse them after.
  const unknown = names.filter((n) => !Object.prototype.hasOwnProperty.call(specs, n));
  if (unknown.length) {
    const more = unknown.length > 1 ? ` (and ${unknown.length - 1} more unknown)` : '';
    throw new SquallError(
      'PARAM_UNKNOWN',
      `Additional properties are not allowed ('${unknown[0]}' was unexpected): "${unknown[0]}" is not a parameter of this action${more}`,
      { parameter: unknown[0], unknown: unknown.slice(0, 20), count: unknown.length },
    );
  }
  for (const name of names) {
    const longest = longestTemplate(provided[name]);
    if (longest > PARAMETER_LIMITS.maxTemplateChars) {
      throw limitError(
        `Parameter "${name}" holds a template of ${longest} characters; templates may have at most ${PARAMETER_LIMITS.maxTemplateChars}`,
        {
          limit: 'maxTemplateChars',
          max: PARAMETER_LIMITS.maxTemplateChars,
          parameter: name,
          given: longest,
        },
      );
    }
  }
}

function longestTemplate(value: unknown): number {
  if (typeof value === 'string') return value.length > 2 && hasJinja(value) ? value.length : 0;
  if (value !== null && typeof value === 'object')
    return Math.max(0, ...Object.values(value).map(longestTemplate));
  return 0;
}

/**
 * Applies defaults, rejects unknown parameters and overrides of immutable ones, renders Jinja in
 * values and defaults in dependency order, casts to declared types and checks required
 * parameters. Each template sees the context plus only the parameters it references, so the work
 * grows linearly with the number of parameters. Throws SquallError PARAM_LIMIT, PARAM_UNKNOWN,
 * PARAM_IMMUTABLE, PARAM_CYCLE, PARAM_RENDER, PARAM_TYPE or PARAM_REQUIRED.
 */
export function renderParameters(
  specs: Record<string, ParameterSpec>,
  provided: Record<string, unknown>,
  context: Record<string, unknown>,
  options: JinjaOptions = {},
): Record<string, unknown> {
  const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
  checkRequestShape(specs, provided);
  const overridden = Object.keys(provided).filter(
    (n) => has(specs, n) && specs[n].immutable && provided[n] !== undefined,
  );
  if (overridden.length) {
    throw new SquallError(
      'PARAM_IMMUTABLE',
      `Override of immutable parameter(s) ${overridden.map((n) => `"${n}"`).join(', ')} is unsupported: the action fixes ${overridden.length > 1 ? 'their values' : 'its value'}`,
      { parameters: overridden },
    );
  }

  const raw: Record<string, unknown> = {};
  const fromDefault = new Set<string>();
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.default !== undefined) {
      raw[name] = spec.default;
      fromDefault.add(name);
    }
  }
  for (const [name, value] of Object.entries(provided)) {
    if (value === undefined) continue;
    raw[name] = value;
    fromDefault.delete(name);
  }

  const names = Object.keys(raw);
  const deps = new Map<string, Set<string>>();
  for (const name of names) {
    const refs = new Set<string>();
    try {
      referencedNames(raw[name], refs);
    } catch (err) {
      throw renderError(name, err, fromDefault.has(name));
    }
    // Only references to other parameters order the rendering; the rest is context.
    deps.set(name, new Set([...refs].filter((r) => has(raw, r))));
  }
  const { order, cycle } = orderByDependencies(names, deps);
  if (cycle) {
    throw new SquallError(
      'PARAM_CYCLE',
      `Cyclic dependency found in the following variables: ${cycle.join(', ')}. Likely the variable is referenced from its own template, directly or through the others.`,
      { parameters: cycle },
    );
  }

  const rendered: Record<string, unknown> = {};
  const deadline = Date.now() + PARAMETER_LIMITS.renderMs;
  for (const name of order) {
    const scope = (): Record<string, unknown> => {
      const s: Record<string, unknown> = { ...context };
      for (const dep of deps.get(name) ?? []) s[dep] = rendered[dep];
      return s;
    };
    try {
      rendered[name] = renderValue(raw[name], scope, { ...options, source: `parameter "${name}"`, deadline });
    } catch (err) {
      if (Date.now() > deadline) {
        throw limitError(
          `Rendering the parameters took longer than ${PARAMETER_LIMITS.renderMs / 1000} s and was stopped at parameter "${name}"`,
          { limit: 'renderMs', max: PARAMETER_LIMITS.renderMs, parameter: name },
        );
      }
      // A filter's error can quote its input: a secret parameter the template reads (its reason
      // went to a rule enforcement's failure_reason, read by every observer).
      throw renderError(name, err, fromDefault.has(name), secretValuesAt(rendered, secretPaths(specs)));
    }
  }

  const ordered: Record<string, unknown> = {};
  for (const name of names) ordered[name] = rendered[name];
  let cast: Record<string, unknown>;
  try {
    cast = castParameters(ordered, specs);
  } catch (err) {
    // A cast error quotes the value it refused: a secret parameter's value another one holds too.
    if (!(err instanceof SquallError)) throw err;
    throw withoutSecrets(err, secretValuesAt(ordered, secretPaths(specs)));
  }

  const missing = Object.entries(specs)
    .filter(([name, spec]) => needsValue(spec) && (cast[name] === undefined || cast[name] === null))
    .map(([name]) => name);
  if (missing.length) {
    throw new SquallError(
      'PARAM_REQUIRED',
      `${missing.map((n) => `'${n}'`).join(', ')} ${missing.length > 1 ? 'are required properties' : 'is a required property'}`,
      {
        parameters: missing,
      },
    );
  }
  return cast;
}

/** Whether a default is a Jinja template, or a list or object holding one (st2 is_jinja_expression). */
function isTemplate(value: unknown): boolean {
  if (typeof value === 'string') return hasJinja(value);
  if (Array.isArray(value)) return value.some(isTemplate);
  if (value !== null && typeof value === 'object') return Object.values(value).some(isTemplate);
  return false;
}

/** An execution's parameters as stored (`live`) and what is kept aside for its run (`held`). */
export interface LiveParameters {
  /**
   * What the execution shows as its `parameters`, as st2 stores them (st2common/util/param.py,
   * render_live_params → _cast_params_from): those the caller gave, and the defaults that are Jinja
   * templates, rendered. Plain defaults, the runner's included, are applied when it runs.
   */
  live: Record<string, unknown>;
  /**
   * Rendered template defaults of immutable parameters: st2 leaves them out of `parameters` and
   * renders them at dispatch; Squall renders them with the others and keeps them here for the run.
   */
  held: Record<string, unknown>;
}

/**
 * Splits `all` (renderParameters' result for `provided`) into what the execution stores and what
 * is kept aside for its run; finalParameters puts the whole set back together.
 */
export function liveParameters(
  specs: Record<string, ParameterSpec>,
  provided: Record<string, unknown>,
  all: Record<string, unknown>,
): LiveParameters {
  const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
  const live: Record<string, unknown> = {};
  const held: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(all)) {
    const spec = has(specs, name) ? specs[name] : undefined;
    if (has(provided, name) && provided[name] !== undefined) live[name] = value;
    else if (!spec || !isTemplate(spec.default)) continue;
    else if (spec.immutable) held[name] = value;
    else live[name] = value;
  }
  return { live, held };
}

/**
 * An action's parameter specs: its merged_parameters (its runner's folded in, as registered), or
 * its own parameters when it has none merged; none for an action that is not there.
 */
export function actionSpecs(action: ActionRecord | null | undefined): Record<string, ParameterSpec> {
  return (action?.merged_parameters ?? action?.parameters ?? {}) as Record<string, ParameterSpec>;
}

/**
 * Takes out of `params` (in place) the action's immutable parameters before a re-run asks for a new
 * execution: the action filled them in, not the caller, and passing them back is refused
 * (renderParameters).
 */
export function dropImmutableParameters(
  params: Record<string, unknown>,
  action: ActionRecord | null | undefined,
): void {
  for (const [name, spec] of Object.entries(actionSpecs(action))) if (spec.immutable) delete params[name];
}

/**
 * The parameters a run receives: every default applied, in the order renderParameters gave them
 * (defaults in the specs' order, then the other given parameters), so a runner sees exactly what
 * it saw when every default was stored. Plain defaults need no rendering: they are only cast.
 */
export function finalParameters(
  specs: Record<string, ParameterSpec>,
  live: Record<string, unknown>,
  held: Record<string, unknown> = {},
): Record<string, unknown> {
  const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.default === undefined) continue;
    if (has(live, name)) out[name] = live[name];
    else if (has(held, name)) out[name] = held[name];
    // A template default is stored once rendered (or held): absent, it rendered to nothing.
    else if (!isTemplate(spec.default))
      out[name] = castParameters({ [name]: renderValue(spec.default, {}) }, specs)[name];
  }
  for (const [name, value] of Object.entries(live)) if (!has(out, name)) out[name] = value;
  return out;
}

/**
 * Whether a parameter must have a value other than None. st2 (schema.validate with
 * allow_default_none, used when an execution is requested) lets a parameter whose default is null
 * be None even when it is required: packs' get_pack_dependencies declares packs_status so.
 */
function needsValue(spec: ParameterSpec): boolean {
  return spec.required === true && spec.default !== null;
}

function renderError(name: string, err: unknown, isDefault: boolean, secrets: string[] = []): SquallError {
  const reason = redactText(err instanceof Error ? err.message : String(err), secrets);
  return new SquallError(
    'PARAM_RENDER',
    `Failed to render parameter "${name}"${isDefault ? ' (its default)' : ''}: ${reason}`,
    {
      parameter: name,
      ...(err instanceof SquallError ? { cause: redactDeep(err.toJSON(), secrets) } : {}),
    },
    err instanceof SquallError && err.status === 403 ? 403 : 400,
  );
}

/* ------------------------------------------------------------------ validation */

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  strict: false,
  validateFormats: true,
  coerceTypes: false,
  useDefaults: false,
});
addFormats(ajv);

const ST2_ONLY = new Set(['position', 'immutable', 'secret', 'required', 'default']);

/**
 * Converts st2's draft-4 property schemas to what ajv reads: `required: true` on a property
 * becomes the parent's `required` list; st2-only keywords are dropped.
 */
function toJsonSchema(spec: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (ST2_ONLY.has(k) && !(k === 'required' && Array.isArray(v))) continue;
    if (k === 'properties' && v && typeof v === 'object') {
      const props: Record<string, unknown> = {};
      const required: string[] = Array.isArray(spec.required) ? [...(spec.required as string[])] : [];
      for (const [pk, pv] of Object.entries(v as Record<string, unknown>)) {
        if (pv && typeof pv === 'object') {
          props[pk] = toJsonSchema(pv as Record<string, unknown>);
          if ((pv as Record<string, unknown>).required === true) required.push(pk);
        } else props[pk] = pv;
      }
      out.properties = props;
      if (required.length) out.required = [...new Set(required)];
    } else if (k === 'items' && v && typeof v === 'object') {
      out.items = Array.isArray(v)
        ? v.map((x) => toJsonSchema(x as Record<string, unknown>))
        : toJsonSchema(v as Record<string, unknown>);
    } else if (k === 'additionalProperties' && v && typeof v === 'object') {
      out.additionalProperties = toJsonSchema(v as Record<string, unknown>);
    } else out[k] = v;
  }
  return out;
}

export interface ParameterIssue {
  parameter: string;
  message: string;
  keyword: string;
}

function issueOf(err: ErrorObject, specs: Record<string, ParameterSpec>): ParameterIssue {
  const path = err.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let parameter = path[0] ?? '';
  if (err.keyword === 'required' && !parameter)
    parameter = String((err.params as { missingProperty?: string }).missingProperty ?? '');
  if (err.keyword === 'additionalProperties' && !parameter)
    parameter = String((err.params as { additionalProperty?: string }).additionalProperty ?? '');
  const where =
    path.length > 1 ? `Parameter "${path[0]}" at ${path.slice(1).join('.')}` : `Parameter "${parameter}"`;
  let message: string;
  switch (err.keyword) {
    case 'additionalProperties': {
      const extra = (err.params as { additionalProperty: string }).additionalProperty;
      message =
        path.length === 0
          ? `Additional properties are not allowed ('${extra}' was unexpected): "${extra}" is not a parameter of this action`
          : `${where}: additional properties are not allowed ('${extra}' was unexpected)`;
      break;
    }
    case 'required': {
      const missing = (err.params as { missingProperty: string }).missingProperty;
      message =
        path.length === 0
          ? `'${missing}' is a required property`
          : `${where}: '${missing}' is a required property`;
      break;
    }
    case 'type':
      // A value inside a secret object or list, or at a secret key inside a plain one, is secret too.
      message = `${where}: ${underSecretPath(secretPaths(specs), path) ? 'the value' : JSON.stringify(valueAt(err))} is not of type '${(err.params as { type: string }).type}'`;
      break;
    case 'enum':
      message = `${where}: value is not one of ${JSON.stringify((err.params as { allowedValues: unknown[] }).allowedValues)}`;
      break;
    default:
      message = `${where}: ${err.message ?? 'is invalid'}`;
  }
  return { parameter, message, keyword: err.keyword };
}

function valueAt(err: ErrorObject): unknown {
  return (err as ErrorObject & { data?: unknown }).data;
}

type Validator = ReturnType<Ajv['compile']>;

/**
 * Compiled validators by the JSON of their specs. Keyed by object identity before, the cache
 * never hit (each request decodes its own copy of the action), so every execution compiled a
 * schema — 9% of the CPU of a core.noop webhook — and ajv kept each one for good. Bounded: the
 * oldest is dropped (from ajv too) beyond MAX_COMPILED distinct specs.
 */
const compiledSchemas = new Map<string, { validate: Validator; schema: object }>();
const MAX_COMPILED = 500;

function compiledFor(specs: Record<string, ParameterSpec>): Validator {
  const key = JSON.stringify(specs);
  const hit = compiledSchemas.get(key);
  if (hit) {
    compiledSchemas.delete(key); // most recently used last
    compiledSchemas.set(key, hit);
    return hit.validate;
  }
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    properties[name] = toJsonSchema(spec as Record<string, unknown>);
    if (needsValue(spec)) required.push(name);
  }
  const schema = { type: 'object', properties, required, additionalProperties: false, $async: false };
  let validate: Validator;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    throw new SquallError(
      'PARAM_SCHEMA',
      `The parameter specs are not a valid JSON schema: ${(err as Error).message}`,
      {},
    );
  }
  compiledSchemas.set(key, { validate, schema });
  if (compiledSchemas.size > MAX_COMPILED) {
    const [oldestKey, oldest] = compiledSchemas.entries().next().value!;
    compiledSchemas.delete(oldestKey);
    ajv.removeSchema(oldest.schema);
  }
  return validate;
}

/**
 * Validates parameter values against their specs: types, enums, formats and the other JSON-schema
 * keywords, required parameters, and no unknown parameters. Null values of optional parameters,
 * and of required ones whose default is null, pass (st2 carries "no value" as None). Throws SquallError PARAM_UNKNOWN, PARAM_REQUIRED or
 * PARAM_INVALID; `context.errors` lists every issue with the parameter it concerns.
 */
export function validateParameters(
  values: Record<string, unknown>,
  specs: Record<string, ParameterSpec>,
): void {
  const validate = compiledFor(specs);
  const present: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (value === null && Object.prototype.hasOwnProperty.call(specs, name) && !needsValue(specs[name]))
      continue;
    present[name] = value;
  }
  if (validate(present)) return;
  const errors = (validate.errors ?? []).map((e) => issueOf(e, specs));
  const first =
    errors.find((e) => e.keyword === 'additionalProperties') ??
    errors.find((e) => e.keyword === 'required') ??
    errors[0];
  const code =
    first.keyword === 'additionalProperties' && !first.message.startsWith('Parameter')
      ? 'PARAM_UNKNOWN'
      : first.keyword === 'required' && !first.message.startsWith('Parameter')
        ? 'PARAM_REQUIRED'
        : 'PARAM_INVALID';
  const message =
    errors.length > 1
      ? `${first.message} (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})`
      : first.message;
  throw new SquallError(code, message, { errors, parameter: first.parameter });
}
