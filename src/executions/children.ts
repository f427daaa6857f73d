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
