/**
 * Orquesta native spec (version 1.0), st2-reference.md §6.1: parsing the YAML into a normalised,
 * JSON-serialisable model the conductor keeps inside its state. Syntax checking (the JSON schema)
 * lives here too because it shares the shape; semantic checks live in inspect.ts.
 */
import { Ajv } from 'ajv';
import { SquallError } from '../../errors.js';
import { loadYaml } from '../../yaml.js';
import { lazyValidator } from '../../lazy-validator.js';
import { parseInlineParams } from './inline.js';
import { pyRepr } from '../expressions/index.js';

export const ENGINE_COMMANDS = ['continue', 'fail', 'noop', 'retry'] as const;
export type EngineCommand = (typeof ENGINE_COMMANDS)[number];

export interface Assignment {
  name: string;
  value: unknown;
}

export interface InputParam {
  name: string;
  /** Present only when the input item declared a default (`{name: default}`). */
  default?: unknown;
  hasDefault: boolean;
}

export interface TransitionSpec {
  when?: string;
  publish: Assignment[];
  /** Task names and engine commands; `continue` when the transition had no `do`. */
  do: string[];
}

export interface WithItemsSpec {
  /** The raw `items` string (`<% … %>`, `x in <% … %>`, `a, b in <% zip(…) %>`). */
  items: string;
  /** The item variable names when the `x in …` form is used. */
  keys: string[] | null;
  /** The list expression without the `x in ` prefix. */
  expression: string;
  concurrency?: unknown;
}

export interface RetrySpec {
  when?: string;
  count: unknown;
  delay?: unknown;
}

export interface TaskSpec {
  name: string;
  action?: unknown;
  input?: unknown;
  next: TransitionSpec[];
  join?: 'all' | number;
  with?: WithItemsSpec;
  retry?: RetrySpec;
  delay?: unknown;
}

export interface WorkflowSpec {
  version: string;
  name?: string;
  description?: string;
  tags?: string[];
  input: InputParam[];
  vars: Assignment[];
  output: Assignment[];
  tasks: Record<string, TaskSpec>;
}

export interface InspectionError {
  type?: string | null;
  message: string;
  spec_path: string;
  schema_path?: string;
  expression?: string;
}

const NONEMPTY_STRING = { type: 'string', minLength: 1 };
const ONE_KEY_DICT = { type: 'object', minProperties: 1, maxProperties: 1 };
const ITEMS_PATTERN = '^\\s*(?:(?:\\w+\\s*,\\s*)*\\w+\\s+in\\s+)?(?:<%.*%>|\\{\\{.*\\}\\}|\\{%.*%\\})\\s*$';

/** The JSON schema of the native spec; errors from it are the `syntax` group of inspection. */
export const WORKFLOW_SCHEMA = {
  type: 'object',
  properties: {
    version: { anyOf: [{ enum: ['1.0'] }, { enum: [1.0] }] },
    name: NONEMPTY_STRING,
    description: NONEMPTY_STRING,
    tags: { type: 'array', items: NONEMPTY_STRING },
    input: {
      type: 'array',
      items: { oneOf: [NONEMPTY_STRING, ONE_KEY_DICT] },
      uniqueItems: true,
    },
    vars: { type: 'array', items: ONE_KEY_DICT },
    output: { type: 'array', items: ONE_KEY_DICT },
    tasks: {
      type: 'object',
      minProperties: 1,
      patternProperties: {
        '^\\w+$': {
          type: 'object',
          properties: {
            delay: { oneOf: [NONEMPTY_STRING, { type: 'integer', minimum: 0 }] },
            join: { oneOf: [{ enum: ['all'] }, { type: 'integer', minimum: 1 }] },
            with: {
              oneOf: [
                { type: 'string', pattern: ITEMS_PATTERN },
                {
                  type: 'object',
                  properties: {
                    items: { type: 'string', pattern: ITEMS_PATTERN },
                    concurrency: { oneOf: [NONEMPTY_STRING, { type: 'integer', minimum: 1 }] },
                  },
                  required: ['items'],
                  additionalProperties: false,
                },
              ],
            },
            action: NONEMPTY_STRING,
            input: { oneOf: [NONEMPTY_STRING, { type: 'object', minProperties: 1 }] },
            retry: {
              type: 'object',
              properties: {
                when: NONEMPTY_STRING,
                count: { oneOf: [NONEMPTY_STRING, { type: 'integer', minimum: 0 }] },
                delay: { oneOf: [NONEMPTY_STRING, { type: 'integer', minimum: 0 }] },
              },
              required: ['count'],
              additionalProperties: false,
            },
            next: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  when: NONEMPTY_STRING,
                  publish: { oneOf: [NONEMPTY_STRING, { type: 'array', items: ONE_KEY_DICT }] },
                  do: {
                    oneOf: [NONEMPTY_STRING, { type: 'array', items: NONEMPTY_STRING, uniqueItems: true }],
                  },
                },
                additionalProperties: false,
              },
            },
          },
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
  },
  required: ['version', 'tasks'],
  additionalProperties: false,
} as const;

