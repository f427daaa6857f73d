/**
 * A workflow definition as a picture needs it (the web UI's workflow graph): tasks as nodes,
 * transitions as labelled edges, joins / with-items / retries marked, and inspection errors placed
 * on the task their spec path names. Layout is the UI's job; this only says what is connected.
 */
import {
  composeGraph,
  type InspectionResult,
  type InspectionError,
  type WorkflowSpec,
} from './orquesta/index.js';
import type { ChainSpec } from './actionchain/index.js';

export interface GraphNodeView {
  name: string;
  /** `task` for a task of the definition, `command` for an engine command (continue, fail, noop). */
  kind: 'task' | 'command';
  action?: string;
  join?: 'all' | number;
  with?: { items: string; concurrency?: unknown };
  retry?: { count: unknown; when?: string; delay?: unknown };
  delay?: unknown;
  /** Publishes of an action-chain task, or of an orquesta transition that leads nowhere. */
  publish?: string[];
  errors: GraphError[];
}

export interface GraphEdgeView {
  src: string;
  dst: string;
  /** Per (src, dst) counter, as in orquesta's transition id `dst__tN`. */
  key: number;
  /** The condition in words: `succeeded`, `failed`, `completed`, a `when` expression, `on-success`. */
  condition: string;
  publish: string[];
}

export interface GraphError {
  /** st2's inspection category (syntax, semantic, expression, context, content). */
  type: string;
  message: string;
  spec_path: string | null;
  expression?: string;
}

export interface WorkflowGraphView {
  kind: 'orquesta' | 'action-chain';
  start: string[];
  nodes: GraphNodeView[];
  edges: GraphEdgeView[];
  /** Errors that name no task (input, vars, output, the file as a whole). */
  errors: GraphError[];
}

const CATEGORY: Record<keyof InspectionResult, string> = {
  content: 'content',
  syntax: 'syntax',
  semantics: 'semantic',
  expressions: 'expression',
  context: 'context',
};

/** `<% succeeded() %>` reads as "succeeded"; anything else is shown as written. */
export function conditionLabel(when: string | undefined): string {
  if (when === undefined) return 'always';
  const m = /^\s*(?:<%|\{\{)\s*(succeeded|failed|completed)\(\)\s*(?:%>|\}\})\s*$/.exec(when);
  return m ? m[1] : when.trim();
}

function taskOf(specPath: string | null | undefined): string | undefined {
  const m = /^tasks\.(\w+)/.exec(specPath ?? '');
  return m?.[1];
}

/** Puts each inspection error on its task, or on the workflow when it names none. */
function placeErrors(view: WorkflowGraphView, inspection: InspectionResult | undefined): void {
  if (!inspection) return;
  const byName = new Map(view.nodes.map((n) => [n.name, n]));
  for (const [category, list] of Object.entries(inspection) as Array<
    [keyof InspectionResult, InspectionError[]]
  >) {
    for (const e of list) {
      const error: GraphError = {
        type: CATEGORY[category],
        message: e.message,
        spec_path: e.spec_path ?? null,
        ...(e.expression !== undefined ? { expression: e.expression } : {}),
      };
      const node = byName.get(taskOf(e.spec_path) ?? '');
      if (node) node.errors.push(error);
      else view.errors.push(error);
    }
  }
}

export function orquestaGraphView(spec: WorkflowSpec, inspection?: InspectionResult): WorkflowGraphView {
  const graph = composeGraph(spec);
  const nodes: GraphNodeView[] = [...graph.nodes].map((name) => {
    const task = spec.tasks[name];
    if (!task) return { name, kind: 'command', errors: [] };
    const node: GraphNodeView = { name, kind: 'task', errors: [] };
    if (typeof task.action === 'string') node.action = task.action;
    if (task.join !== undefined) node.join = task.join;
    if (task.with)
      node.with = {
        items: task.with.items,
        ...(task.with.concurrency !== undefined ? { concurrency: task.with.concurrency } : {}),
      };
    const retry = graph.retries.get(name);
    if (retry) node.retry = { ...retry };
    if (task.delay !== undefined) node.delay = task.delay;
    return node;
  });
  const edges: GraphEdgeView[] = [];
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const list of graph.out.values()) {
    for (const e of list) {
      const tr = spec.tasks[e.src]?.next[e.ref];
      if (e.dst === 'continue' && !spec.tasks.continue) {
        // A transition that only publishes (no `do`) leads nowhere: its publishes go on the task.
        const src = byName.get(e.src);
        if (src && tr?.publish.length)
          src.publish = [...(src.publish ?? []), ...tr.publish.map((p) => p.name)];
        continue;
      }
      edges.push({
        src: e.src,
        dst: e.dst,
        key: e.key,
        condition: conditionLabel(tr?.when),
        publish: (tr?.publish ?? []).map((p) => p.name),
      });
    }
  }
  const drawn = nodes.filter((n) => n.name !== 'continue' || n.kind === 'task');
  const view: WorkflowGraphView = { kind: 'orquesta', start: graph.roots, nodes: drawn, edges, errors: [] };
  placeErrors(view, inspection);
  return view;
}

export function chainGraphView(spec: ChainSpec): WorkflowGraphView {
  const nodes: GraphNodeView[] = spec.chain.map((t) => ({
    name: t.name,
    kind: 'task',
    action: t.ref,
    ...(Object.keys(t.publish).length > 0 ? { publish: Object.keys(t.publish) } : {}),
    errors: [],
  }));
  const edges: GraphEdgeView[] = [];
  for (const t of spec.chain) {
    if (t.onSuccess)
      edges.push({ src: t.name, dst: t.onSuccess, key: 0, condition: 'on-success', publish: [] });
    if (t.onFailure)
      edges.push({
        src: t.name,
        dst: t.onFailure,
        key: t.onFailure === t.onSuccess ? 1 : 0,
        condition: 'on-failure',
        publish: [],
      });
  }
  return { kind: 'action-chain', start: [spec.default], nodes, edges, errors: [] };
}

/** A definition too broken to parse: no nodes, only the reasons. */
export function brokenGraphView(
  kind: WorkflowGraphView['kind'],
  inspection: InspectionResult | undefined,
  message?: string,
): WorkflowGraphView {
  const view: WorkflowGraphView = { kind, start: [], nodes: [], edges: [], errors: [] };
  placeErrors(view, inspection);
  if (message && view.errors.length === 0) view.errors.push({ type: 'syntax', message, spec_path: null });
  return view;
}
