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

/** The tasks no transition leads to. One pass over the transitions (prevTaskCount of each task was quadratic). */
export function startTasks(spec: WorkflowSpec): string[] {
  const reached = new Set<string>();
  for (const src of Object.keys(spec.tasks)) for (const t of nextTasks(spec, src)) reached.add(t.dst);
  return Object.keys(spec.tasks)
    .filter((n) => !reached.has(n))
    .sort();
}

/**
 * The tasks that can reach themselves (orquesta's "in a cycle"): those in a strongly connected
 * component of more than one node, or with an edge to themselves. Tarjan's algorithm, iterative:
 * linear in the spec, where asking inCycle() of every task was quadratic.
 */
function cyclicTasks(next: Map<string, Array<{ dst: string }>>): Set<string> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out = new Set<string>();
  let counter = 0;
  const succ = (v: string) => next.get(v) ?? [];
  for (const root of next.keys()) {
    if (index.has(root)) continue;
    const frames: Array<{ v: string; i: number }> = [{ v: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (frames.length > 0) {
      const f = frames[frames.length - 1];
      const edges = succ(f.v);
      if (f.i < edges.length) {
        const w = edges[f.i++].dst;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          frames.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(f.v, Math.min(low.get(f.v)!, index.get(w)!));
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const parent = frames[frames.length - 1].v;
        low.set(parent, Math.min(low.get(parent)!, low.get(f.v)!));
      }
      if (low.get(f.v) !== index.get(f.v)) continue;
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== f.v);
      if (component.length > 1 || succ(f.v).some((e) => e.dst === f.v)) for (const c of component) out.add(c);
    }
  }
  return out;
}

const cache = new WeakMap<WorkflowSpec, WorkflowGraph>();

/**
 * Composed once per spec object, in time linear in the spec: the conductor composes it again for
 * every transition of a workflow (its state, spec included, is decoded afresh from the store each
 * time), so a quadratic composition made each step of a long workflow slower than the last.
 */
export function composeGraph(spec: WorkflowSpec): WorkflowGraph {
  const hit = cache.get(spec);
  if (hit) return hit;
  const names = Object.keys(spec.tasks);
  const next = new Map(names.map((name) => [name, nextTasks(spec, name)]));
  const inboundCount = new Map<string, number>();
  for (const targets of next.values())
    for (const t of targets) inboundCount.set(t.dst, (inboundCount.get(t.dst) ?? 0) + 1);
  const cycles = cyclicTasks(next);
  const g: WorkflowGraph = {
    nodes: new Set(),
    out: new Map(),
    inbound: new Map(),
    roots: names.filter((n) => !inboundCount.has(n)).sort(),
    barriers: new Map(),
    retries: new Map(),
    splits: new Set(),
    cycles: new Set(),
  };
  for (const name of names) {
    g.nodes.add(name);
    const task = spec.tasks[name];
    if (task.join !== undefined) g.barriers.set(name, task.join);
    if (task.join === undefined && (inboundCount.get(name) ?? 0) > 1) g.splits.add(name);
    if (cycles.has(name)) g.cycles.add(name);
    if (task.retry) g.retries.set(name, task.retry);
    for (const t of next.get(name)!) {
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
    if (g.nodes.has(name) && !(name in spec.tasks) && (inboundCount.get(name) ?? 0) > 1) g.splits.add(name);
  const byDst = (a: Edge, b: Edge): number => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0);
  const bySrc = (a: Edge, b: Edge): number => (a.src < b.src ? -1 : a.src > b.src ? 1 : 0);
  for (const [k, v] of g.out) g.out.set(k, [...v].sort(byDst));
  for (const [k, v] of g.inbound) g.inbound.set(k, [...v].sort(bySrc));
  cache.set(spec, g);
  return g;
}
