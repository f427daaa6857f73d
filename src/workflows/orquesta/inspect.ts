/**
 * Workflow inspection (st2-reference.md §6.1 "Inspection"): errors grouped as orquesta does,
 * `syntax` (schema), `semantics` (graph), `expressions` (parse errors) and `context` (variables
 * read before anything defines them).
 */
import { checkExpressionSyntax, collectContextReferences, extractExpressions } from '../expressions/index.js';
import { inCycle, prevTaskCount, startTasks } from './graph.js';
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
    if (result.syntax.length > 0) return result;
    throw err;
  }
  // Like orquesta, every check runs even when the schema is violated somewhere.
  result.content = inspectContent(spec, options);
  result.semantics = inspectSemantics(spec);
  result.expressions = inspectExpressions(spec);
  result.context = inspectContext(spec, options.contextVariables ?? []);
  return result;
}

/** st2's inspect_task_contents: each task's action reference and input, in st2's words. */
function inspectContent(spec: WorkflowSpec, options: InspectOptions): InspectionError[] {
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
    if (task.join !== undefined) {
      const inbound = new Set<string>();
      for (const [src, t] of Object.entries(spec.tasks))
        if (t.next.some((tr) => tr.do.includes(name))) inbound.add(src);
      const needed = task.join === 'all' ? inbound.size : task.join;
      if (inbound.size < 2 && !inCycle(spec, name)) {
        out.push({
          message: `The join task "${name}" has ${inbound.size} inbound task(s); a join needs at least two.`,
          spec_path: `tasks.${name}.join`,
          schema_path: `${TASK_SCHEMA_PATH}.properties.join`,
        });
      } else if (needed > inbound.size) {
        out.push({
          message: `The join task "${name}" waits for ${needed} inbound tasks but only ${inbound.size} lead to it.`,
          spec_path: `tasks.${name}.join`,
          schema_path: `${TASK_SCHEMA_PATH}.properties.join`,
        });
      }
    }
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
function expressionSites(spec: WorkflowSpec): Array<{ path: string; schema: string; value: unknown }> {
  const sites: Array<{ path: string; schema: string; value: unknown }> = [];
  spec.input.forEach(
    (p) =>
      p.hasDefault && sites.push({ path: `input.${p.name}`, schema: 'properties.input', value: p.default }),
  );
  spec.vars.forEach((v) => sites.push({ path: `vars.${v.name}`, schema: 'properties.vars', value: v.value }));
  spec.output.forEach((o) =>
    sites.push({ path: `output.${o.name}`, schema: 'properties.output', value: o.value }),
  );
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
    }
    t.next.forEach((tr, i) => {
      const np = `${tp}.next[${i}]`;
      const ns = `${ts}.properties.next.items`;
      if (tr.when !== undefined)
        sites.push({ path: `${np}.when`, schema: `${ns}.properties.when`, value: tr.when });
      tr.publish.forEach((p) =>
        sites.push({ path: `${np}.publish.${p.name}`, schema: `${ns}.properties.publish`, value: p.value }),
      );
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

function inspectExpressions(spec: WorkflowSpec): InspectionError[] {
  const out: InspectionError[] = [];
  for (const site of expressionSites(spec)) {
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

/**
 * Walks the graph from the start tasks, carrying the variables defined so far (input, vars,
 * then each transition's publish), and flags ctx() reads of names not yet defined.
 */
function inspectContext(spec: WorkflowSpec, extra: string[]): InspectionError[] {
  const out: InspectionError[] = [];
  const report = (s: unknown, defined: Set<string>, path: string, schema: string): void => {
    for (const str of strings(s)) {
      for (const name of collectContextReferences(str)) {
        if (!defined.has(name)) {
          const expr = extractExpressions(str).find((e) =>
            collectContextReferences(e.expression).includes(name),
          );
          out.push({
            type: expr?.language ?? 'yaql',
            expression: expr?.expression ?? str,
            message: `Variable "${name}" is referenced before assignment.`,
            spec_path: path,
            schema_path: schema,
          });
        }
      }
    }
  };
  const defined = new Set<string>(['st2', 'parent', ...extra]);
  for (const p of spec.input) {
    if (p.hasDefault) report(p.default, defined, `input.${p.name}`, 'properties.input');
    defined.add(p.name);
  }
  for (const v of spec.vars) {
    report(v.value, defined, `vars.${v.name}`, 'properties.vars');
    defined.add(v.name);
  }
  const seen = new Map<string, Set<string>>();
  const queue: Array<{ task: string; ctx: Set<string> }> = startTasks(spec).map((t) => ({
    task: t,
    ctx: new Set(defined),
  }));
  const allPublished = new Set<string>(defined);
  while (queue.length > 0) {
    const { task, ctx } = queue.shift() as { task: string; ctx: Set<string> };
    const t = spec.tasks[task];
    if (!t) continue;
    const prior = seen.get(task);
    if (prior && [...ctx].every((n) => prior.has(n))) continue;
    const merged = new Set([...(prior ?? []), ...ctx]);
    seen.set(task, merged);
    const tp = `tasks.${task}`;
    // A join (or a loop) sees whatever any inbound branch defined, so report only on first visit
    // with the union so far; later visits add names.
    if (!prior) {
      const ts = TASK_SCHEMA_PATH;
      report(t.action, merged, `${tp}.action`, `${ts}.properties.action`);
      report(t.input, merged, `${tp}.input`, `${ts}.properties.input`);
      if (t.with)
        report(t.with.expression, merged, `${tp}.with.items`, `${ts}.properties.with.properties.items`);
    }
    t.next.forEach((tr, i) => {
      const rolling = new Set(merged);
      if (!prior && tr.when)
        report(
          tr.when,
          rolling,
          `${tp}.next[${i}].when`,
          `${TASK_SCHEMA_PATH}.properties.next.items.properties.when`,
        );
      for (const p of tr.publish) {
        if (!prior)
          report(
            p.value,
            rolling,
            `${tp}.next[${i}].publish`,
            `${TASK_SCHEMA_PATH}.properties.next.items.properties.publish`,
          );
        rolling.add(p.name);
        allPublished.add(p.name);
      }
      for (const d of tr.do) if (spec.tasks[d]) queue.push({ task: d, ctx: rolling });
    });
  }
  void prevTaskCount;
  const outputCtx = allPublished;
  for (const o of spec.output) {
    report(o.value, outputCtx, `output.${o.name}`, 'properties.output');
    outputCtx.add(o.name);
  }
  return out;
}
