/**
 * Workflow inspection (st2-reference.md §6.1 "Inspection"): errors grouped as orquesta does,
 * `syntax` (schema), `semantics` (graph), `expressions` (parse errors) and `context` (variables
 * read before anything defines them).
 */
import { checkExpressionSyntax, extractExpressions } from '../expressions/index.js';
import { startTasks } from './graph.js';
import { parseInlineParams } from './inline.js';
import {
  checkSyntax,
  loadSpecSource,
  normaliseSpec,
  ENGINE_COMMANDS,
  type InspectionError,
  type WorkflowSpec,
} from './spec.js';

export interface InspectionResult {
  /** st2's own check of task contents: action refs and inputs (services/workflows.py). */
  content: InspectionError[];
  syntax: InspectionError[];
  semantics: InspectionError[];
  expressions: InspectionError[];
  context: InspectionError[];
}

export interface InspectOptions {
  /** Answers whether an action ref is registered; unknown actions become content errors. */
  actionExists?: (ref: string) => boolean;
  /** Parameter names of an action and which are required, to check task input. */
  actionParams?: (ref: string) => { names: string[]; required: string[] } | undefined;
  /** Variables present before the workflow starts (e.g. `st2`, `parent`). */
  contextVariables?: string[];
}

const TASK_SCHEMA_PATH = 'properties.tasks.patternProperties.^\\w+$';

export function inspect(
  source: string | Record<string, unknown>,
  options: InspectOptions = {},
): InspectionResult {
  const { result, spec } = inspectDefinition(source, options.contextVariables ?? []);
  if (spec) result.content = inspectContent(spec, options);
  return result;
}

/**
 * Every check of inspect() but the content one (which asks the registered actions), and the spec,
 * normalised, when it could be read that far: what the definition's text alone decides.
 */
