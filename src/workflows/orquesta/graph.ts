/**
 * The task graph orquesta composes from a spec (st2-reference.md §6.1): one edge per target of a
 * transition's `do`, keyed per (source, target) pair, with engine commands as nodes. Derived from
 * the spec on demand, so the persisted conductor state never needs to carry it.
 */
import type { WorkflowSpec, RetrySpec } from './spec.js';

export interface Edge {
  src: string;
  dst: string;
  /** Per (src, dst) counter: the `N` in the transition id `dst__tN`. */
  key: number;
  /** Index of the transition in the source task's `next` list. */
  ref: number;
  criteria: string[];
}

export interface WorkflowGraph {
  nodes: Set<string>;
  out: Map<string, Edge[]>;
  inbound: Map<string, Edge[]>;
  roots: string[];
  barriers: Map<string, 'all' | number>;
  retries: Map<string, RetrySpec>;
  splits: Set<string>;
  cycles: Set<string>;
}

export const transitionId = (dst: string, key: number): string => `${dst}__t${key}`;
export const stateId = (task: string, route: number): string => `${task}__r${route}`;

function nextTasks(spec: WorkflowSpec, name: string): Array<{ dst: string; when?: string; ref: number }> {
  const task = spec.tasks[name];
  if (!task) return [];
  const out: Array<{ dst: string; when?: string; ref: number }> = [];
  task.next.forEach((tr, ref) => {
    for (const dst of tr.do) out.push({ dst, ref, ...(tr.when !== undefined ? { when: tr.when } : {}) });
  });
  return out.sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
}

export function prevTaskCount(spec: WorkflowSpec, name: string): number {
  let n = 0;
  for (const src of Object.keys(spec.tasks)) n += nextTasks(spec, src).filter((t) => t.dst === name).length;
  return n;
}

export function inCycle(spec: WorkflowSpec, name: string): boolean {
  const seen = new Set<string>();
  const queue = nextTasks(spec, name).map((t) => t.dst);
  while (queue.length > 0) {
    const cur = queue.shift() as string;
    if (cur === name) return true;
    if (seen.has(cur)) continue;
    seen.add(cur);
    for (const t of nextTasks(spec, cur)) queue.push(t.dst);
  }
  return false;
}

export function startTasks(spec: WorkflowSpec): string[] {
  return Object.keys(spec.tasks)
    .filter((n) => prevTaskCount(spec, n) === 0)
    .sort();
}

const cache = new WeakMap<WorkflowSpec, WorkflowGraph>();

export function composeGraph(spec: WorkflowSpec): WorkflowGraph {
  const hit = cache.get(spec);
  if (hit) return hit;
  const g: WorkflowGraph = {
    nodes: new Set(),
    out: new Map(),
    inbound: new Map(),
    roots: startTasks(spec),
    barriers: new Map(),
    retries: new Map(),
    splits: new Set(),
    cycles: new Set(),
  };
  for (const name of Object.keys(spec.tasks)) {
    g.nodes.add(name);
    const task = spec.tasks[name];
    if (task.join !== undefined) g.barriers.set(name, task.join);
    if (task.join === undefined && prevTaskCount(spec, name) > 1) g.splits.add(name);
    if (inCycle(spec, name)) g.cycles.add(name);
    if (task.retry) g.retries.set(name, task.retry);
    for (const t of nextTasks(spec, name)) {
      if (t.dst === 'retry') {
        g.retries.set(name, { when: t.when ?? '<% completed() %>', count: 3 });
        continue;
      }
      g.nodes.add(t.dst);
      const edges = g.out.get(name) ?? [];
      const existing = edges.find((e) => e.dst === t.dst && e.ref === t.ref);
      if (existing) continue;
      const key = edges.filter((e) => e.dst === t.dst).length;
      const edge: Edge = { src: name, dst: t.dst, key, ref: t.ref, criteria: t.when ? [t.when] : [] };
      edges.push(edge);
      g.out.set(name, edges);
      const inb = g.inbound.get(t.dst) ?? [];
      inb.push(edge);
      g.inbound.set(t.dst, inb);
    }
  }
  // Engine commands (continue, fail, noop) reached by several transitions are split points too:
  // orquesta names each run by its route (`continue__r1`).
  for (const name of ['continue', 'fail', 'noop'])
    if (g.nodes.has(name) && !(name in spec.tasks) && prevTaskCount(spec, name) > 1) g.splits.add(name);
  const byDst = (a: Edge, b: Edge): number => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0);
  const bySrc = (a: Edge, b: Edge): number => (a.src < b.src ? -1 : a.src > b.src ? 1 : 0);
  for (const [k, v] of g.out) g.out.set(k, [...v].sort(byDst));
  for (const [k, v] of g.inbound) g.inbound.set(k, [...v].sort(bySrc));
  cache.set(spec, g);
  return g;
}
