import { SquallError } from '../errors.js';
import type { ParameterSpec } from '../runners/index.js';
import type { ActionRecord } from '../store/index.js';
import type { ChatUser } from './adapter.js';

/**
 * Forms (Slack modals, Discord modals) built from an action's parameter schema: the adapter draws
 * the form, the pipeline builds it, validates what comes back with the executions' own parameter
 * validation and runs it. Adapters know nothing of actions; they carry `ChatForm` out and
 * `FormSubmission` back.
 */

/** Button payload of "Fill in…": `form:<opaque context>` (FormContext as JSON). */
export const FORM_PAYLOAD_PREFIX = 'form:';

export interface FormField {
  /** The parameter name (the input's id). */
  name: string;
  label: string;
  /** `select` when the schema lists the values (enum, boolean); `multiline` for arrays and objects. */
  kind: 'text' | 'multiline' | 'select';
  required: boolean;
  /** Shown filled in: the default or what the person typed before; never set for a secret. */
  initial?: string;
  options?: string[];
  secret?: boolean;
  /** The parameter's description and type, for a hint or placeholder. */
  hint: string;
}

export interface ChatForm {
  title: string;
  /** What the Submit button says. */
  submit: string;
  fields: FormField[];
  /** Opaque to the adapter; comes back in the submission (Slack private_metadata, Discord custom_id). */
  context: string;
}

/** Where a form came from and what it runs; travels through the provider as JSON. */
export interface FormContext {
  /** The action ref. */
  a: string;
  /** The alias that offered it, if any. */
  l?: string;
  /** Channel and thread the card goes to (thread absent: a new top-level card). */
  c: string;
  t?: string;
}

/** Someone asks for a form: a "Fill in…" press, `/squall run ACTION`, a Slack message shortcut. */
export interface FormRequest {
  user: ChatUser;
  /** The pressed button's payload (`form:…`), or an action ref / command text to resolve. */
  payload?: string;
  command?: string;
  channel: string;
  thread?: string;
  /** The most inputs the provider's form holds (Discord: 5). */
  maxFields: number;
  /** Slack team / Discord guild id (IncomingMessage.workspace): a linked identity needs it. */
  workspace?: string;
}

/** The form to draw, or a private reply (no such action, not allowed, too many fields: the web UI link). */
export type FormReply = { form: ChatForm } | { text: string };

export interface FormSubmission {
  user: ChatUser;
  context: string;
  /** What the person entered per field name; empty inputs are '' or absent. */
  values: Record<string, string>;
  workspace?: string;
}

/** Errors per field to show in the form; none means it was accepted (and the form closes). */
export interface FormOutcome {
  errors?: Record<string, string>;
  /** Providers that cannot keep a form open (Discord) offer this form again, filled in as typed. */
  retry?: ChatForm;
}

/**
 * The executions' own parameter casting and validation (src/executions castParameter,
 * validateParameters), handed in by the pipeline so this module stays a leaf.
 */
export interface ParameterChecks {
  cast(name: string, value: unknown, spec: ParameterSpec): unknown;
  /** Throws SquallError with `context.errors: [{parameter, message}]`. */
  validate(values: Record<string, unknown>, specs: Record<string, ParameterSpec>): void;
}

export interface FormHandlers {
  open(request: FormRequest): Promise<FormReply>;
  submit(submission: FormSubmission): Promise<FormOutcome>;
}

export function encodeFormContext(ctx: FormContext): string {
  return JSON.stringify(ctx);
}