const validateSchema = lazyValidator(() =>
  new Ajv({ allErrors: true, strict: false }).compile(WORKFLOW_SCHEMA),
);

/**
 * Reads a spec given as YAML text or an already-loaded object. The conductor does no I/O: callers
 * read workflow files themselves (the engine from the pack, the rehearsal CLI from disk).
 */
export function loadSpecSource(
  source: string | Record<string, unknown>,
  label = 'workflow',
): Record<string, unknown> {
  if (typeof source !== 'string') return source;
  const text = source;
  const where = label;
  let doc: unknown;
  try {
    doc = loadYaml(text, { filename: where });
  } catch (err) {
    throw new SquallError(
      'WORKFLOW_SPEC_YAML',
      `Workflow definition ${where} is not valid YAML: ${(err as Error).message}`,
      { path: where },
    );
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SquallError('WORKFLOW_SPEC_YAML', `Workflow definition ${where} must be a YAML mapping`, {
      path: where,
    });
  }
  return doc as Record<string, unknown>;
}

/** Syntax errors (schema violations) of a raw spec object, in orquesta's spec_path notation. */
export function checkSyntax(raw: Record<string, unknown>): InspectionError[] {
  if (validateSchema(raw)) return [];
  const seen = new Set<string>();
  const out: InspectionError[] = [];
  for (const e of validateSchema.errors ?? []) {
    // oneOf alternatives each report; keep the summarising oneOf error and the leaf ones that
    // are not alternatives of it.
    const specPath = e.instancePath
      .split('/')
      .filter(Boolean)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .join('.');
    const schemaPath = e.schemaPath
      .replace(/^#\//, '')
      .split('/')
      .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'))
      .join('.');
    if (/\.oneOf\.\d+\./.test(schemaPath)) continue;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      message = `Additional properties are not allowed ('${String((e.params as { additionalProperty: string }).additionalProperty)}' was unexpected)`;
    } else if (e.keyword === 'required') {
      message = `'${String((e.params as { missingProperty: string }).missingProperty)}' is a required property`;
    } else if (e.keyword === 'oneOf') {
      message = `${pyRepr(valueAt(raw, specPath))} is not valid under any of the given schemas`;
    } else {
      message = `${specPath || 'workflow'} ${message}`;
    }
    const key = `${specPath}|${schemaPath}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ message, spec_path: specPath, schema_path: schemaPath });
  }
  return out;
}

function valueAt(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split('.').filter(Boolean)) {
    if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[part];
    else return undefined;
  }
  return cur;
}

function oneKey(item: unknown): Assignment {
  const [name, value] = Object.entries(item as Record<string, unknown>)[0];
  return { name, value };
}

function splitDo(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return ['continue'];
  if (Array.isArray(value)) return value.map((v) => String(v).trim());
  return String(value)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function parseItems(itemsText: string): { keys: string[] | null; expression: string } {
  const idx = itemsText.indexOf(' in ');
  const before = idx >= 0 ? itemsText.slice(0, idx) : '';
  if (idx >= 0 && /^\s*(\w+\s*,\s*)*\w+\s*$/.test(before)) {
    return { keys: before.replace(/\s+/g, '').split(','), expression: itemsText.slice(idx + 4).trim() };
  }
  return { keys: null, expression: itemsText.trim() };
}

/**
 * Parses and normalises a native v1.0 spec. Throws WORKFLOW_SPEC_INVALID with the syntax errors
 * when the spec does not match the schema (use inspect() to get every error group instead).
 */
export function parseWorkflowSpec(
  source: string | Record<string, unknown>,
  label = 'workflow',
): WorkflowSpec {
  const raw = loadSpecSource(source, label);
  const syntax = checkSyntax(raw);
  if (syntax.length > 0) {
    throw new SquallError(
      'WORKFLOW_SPEC_INVALID',
      `Workflow definition ${label} is invalid: ${syntax.map((e) => `${e.spec_path || '(root)'}: ${e.message}`).join('; ')}`,
      { errors: syntax },
    );
  }
  return normaliseSpec(raw);
}

/** Normalises a raw spec without validating it (callers validate first). */
export function normaliseSpec(raw: Record<string, unknown>): WorkflowSpec {
  const tasks: Record<string, TaskSpec> = {};
  for (const [name, rawTask] of Object.entries(
    (raw.tasks ?? {}) as Record<string, Record<string, unknown>>,
  )) {
    const t = rawTask ?? {};
    const task: TaskSpec = { name, next: [] };
    if (t.input !== undefined) task.input = t.input;
    if (typeof t.action === 'string') {
      const action = t.action.trim();
      const space = action.search(/\s/);
      const inline = space > 0 ? parseInlineParams(action.slice(space)) : [];
      if (inline.length > 0) {
        task.action = action.slice(0, space);
        // orquesta's TaskSpec replaces the task's input with the inline arguments: an `input:`
        // block beside them is ignored, not merged (models.py TaskSpec.__init__).
        task.input = Object.fromEntries(inline);
      } else {
        task.action = action;
      }
    }
    if (t.join !== undefined) task.join = t.join as 'all' | number;
    if (t.delay !== undefined) task.delay = t.delay;
    if (t.retry !== undefined) {
      const r = t.retry as Record<string, unknown>;
      task.retry = { count: r.count };
      if (r.when !== undefined) task.retry.when = String(r.when);
      if (r.delay !== undefined) task.retry.delay = r.delay;
    }
    if (t.with !== undefined) {
      const w = typeof t.with === 'string' ? { items: t.with } : (t.with as Record<string, unknown>);
      const items = String(w.items);
      task.with = { items, ...parseItems(items) };
      if (w.concurrency !== undefined) task.with.concurrency = w.concurrency;
    }
    for (const rawNext of (t.next ?? []) as Array<Record<string, unknown>>) {
      const n = rawNext ?? {};
      const publish =
        typeof n.publish === 'string'
          ? parseInlineParams(n.publish).map(([name, value]) => ({ name, value }))
          : ((n.publish ?? []) as unknown[]).map(oneKey);
      const tr: TransitionSpec = { publish, do: splitDo(n.do) };
      if (n.when !== undefined) tr.when = String(n.when);
      task.next.push(tr);
    }
    tasks[name] = task;
  }
  const input = ((raw.input ?? []) as unknown[]).map((item): InputParam => {
    if (typeof item === 'string') return { name: item, hasDefault: false };
    const { name, value } = oneKey(item);
    return { name, default: value, hasDefault: true };
  });
  const spec: WorkflowSpec = {
    version: String(raw.version),
    input,
    vars: ((raw.vars ?? []) as unknown[]).map(oneKey),
    output: ((raw.output ?? []) as unknown[]).map(oneKey),
    tasks,
  };
  if (typeof raw.name === 'string') spec.name = raw.name;
  if (typeof raw.description === 'string') spec.description = raw.description;
  if (Array.isArray(raw.tags)) spec.tags = raw.tags.map(String);
  return spec;
}
