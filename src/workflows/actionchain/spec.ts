/**
 * ActionChain definitions (st2-reference.md §6.2): `chain`, `default`, `vars`; each task has
 * `name`, `ref`, `parameters` (or legacy `params`), `on-success`, `on-failure`, `publish`, `notify`.
 */
import { readFileSync } from 'node:fs';
import { SquallError } from '../../errors.js';
import { loadYaml } from '../../yaml.js';

export interface ChainTask {
  name: string;
  ref: string;
  parameters: Record<string, unknown>;
  onSuccess?: string;
  onFailure?: string;
  publish: Record<string, unknown>;
  notify?: Record<string, unknown>;
}

export interface ChainSpec {
  chain: ChainTask[];
  default: string;
  vars: Record<string, unknown>;
}

const KNOWN_TASK_KEYS = new Set([
  'name',
  'ref',
  'parameters',
  'params',
  'on-success',
  'on-failure',
  'publish',
  'notify',
]);

function fail(where: string, message: string, context: Record<string, unknown> = {}): never {
  throw new SquallError('ACTIONCHAIN_SPEC_INVALID', `Action chain ${where}: ${message}`, context);
}

/** Parses a chain from YAML text, a .yaml path or an object, and checks names and references. */
export function parseChainSpec(source: string | Record<string, unknown>, label = 'definition'): ChainSpec {
  let raw: unknown = source;
  let where = label;
  if (typeof source === 'string') {
    let text = source;
    if (/\.ya?ml$/i.test(source.trim()) && !source.includes('\n')) {
      where = source.trim();
      try {
        text = readFileSync(where, 'utf8');
      } catch (err) {
        throw new SquallError(
          'ACTIONCHAIN_SPEC_UNREADABLE',
          `Cannot read action chain "${where}": ${(err as Error).message}`,
          { path: where },
        );
      }
    }
    try {
      raw = loadYaml(text, { filename: where });
    } catch (err) {
      fail(where, `not valid YAML: ${(err as Error).message}`, { path: where });
    }
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    fail(where, 'must be a mapping with a "chain" list');
  const r = raw as Record<string, unknown>;
  if (!Array.isArray(r.chain) || r.chain.length === 0)
    fail(where, '"chain" must be a non-empty list of tasks', { field: 'chain' });
  const names = new Set<string>();
  const chain = (r.chain as unknown[]).map((t, i): ChainTask => {
    if (!t || typeof t !== 'object') fail(where, `chain[${i}] must be a mapping`, { index: i });
    const task = t as Record<string, unknown>;
    // st2's ActionChain schema lists the node schema as `items: [Node]`, which JSON Schema reads
    // as a tuple: only the first task is checked for unknown fields, and st2 ignores them on the
    // others. Chains in the wild rely on that (st2tests' tests pack has a task with a top-level
    // `cmd`, others a `description`), so only the first task is held to the known fields.
    if (i === 0) {
      for (const k of Object.keys(task)) {
        if (!KNOWN_TASK_KEYS.has(k))
          fail(where, `chain[${i}] has unknown field "${k}"`, { index: i, field: k });
      }
    }
    if (typeof task.name !== 'string' || !task.name)
      fail(where, `chain[${i}] needs a "name"`, { index: i, field: 'name' });
    if (typeof task.ref !== 'string' || !task.ref)
      fail(where, `task "${task.name}" needs a "ref" (pack.action)`, { task: task.name, field: 'ref' });
    if (names.has(task.name)) fail(where, `task name "${task.name}" is used twice`, { task: task.name });
    names.add(task.name);
    const params = (task.parameters ?? task.params ?? {}) as Record<string, unknown>;
    if (typeof params !== 'object' || Array.isArray(params))
      fail(where, `task "${task.name}" parameters must be a mapping`, {
        task: task.name,
        field: 'parameters',
      });
    const out: ChainTask = {
      name: task.name,
      ref: task.ref,
      parameters: params,
      publish: (task.publish ?? {}) as Record<string, unknown>,
    };
    if (task['on-success'] !== undefined) out.onSuccess = String(task['on-success']);
    if (task['on-failure'] !== undefined) out.onFailure = String(task['on-failure']);
    if (task.notify !== undefined) out.notify = task.notify as Record<string, unknown>;
    return out;
  });
  for (const t of chain) {
    for (const [field, target] of [
      ['on-success', t.onSuccess],
      ['on-failure', t.onFailure],
    ] as const) {
      if (target !== undefined && !names.has(target)) {
        fail(where, `task "${t.name}" ${field} names unknown task "${target}"`, {
          task: t.name,
          field,
          target,
        });
      }
    }
  }
  const dflt = r.default === undefined ? chain[0].name : String(r.default);
  if (!names.has(dflt))
    fail(where, `default names unknown task "${dflt}"`, { field: 'default', target: dflt });
  const vars = (r.vars ?? {}) as Record<string, unknown>;
  if (typeof vars !== 'object' || Array.isArray(vars))
    fail(where, '"vars" must be a mapping', { field: 'vars' });
  return { chain, default: dflt, vars };
}
