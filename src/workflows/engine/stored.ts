/**
 * How a workflow's state is stored, so that a transition writes what it changed and not the
 * whole workflow again:
 *
 * - the head record (id = the workflow execution's id, `kind` orquesta or action-chain): the
 *   conductor state without the Orquesta spec (nor the results its task entries keep, which are
 *   the task records'), the outbox, and `state.changed`, the task records this step changed
 *   (written whole in the head, so a crash before their own records is harmless; inside the opaque
 *   `state`, as FerretDB stores no nested arrays);
 * - the spec, once per execution (`<id>/spec`, `kind: spec`), read once per process;
 * - one record per task execution (`<id>/t/<key>`, `kind: task`), written after the head. A task
 *   still under way (its child not finished) changes again soon: while each step changes it, it
 *   rides in the head only, and gets a record of its own at the first step that does not (or
 *   once it is settled). A sequential workflow's task is so written once, not twice: the head
 *   carries it while its child runs, its record is written when its completion is applied.
 *   The head wins over a task record of an older revision.
 *
 * A head stored before this format (spec and every task inside it) reads as it always did and is
 * written in this format at its next step. `execution_id` is unique in the collection: the spec
 * and task records carry their own id there, and are found (and removed with the workflow, see
 * `stateRecordsOf`) by the range of ids under the workflow execution's id.
 */
import type { Store, WorkflowStateRecord } from '../../store/index.js';

/** The kinds of head records (what the sweep and the lookups by execution_id ask for). */
export const HEAD_KINDS = ['orquesta', 'action-chain'];

interface StoredTask {
  key: string;
}

interface HydratedState<T extends StoredTask> {
  tasks: T[];
  conductor: unknown;
  /** Stored heads only: the task records the write of this revision changed, by index in tasks. */
  changed?: Array<{ n: number; task: T }>;
}

export type Hydrated<T extends StoredTask> = WorkflowStateRecord & {
  state: HydratedState<T>;
  /** Revision of the head, one more at every write. */
  rev?: number;
  spec_apart?: boolean;
  tasks_apart?: boolean;
};

interface TaskDoc<T> {
  id: string;
  execution_id: string;
  kind: 'task';
  status: 'task';
  state: { rev: number; n: number; task: T };
}

/** What a process keeps between steps: specs by execution, and the task list of the last write. */
export class StateCache<T extends StoredTask> {
  readonly specs = new Map<string, unknown>();
  /** `carried`: the tasks the head of `rev` carries that have no record of that revision. */
  readonly tasks = new Map<string, { rev: number; tasks: T[]; carried: T[] }>();

  remember<V>(map: Map<string, V>, id: string, value: V): void {
    map.delete(id);
    if (map.size >= 1000) map.delete(map.keys().next().value as string);
    map.set(id, value);
  }
}

const specId = (id: string) => `${id}/spec`;
const taskId = (id: string, key: string) => `${id}/t/${key}`;

/** The filter of a workflow execution's spec and task records ('0' follows '/'). */
export function stateRecordsOf(executionId: string): Record<string, unknown> {
  return { id: { $gt: `${executionId}/`, $lt: `${executionId}0` } };
}

/**
 * The whole state of a workflow execution, as the engine conducts it: spec and task list in
 * place. The tasks cached for the head's revision are handed over (and taken out of the cache:
 * the step changes them in place, and a step that fails must not leave them there).
 */
