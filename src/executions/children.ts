import type { ExecutionRecord, Store } from '../store/index.js';

/**
 * The runners whose executions have children: the workflow engine requests every child execution,
 * and only for workflows of these runners (an execution of any other runner has none).
 */
const PARENT_RUNNERS: ReadonlySet<string> = new Set(['orquesta', 'action-chain']);

/** Whether an execution can have children (its runner conducts a workflow). */
export function mayHaveChildren(record: ExecutionRecord): boolean {
  return PARENT_RUNNERS.has(String(record.runner?.name));
}

/**
 * st2's `children` of each workflow execution in `records`, derived from the children's own `parent`
 * (indexed), oldest first: one read for all of them. The workflow's record does not store them:
 * each child added its id to it, which rewrote the whole record (growing by one id per task) once
 * per task, and every step of the workflow read it back whole (issue 19). Records of other runners
 * keep what they hold (none). Returns new objects for the records it fills; the others as they are.
 */
export async function withChildren(store: Store, records: ExecutionRecord[]): Promise<ExecutionRecord[]> {
  const parents = records.filter(mayHaveChildren).map((r) => r.id);
  if (!parents.length) return records;
  const kids = await store.executions.find(
    { parent: parents.length === 1 ? parents[0] : { $in: parents } },
    { sort: { start_timestamp: 1 }, projection: { parent: 1, start_timestamp: 1 } },
  );
  const byParent = new Map<string, string[]>(parents.map((id) => [id, []]));
  for (const k of kids) byParent.get(String(k.parent))?.push(k.id);
  return records.map((r) => {
    const ids = byParent.get(r.id);
    return ids ? { ...r, children: ids } : r;
  });
}

/** One record with its children (withChildren). */
export async function withChildrenOf(store: Store, record: ExecutionRecord): Promise<ExecutionRecord> {
  const [filled] = await withChildren(store, [record]);
  return filled!;
}

/** How many parents one read of the descendants' walk asks for (ids alone come back). */
const WALK_CHUNK = 1000;
/** How many whole records one read of the descendants asks for: what a caller holds at once. */
const PAGE = 200;

/**
 * The ids of the executions under `root`, to `maxDepth` levels (negative: all; 0 reads as 1, as before), in st2's order:
 * each child, oldest first, followed by its own descendants. One read per level (of ids alone,
 * WALK_CHUNK parents at a time): the walk read each child's children in turn, 10,001 reads for a
 * workflow of 10,000 tasks, while the event loop waited on none of them (the embedded store answers
 * at once).
 */
export async function descendantIds(store: Store, root: string, maxDepth: number): Promise<string[]> {
  const childrenOf = new Map<string, string[]>();
  let level = [root];
  for (let depth = 1; level.length > 0 && (maxDepth < 0 || depth <= Math.max(1, maxDepth)); depth++) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += WALK_CHUNK) {
      const parents = level.slice(i, i + WALK_CHUNK);
      const kids = await store.executions.find(
        { parent: parents.length === 1 ? parents[0] : { $in: parents } },
        { sort: { start_timestamp: 1 }, projection: { parent: 1, start_timestamp: 1 } },
      );
      for (const k of kids) {
        // A record met twice (a parent that names its own descendant) is walked once.
        if (childrenOf.has(k.id) || k.id === root) continue;
        const siblings = childrenOf.get(String(k.parent));
        if (siblings) siblings.push(k.id);
        else childrenOf.set(String(k.parent), [k.id]);
        childrenOf.set(k.id, childrenOf.get(k.id) ?? []);
        next.push(k.id);
      }
    }
    level = next;
  }
  const out: string[] = [];
  const stack = [...(childrenOf.get(root) ?? [])].reverse();
  while (stack.length > 0) {
    const id = stack.pop()!;
    out.push(id);
    const kids = childrenOf.get(id) ?? [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return out;
}

/**
 * The records of `ids`, PAGE at a time, in the order of `ids` (one gone meanwhile is left
 * out): what a caller holds at once is one page, whatever the number of ids.
 */
export async function* recordPages(store: Store, ids: string[]): AsyncGenerator<ExecutionRecord[]> {
  for (let i = 0; i < ids.length; i += PAGE) {
    const page = ids.slice(i, i + PAGE);
    const byId = new Map((await store.executions.find({ id: { $in: page } })).map((r) => [r.id, r]));
    yield page.flatMap((id) => byId.get(id) ?? []);
  }
}