export function inspectDefinition(
  source: string | Record<string, unknown>,
  contextVariables: string[] = [],
): { result: InspectionResult; spec?: WorkflowSpec } {
  const raw = loadSpecSource(source);
  const result: InspectionResult = {
    content: [],
    syntax: checkSyntax(raw),
    semantics: [],
    expressions: [],
    context: [],
  };
  let spec: WorkflowSpec;
  try {
    spec = normaliseSpec(raw);
  } catch (err) {
    // Too broken to read further: the syntax errors say why.
    if (result.syntax.length > 0) return { result };
    throw err;
  }
  // Like orquesta, every check runs even when the schema is violated somewhere.
  result.semantics = inspectSemantics(spec);
  result.expressions = inspectExpressions(spec, raw);
  result.context = inspectContext(spec, raw, contextVariables);
  // orquesta orders each group by schema path, then spec path (a stable sort).
  const order = (x: InspectionError, y: InspectionError): number => {
    const a = `${x.schema_path ?? ''}\u0000${x.spec_path ?? ''}`;
    const b = `${y.schema_path ?? ''}\u0000${y.spec_path ?? ''}`;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  for (const group of ['syntax', 'semantics', 'expressions', 'context'] as const) result[group].sort(order);
  return { result, spec };
}

/** The action refs inspectContent looks up: each task's literal `pack.name`. */
export function contentRefs(spec: WorkflowSpec): string[] {
  const refs = new Set<string>();
  for (const task of Object.values(spec.tasks)) {
    const ref = task.action;
    if (typeof ref === 'string' && ref.includes('.') && extractExpressions(ref).length === 0) refs.add(ref);
  }
  return [...refs];
}

/** st2's inspect_task_contents: each task's action reference and input, in st2's words. */
export function inspectContent(spec: WorkflowSpec, options: InspectOptions): InspectionError[] {
  const out: InspectionError[] = [];
  for (const [name, task] of Object.entries(spec.tasks)) {
    const ref = task.action;
    if (typeof ref !== 'string' || ref === '' || extractExpressions(ref).length > 0) continue;
    const actionPath = {
      spec_path: `tasks.${name}.action`,
      schema_path: `${TASK_SCHEMA_PATH}.properties.action`,
    };
    if (!ref.includes('.')) {
      out.push({ message: `The action reference "${ref}" is not formatted correctly.`, ...actionPath });
      continue;
    }
    if (options.actionExists && !options.actionExists(ref)) {
      out.push({ message: `The action "${ref}" is not registered in the database.`, ...actionPath });
      continue;
    }
    const input = task.input;
    if (!options.actionParams || (input !== undefined && (typeof input !== 'object' || Array.isArray(input))))
      continue;
    const params = options.actionParams(ref);
    if (!params) continue;
    const given = Object.keys((input ?? {}) as Record<string, unknown>);
    for (const r of params.required) {
      if (!given.includes(r)) {
        out.push({
          message: `Action "${ref}" is missing required input "${r}".`,
          spec_path: `tasks.${name}.input`,
          schema_path: `${TASK_SCHEMA_PATH}.properties.input`,
        });
      }
    }
    for (const g of given) {
      if (!params.names.includes(g)) {
        out.push({
          message: `Action "${ref}" has unexpected input "${g}".`,
          spec_path: `tasks.${name}.input.${g}`,
          schema_path: `${TASK_SCHEMA_PATH}.properties.input.patternProperties.^\\w+$`,
        });
      }
    }
  }
  return out;
}

function inspectSemantics(spec: WorkflowSpec): InspectionError[] {
  const out: InspectionError[] = [];
  for (const name of Object.keys(spec.tasks)) {
    if ((ENGINE_COMMANDS as readonly string[]).includes(name)) {
      out.push({
        message: `The task name "${name}" is reserved with special function.`,
        spec_path: `tasks.${name}`,
        schema_path: TASK_SCHEMA_PATH,
      });
    }
  }
  if (Object.keys(spec.tasks).length > 0 && startTasks(spec).length === 0) {
    out.push({
      message:
        'Unable to identify any tasks to start the workflow. If the workflow has a loop, please add a task that serves as an entry point (or lead) into the loop.',
      spec_path: 'tasks',
      schema_path: 'properties.tasks',
    });
  }
  for (const [name, task] of Object.entries(spec.tasks)) {
    task.next.forEach((tr, i) => {
      for (const target of tr.do) {
        if (!spec.tasks[target] && !(ENGINE_COMMANDS as readonly string[]).includes(target)) {
          out.push({
            message: `The task "${target}" is not defined.`,
            spec_path: `tasks.${name}.next[${i}].do`,
            schema_path: `${TASK_SCHEMA_PATH}.properties.next.items.properties.do`,
          });
        }
      }
    });
    if (task.with && task.action === undefined) {
      out.push({
        message: 'The action property is required for with items task.',
        spec_path: `tasks.${name}`,
        schema_path: `${TASK_SCHEMA_PATH}`,
      });
    }
  }
  return out;
}

/** Every expression-bearing value in the spec with its spec path. */
function expressionSites(
  spec: WorkflowSpec,
  raw: Record<string, unknown>,
): Array<{ path: string; schema: string; value: unknown }> {
  const sites: Array<{ path: string; schema: string; value: unknown }> = [];
  // orquesta validates a plain property (input, vars, output, publish, …) as one value.
  for (const key of ['input', 'vars', 'output'])
    if (raw[key] !== undefined) sites.push({ path: key, schema: `properties.${key}`, value: raw[key] });
  const rawTasks = (raw.tasks ?? {}) as Record<string, Record<string, unknown> | null>;
  for (const [name, t] of Object.entries(spec.tasks)) {
    const tp = `tasks.${name}`;
    const ts = TASK_SCHEMA_PATH;
    if (t.delay !== undefined)
      sites.push({ path: `${tp}.delay`, schema: `${ts}.properties.delay`, value: t.delay });
    if (t.with) {
      sites.push({
        path: `${tp}.with.items`,
        schema: `${ts}.properties.with.properties.items`,
        value: t.with.expression,
      });
      if (t.with.concurrency !== undefined)
        sites.push({
          path: `${tp}.with.concurrency`,
          schema: `${ts}.properties.with.properties.concurrency`,
          value: t.with.concurrency,
        });
    }
    if (t.action !== undefined)
      sites.push({ path: `${tp}.action`, schema: `${ts}.properties.action`, value: t.action });
    if (t.input !== undefined)
      sites.push({ path: `${tp}.input`, schema: `${ts}.properties.input`, value: t.input });
    if (t.retry) {
      if (t.retry.when !== undefined)
        sites.push({
          path: `${tp}.retry.when`,
          schema: `${ts}.properties.retry.properties.when`,
          value: t.retry.when,
        });
      sites.push({
        path: `${tp}.retry.count`,
        schema: `${ts}.properties.retry.properties.count`,
        value: t.retry.count,
      });
      if (t.retry.delay !== undefined)
        sites.push({
          path: `${tp}.retry.delay`,
          schema: `${ts}.properties.retry.properties.delay`,
          value: t.retry.delay,
        });
    }
    t.next.forEach((tr, i) => {
      const np = `${tp}.next[${i}]`;
      const ns = `${ts}.properties.next.items`;
      if (tr.when !== undefined)
        sites.push({ path: `${np}.when`, schema: `${ns}.properties.when`, value: tr.when });
      const rawNext = ((rawTasks[name]?.next ?? []) as Array<Record<string, unknown> | null>)[i] ?? {};
      if (rawNext.publish !== undefined)
        sites.push({ path: `${np}.publish`, schema: `${ns}.properties.publish`, value: rawNext.publish });
      if (rawNext.do !== undefined)
        sites.push({ path: `${np}.do`, schema: `${ns}.properties.do`, value: rawNext.do });
    });
  }
  return sites;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

function inspectExpressions(spec: WorkflowSpec, raw: Record<string, unknown>): InspectionError[] {
  const out: InspectionError[] = [];
  for (const site of expressionSites(spec, raw)) {
    for (const s of strings(site.value)) {
      for (const p of checkExpressionSyntax(s)) {
        out.push({
          type: p.language,
          expression: p.expression,
          message: p.message,
          spec_path: site.path,
          schema_path: site.schema,
        });
      }
    }
  }
  return out;
}

/** orquesta's extraction of the variables a string reads: `ctx().x`, `ctx(x)`, `ctx('x')`, `ctx("x")`. */
const CTX_REF = /\bctx\(['"]?[\][a-zA-Z0-9_'".()]*['"]?\)\.?[\][a-zA-Z0-9_'".()]*/g;
const CTX_VAR = [
  /(?<=\bctx\(\)\.)([a-zA-Z0-9_-]+)\b(?!\()\.?/,
  /(?:\bctx\(([a-zA-Z0-9_-]+)\))/,
  /(?:\bctx\('([a-zA-Z0-9_-]+)'\))/,
  /(?:\bctx\("([a-zA-Z0-9_-]+)"\))/,
];
const DELIMITED = { yaql: { re: /<%.*?%>/g, strip: '<%>' }, jinja: { re: /\{\{.*?\}\}/g, strip: '{}' } };

function stripChars(s: string, chars: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && chars.includes(s[a])) a++;
  while (b > a && chars.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

/**
 * The variables a value reads, as orquesta lists them: one per (language, whole string, name),
 * by name; `expression` is the whole string the reference sits in.
 */
function contextVariables(value: unknown): Array<{ type: string; expression: string; name: string }> {
  const found = new Map<string, { type: string; expression: string; name: string }>();
  for (const str of strings(value)) {
    for (const [type, { re, strip }] of Object.entries(DELIMITED)) {
      for (const m of str.matchAll(re)) {
        for (const ref of stripChars(m[0], strip).trim().matchAll(CTX_REF)) {
          for (const extract of CTX_VAR) {
            const name = extract.exec(ref[0].trim())?.[1];
            if (name) found.set(JSON.stringify([type, str, name]), { type, expression: str, name });
          }
        }
      }
    }
  }
  return [...found.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** The names a context input (publish, input, vars, output) defines, as orquesta reads them. */
function definedNames(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value))
    return value.flatMap((v) =>
      typeof v === 'string'
        ? [v]
        : v && typeof v === 'object' && Object.keys(v).length === 1
          ? Object.keys(v)
          : [],
    );
  if (value && typeof value === 'object') return Object.keys(value);
  return [];
}

/**
 * orquesta's context inspection: walks the graph from the start tasks as orquesta does (a task
 * reached again with a different context is inspected again; a join waits for the union of its
 * inbound branches), carrying the variables defined so far (input, vars, then each transition's
 * publish), and flags reads of names not yet defined or private (`__x`).
 */
function inspectContext(
  spec: WorkflowSpec,
  raw: Record<string, unknown>,
  extra: string[],
): InspectionError[] {
  const errors: InspectionError[] = [];
  const check = (value: unknown, ctx: Set<string>, spec_path: string, schema_path: string): void => {
    for (const v of contextVariables(value)) {
      // Keys in orquesta's order, as API clients see them.
      const at = (message: string): InspectionError => ({
        type: v.type,
        expression: v.expression,
        message,
        spec_path,
        schema_path,
      });
      if (v.name.startsWith('__'))
        errors.push(
          at(
            `Variable "${v.name}" that is prefixed with double underscores is considered a private variable and cannot be referenced.`,
          ),
        );
      if (!ctx.has(v.name)) errors.push(at(`Variable "${v.name}" is referenced before assignment.`));
    }
  };
  // A property is read as orquesta reads it: a list item by item (spec path `name[i]`), a string
  // of inline parameters as that list; a context input (publish, input, vars,
  // output) defines its names for what follows.
  const prop = (
    value: unknown,
    ctx: Set<string>,
    spec_path: string,
    schema_path: string,
    defines = false,
  ): void => {
    if (typeof value === 'string') {
      // orquesta's parse_inline_params keeps the order: a list of one-key mappings.
      const inline = parseInlineParams(value);
      if (inline.length > 0) value = inline.map(([k, v]) => ({ [k]: v }));
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        check(item, ctx, `${spec_path}[${i}]`, schema_path);
        if (defines) for (const n of definedNames([item])) ctx.add(n);
      });
      return;
    }
    check(value, ctx, spec_path, schema_path);
    if (defines) for (const n of definedNames(value)) ctx.add(n);
  };
  const rolling = new Set<string>(['st2', 'parent', ...extra]);
  if (raw.input) prop(raw.input, rolling, 'input', 'properties.input', true);
  if (raw.vars) prop(raw.vars, rolling, 'vars', 'properties.vars', true);

  const rawTasks = (raw.tasks ?? {}) as Record<string, Record<string, unknown> | null>;
  const ts = TASK_SCHEMA_PATH;
  const isCommand = (name: string): boolean => (ENGINE_COMMANDS as readonly string[]).includes(name);
  const joinCtx = new Map<string, Set<string>>();
  const queuedCtx = new Map<string, Set<string>>();
  const traversed = new Set<string>();
  const queue: Array<{ task: string; ctx: Set<string> | null }> = startTasks(spec).map((task) => ({
    task,
    ctx: new Set(rolling),
  }));
  while (queue.length > 0) {
    const next = queue.shift() as { task: string; ctx: Set<string> | null };
    traversed.add(next.task);
    const ctx = next.ctx && next.ctx.size > 0 ? next.ctx : new Set(joinCtx.get(next.task) ?? []);
    for (const n of ctx) rolling.add(n);
    // An engine command (`continue` after a transition without `do`, `fail`, …) is a task of
    // its own to orquesta: nothing to read, but what its branch published reaches the output.
    if (isCommand(next.task)) continue;
    const t = rawTasks[next.task] ?? {};
    const tp = `tasks.${next.task}`;
    if (t.delay) prop(t.delay, ctx, `${tp}.delay`, `${ts}.properties.delay`);
    if (t.with) {
      const w = typeof t.with === 'string' ? { items: t.with } : (t.with as Record<string, unknown>);
      if (w.items) prop(w.items, ctx, `${tp}.with.items`, `${ts}.properties.with.properties.items`);
      if (w.concurrency)
        prop(w.concurrency, ctx, `${tp}.with.concurrency`, `${ts}.properties.with.properties.concurrency`);
    }
    // As orquesta's task spec: inline parameters of the action string are the task's input.
    const task = spec.tasks[next.task];
    if (task?.action) prop(task.action, ctx, `${tp}.action`, `${ts}.properties.action`);
    if (task?.input) prop(task.input, ctx, `${tp}.input`, `${ts}.properties.input`);
    ((t.next ?? []) as Array<Record<string, unknown> | null>).forEach((rawNext, i) => {
      const n = rawNext ?? {};
      const np = `${tp}.next[${i}]`;
      const ns = `${ts}.properties.next.items`;
      const targets = spec.tasks[next.task]?.next[i]?.do ?? [];
      // The transition is read once per target (once when it has none), as orquesta does.
      for (const target of targets.length > 0 ? targets : [null]) {
        const branch = new Set(ctx);
        if (n.when) prop(n.when, branch, `${np}.when`, `${ns}.properties.when`);
        if (n.publish) prop(n.publish, branch, `${np}.publish`, `${ns}.properties.publish`, true);
        if (n.do) prop(n.do, branch, `${np}.do`, `${ns}.properties.do`);
        if (target === null || traversed.has(target) || (!spec.tasks[target] && !isCommand(target))) continue;
        if (isCommand(target) || spec.tasks[target].join === undefined) {
          const before = queuedCtx.get(target);
          if (!before || before.size !== branch.size || [...branch].some((x) => !before.has(x))) {
            queue.push({ task: target, ctx: branch });
            queuedCtx.set(target, branch);
          }
        } else {
          joinCtx.set(target, new Set([...(joinCtx.get(target) ?? []), ...branch]));
          queue.push({ task: target, ctx: null });
        }
      }
    });
  }
  if (raw.output) prop(raw.output, rolling, 'output', 'properties.output', true);
  return errors;
}