export function decodeFormContext(raw: string): FormContext | null {
  try {
    const v = JSON.parse(raw) as FormContext;
    return typeof v?.a === 'string' && typeof v.c === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** The parameters a person fills in: the action's own, minus immutable ones (runner parameters keep their defaults). */
export function formSpecs(action: ActionRecord): Record<string, ParameterSpec> {
  const own = (action.parameters ?? {}) as Record<string, ParameterSpec>;
  const merged = (action.merged_parameters ?? {}) as Record<string, ParameterSpec>;
  const out: Record<string, ParameterSpec> = {};
  for (const [name, spec] of Object.entries(own)) {
    const full = { ...(merged[name] ?? {}), ...spec };
    if (full.immutable) continue;
    out[name] = full;
  }
  return out;
}

function typeName(spec: ParameterSpec): string {
  return Array.isArray(spec.type) ? spec.type.join(' or ') : (spec.type ?? 'string');
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A template default (`{{ st2kv… }}`) is computed at run time: not something to show as typed. */
function isTemplate(value: unknown): boolean {
  return typeof value === 'string' && /\{\{|\{%/.test(value);
}

/**
 * The form of `action`: one field per fillable parameter, in declaration order, typed from the
 * schema. `values` (a previous attempt, the parsed command) are filled in, except secrets.
 */
export function buildForm(
  action: ActionRecord,
  context: FormContext,
  values: Record<string, string> = {},
): ChatForm {
  const fields: FormField[] = Object.entries(formSpecs(action)).map(([name, spec]) => {
    const type = typeName(spec);
    const secret = spec.secret === true;
    const hasDefault = spec.default !== undefined && spec.default !== null;
    const enumValues = Array.isArray(spec.enum) ? spec.enum.map(shown) : undefined;
    const options = enumValues ?? (spec.type === 'boolean' ? ['true', 'false'] : undefined);
    const kind: FormField['kind'] = options
      ? 'select'
      : type === 'array' || type === 'object'
        ? 'multiline'
        : 'text';
    const typed = values[name];
    const initial = secret
      ? undefined
      : typed !== undefined && typed !== ''
        ? typed
        : hasDefault && !isTemplate(spec.default)
          ? shown(spec.default)
          : undefined;
    const hint = [
      spec.description,
      `${type}${enumValues ? `: one of ${enumValues.join(', ')}` : ''}${kind === 'multiline' ? ' (JSON)' : ''}`,
      secret && hasDefault ? 'leave empty for the default' : undefined,
    ]
      .filter(Boolean)
      .join(' · ');
    return {
      name,
      label: name,
      kind,
      // A default fills in what is left empty, so only a parameter without one must be typed.
      required: spec.required === true && !hasDefault,
      ...(initial !== undefined ? { initial } : {}),
      ...(options ? { options } : {}),
      ...(secret ? { secret: true } : {}),
      hint,
    };
  });
  return {
    title: `Run ${action.name}`,
    submit: 'Run',
    fields,
    context: encodeFormContext(context),
  };
}

/**
 * Checks a submission against the action's schema with the executions' own casting and
 * validation: an empty input is left out (its default applies), every other value is cast to its
 * type and validated. Returns the parameters to run with, or the errors per field.
 */
export function validateForm(
  action: ActionRecord,
  values: Record<string, string>,
  checks: ParameterChecks,
): { parameters: Record<string, unknown> } | { errors: Record<string, string> } {
  const specs = formSpecs(action);
  const errors: Record<string, string> = {};
  const parameters: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = values[name];
    if (raw === undefined || raw.trim() === '') continue;
    // A string keeps its spaces; other types are read from the trimmed text.
    const text = spec.type === 'string' ? raw : raw.trim();
    try {
      parameters[name] = spec.type === 'string' ? text : checks.cast(name, text, spec);
    } catch (err) {
      if (!(err instanceof SquallError)) throw err;
      errors[name] = err.message;
    }
  }
  // Defaults fill empty inputs when it runs; validate as if they were typed.
  const checked: Record<string, unknown> = { ...parameters };
  for (const [name, spec] of Object.entries(specs))
    if (checked[name] === undefined && !(name in errors) && spec.default != null && !isTemplate(spec.default))
      checked[name] = spec.default;
  const checkable = Object.fromEntries(
    Object.entries(specs)
      .filter(([name]) => !(name in errors))
      .map(([name, spec]) => [name, spec.default !== undefined ? { ...spec, required: false } : spec]),
  );
  try {
    checks.validate(checked, checkable);
  } catch (err) {
    if (!(err instanceof SquallError)) throw err;
    const issues = (err.context?.errors ?? []) as Array<{ parameter: string; message: string }>;
    for (const issue of issues.length ? issues : [{ parameter: '', message: err.message }]) {
      const field = issue.parameter in specs ? issue.parameter : Object.keys(specs)[0];
      if (field) errors[field] ??= issue.message;
    }
  }
  return Object.keys(errors).length ? { errors } : { parameters };
}

/** The action's run form in the web UI (for forms larger than the provider holds). */
export function webRunFormUrl(apiUrl: string, ref: string): string {
  return `${apiUrl.replace(/\/+$/, '')}/#/actions/${encodeURIComponent(ref)}`;
}