export async function readState<T extends StoredTask>(
  store: Store,
  executionId: string,
  cache?: StateCache<T>,
): Promise<Hydrated<T> | null> {
  const head = ((await store.workflows.get(executionId)) ??
    (await store.workflows.findOne({
      execution_id: executionId,
      kind: { $in: HEAD_KINDS },
    }))) as (Hydrated<T> & { rev: number }) | null;
  if (!head) return null;
  const id = head.execution_id;
  const conductor = head.state.conductor as { spec?: unknown } | undefined;
  if (head.spec_apart && conductor) {
    let spec = cache?.specs.get(id);
    if (spec === undefined) {
      spec = (await store.workflows.get(specId(id)))?.state;
      if (spec !== undefined) cache?.remember(cache.specs, id, spec);
    }
    conductor.spec = spec;
  }
  const changed = head.state.changed ?? [];
  delete head.state.changed;
  if (head.tasks_apart) {
    const cached = cache?.tasks.get(id);
    cache?.tasks.delete(id);
    if (cached && cached.rev === head.rev) {
      head.state.tasks = cached.tasks;
      if (cached.carried.length > 0) pending.set(head.state, cached.carried);
    } else {
      const docs = (
        (await store.workflows.find({
          ...stateRecordsOf(id),
          kind: 'task',
        })) as unknown as Array<TaskDoc<T>>
      ).map((d) => d.state);
      const tasks: T[] = [];
      for (const d of docs) tasks[d.n] = d.task;
      for (const { n, task } of changed) tasks[n] = task;
      head.state.tasks = Array.from(tasks).filter((t) => t !== undefined);
      // Those of the last write whose own record is not written (still under way, or lost in a
      // crash) are written at the next.
      const stored = new Map(docs.map((d) => [d.n, d.rev]));
      const unwritten = changed.filter(({ n }) => (stored.get(n) ?? -1) < head.rev).map(({ task }) => task);
      if (unwritten.length > 0) pending.set(head.state, unwritten);
    }
  } else if (head.state.tasks.length > 0) {
    pending.set(head.state, head.state.tasks); // stored before this format: all written apart next
  }
  return head;
}

/** Tasks a read found in the head only (their own record lost in a crash), by state. */
const pending = new WeakMap<object, StoredTask[]>();

/**
 * Writes a step: the head (without the spec and tasks, with the tasks it changed and those the
 * last head carried without a record), then the records of those tasks, except the ones this step
 * changed that are not `settled` (they ride in the head until a step leaves them unchanged).
 * `first`: the workflow's first write, with its spec record before the head.
 */
export async function writeState<T extends StoredTask>(
  store: Store,
  record: Hydrated<T>,
  changed: Iterable<T>,
  options: { first?: boolean; cache?: StateCache<T>; settled?: (task: T) => boolean } = {},
): Promise<void> {
  const id = record.execution_id;
  const state = record.state;
  const rev = (record.rev ?? 0) + 1;
  const now = new Set<T>(changed);
  const dirty = new Set<T>([...((pending.get(state) as T[] | undefined) ?? []), ...now]);
  const index = new Map<T, number>();
  if (dirty.size > 0) state.tasks.forEach((t, n) => dirty.has(t) && index.set(t, n));
  const entries = [...dirty].filter((t) => index.has(t)).map((t) => ({ n: index.get(t) as number, task: t }));
  const settled = options.settled ?? (() => true);
  const carried = entries.filter(({ task }) => now.has(task) && !settled(task));
  const conductor = state.conductor as { spec?: unknown } | undefined;
  const orquesta = record.kind === 'orquesta' && conductor?.spec !== undefined;
  const { spec, ...rest } = (conductor ?? {}) as { spec?: unknown; sequence?: Array<{ result?: unknown }> };
  // Orquesta's task entries keep each task's result, which nothing reads back (transitions are
  // evaluated when the result arrives; task() reads the task records): not stored again and again.
  if (orquesta && Array.isArray(rest.sequence))
    rest.sequence = rest.sequence.map((e) => {
      if (e.result === undefined) return e;
      const { result: _, ...entry } = e;
      return entry;
    });
  const head = {
    ...record,
    rev,
    ...(orquesta ? { spec_apart: true } : {}),
    tasks_apart: true,
    state: { ...state, tasks: [], changed: entries, conductor: orquesta ? rest : conductor },
  };
  if (orquesta && !record.spec_apart) {
    const doc = { id: specId(id), execution_id: specId(id), kind: 'spec', status: 'spec', state: spec };
    await store.workflows.replace(doc as never);
  }
  await (options.first ? store.workflows.insert(head as never) : store.workflows.replace(head as never));
  for (const { n, task } of entries) {
    if (carried.some((c) => c.task === task)) continue;
    const doc: TaskDoc<T> = {
      id: taskId(id, task.key),
      execution_id: taskId(id, task.key),
      kind: 'task',
      status: 'task',
      state: { rev, n, task },
    };
    await store.workflows.replace(doc as never);
  }
  pending.delete(state);
  record.rev = rev;
  if (orquesta) record.spec_apart = true;
  record.tasks_apart = true;
  if (orquesta) options.cache?.remember(options.cache.specs, id, spec);
  options.cache?.remember(options.cache.tasks, id, {
    rev,
    tasks: state.tasks,
    carried: carried.map(({ task }) => task),
  });
}
