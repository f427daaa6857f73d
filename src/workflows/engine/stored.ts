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
 * - task records (`kind: task`), written after the head: one per task execution
 *   (`<id>/t/<key>`, written before batches existed) or a batch of them (`<id>/b/<rev>`, the tasks
 *   one write put apart). A task still under way (its child not finished) changes again soon:
 *   while each step changes it, it rides in the head only; once a step leaves it unchanged or it
 *   is settled it is due apart, and still rides in the head until TASK_BATCH tasks are due or they
 *   weigh over TASK_RIDE_CHARS: then all of them go in one batch. A sequential workflow's tasks so
 *   cost one write per TASK_BATCH tasks, not one each (the head was written at each step anyway).
 *   The record of the highest revision wins for a task, and the head over any of an older one.
 *
 * - Orquesta's task sequence (an entry per task run, the bulk of the head as the workflow grows):
 *   all but its last entries in records of SEQ_CHUNK entries (`<id>/q/<n>`, `kind: seq`), each
 *   written once, before the head that counts it (`seq_apart`: how many entries are in them); an
 *   entry changed after its record was written rides in the head (`seq_over`, by index).
 *
 * A head stored before this format (spec and every task inside it) reads as it always did and is
 * written in this format at its next step. `execution_id` is unique in the collection: the spec
 * and task records carry their own id there, and are found (and removed with the workflow, see
 * `stateRecordsOf`) by the range of ids under the workflow execution's id.
 */
import type { Store, WorkflowStateRecord } from '../../store/index.js';
import { stateId, storedEntries, touchedEntries, type ConductorState } from '../orquesta/index.js';
import { LruMap } from '../../lru-map.js';

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
  /** Orquesta: how many sequence entries are stored in records apart. */
  seq_apart?: number;
};

/** A task record: one task (`n`, `task`) or a batch of them (`tasks`), as written at revision `rev`. */
interface TaskDoc<T> {
  id: string;
  execution_id: string;
  kind: 'task';
  status: 'task';
  state: { rev: number } & ({ n: number; task: T } | { tasks: Array<{ n: number; task: T }> });
}

/**
 * Tasks due apart that ride in the head until this many are due: then one batch record. Each task
 * riding makes every head until its batch larger: a sequential workflow's state writes alone
 * (bench/README, w/orq11) cost less CPU per step with 4 than with 16, and less with either than
 * with a record per task.
 */
export const TASK_BATCH = 4;
/**
 * ...or until they weigh this many characters of text (roughly: strings, keys and numbers): a task
 * with a large result does not make the next heads larger; it goes apart with those before it.
 */
export const TASK_RIDE_CHARS = 4096;

/** About how many characters `value` takes as JSON, counted up to just past `limit` only. */
function weighUpTo(value: unknown, limit: number): number {
  let chars = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && chars <= limit) {
    const v = stack.pop();
    if (typeof v === 'string') chars += v.length + 2;
    else if (v === null || typeof v !== 'object') chars += 5;
    else if (Array.isArray(v)) {
      chars += 2 + v.length;
      for (const x of v) stack.push(x);
    } else
      for (const k in v as Record<string, unknown>) {
        chars += k.length + 4;
        stack.push((v as Record<string, unknown>)[k]);
      }
  }
  return chars;
}

/**
 * What a process keeps between steps: specs by execution, and the task list of the last write (of
 * the last 1,000 workflow executions used).
 */
export class StateCache<T extends StoredTask> {
  readonly specs = new LruMap<string, unknown>(1000);
  /**
   * `carried`: the tasks the head of `rev` carries that have no record of that revision; `seq`:
   * the sequence entries stored apart, as conducted and as their records hold them (JSON);
   * `index`: Orquesta's index of the last entry of each task and route, as conducted.
   */
  readonly tasks = new LruMap<
    string,
    { rev: number; tasks: T[]; carried: T[]; seq?: SeqApart; index?: Record<string, number> }
  >(1000);
}

/**
 * Sequence entries stored apart: the entries (as conducted), each entry's JSON as its record holds
 * it, and the indexes of those that differ from their record (they ride in the head's `seq_over`).
 */
interface SeqApart {
  entries: unknown[];
  json: string[];
  over: Set<number>;
}

/** Sequence entries per record; the last SEQ_KEEP or more entries stay in the head. */
export const SEQ_CHUNK = 16;
const SEQ_KEEP = 4;

const specId = (id: string) => `${id}/spec`;
const seqId = (id: string, n: number) => `${id}/q/${String(n).padStart(6, '0')}`;
const batchId = (id: string, rev: number) => `${id}/b/${String(rev).padStart(9, '0')}`;

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
      if (spec !== undefined) cache?.specs.set(id, spec);
    }
    conductor.spec = spec;
  }
  const changed = head.state.changed ?? [];
  delete head.state.changed;
  const cached = cache?.tasks.get(id);
  cache?.tasks.delete(id);
  const seqApart = head.seq_apart ?? 0;
  if (seqApart > 0 && conductor) {
    const c = conductor as { sequence: unknown[]; seq_over?: Record<string, unknown> };
    let apart: Omit<SeqApart, 'over'> | undefined =
      cached && cached.rev === head.rev ? cached.seq : undefined;
    if (!apart || apart.entries.length < seqApart) {
      const docs = (await store.workflows.find({
        ...stateRecordsOf(id),
        kind: 'seq',
      })) as unknown as Array<{ id: string; state: { entries: unknown[] } }>;
      // Records past seqApart were written by a step that died before its head: not counted.
      docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const counted = docs.slice(0, seqApart / SEQ_CHUNK).flatMap((d) => d.state.entries);
      apart = { entries: counted, json: counted.map((e) => JSON.stringify(e)) };
    }
    const frozen = apart.entries.slice(0, seqApart);
    const over = new Set<number>();
    for (const [n, entry] of Object.entries(c.seq_over ?? {})) {
      frozen[Number(n)] = entry;
      over.add(Number(n));
    }
    delete c.seq_over;
    c.sequence = [...frozen, ...c.sequence];
    seqStored.set(head.state, { entries: frozen, json: apart.json.slice(0, seqApart), over });
  }
  // Orquesta's index of the last entry of each task and route is not stored: rebuilt from the sequence.
  // The index the last write of this process left, when it wrote this revision, is handed over.
  if (head.seq_apart !== undefined && conductor) {
    const c = conductor as { sequence: Array<{ id: string; route: number }>; tasks?: Record<string, number> };
    let index = cached && cached.rev === head.rev ? cached.index : undefined;
    if (!index) {
      index = {};
      for (let n = 0; n < c.sequence.length; n++) index[stateId(c.sequence[n].id, c.sequence[n].route)] = n;
    }
    c.tasks = index;
  }
  if (head.tasks_apart) {
    if (cached && cached.rev === head.rev) {
      head.state.tasks = cached.tasks;
      if (cached.carried.length > 0) pending.set(head.state, cached.carried);
    } else {
      const docs = (await store.workflows.find({
        ...stateRecordsOf(id),
        kind: 'task',
      })) as unknown as Array<TaskDoc<T>>;
      const tasks: T[] = [];
      const stored = new Map<number, number>();
      for (const { state: d } of docs) {
        for (const { n, task } of 'tasks' in d ? d.tasks : [d]) {
          if ((stored.get(n) ?? -1) >= d.rev) continue;
          stored.set(n, d.rev);
          tasks[n] = task;
        }
      }
      for (const { n, task } of changed) tasks[n] = task;
      head.state.tasks = Array.from(tasks).filter((t) => t !== undefined);
      // Those of the last write without a record of its revision (still under way, riding until
      // their batch, or lost in a crash) ride on, or are written, at the next.
      const unwritten = changed.filter(({ n }) => (stored.get(n) ?? -1) < head.rev).map(({ task }) => task);
      if (unwritten.length > 0) pending.set(head.state, unwritten);
    }
  } else if (head.state.tasks.length > 0) {
    pending.set(head.state, head.state.tasks); // stored before this format: all written apart next
  }
  return head;
}

/**
 * The record this process wrote last for a workflow, as the step after it conducts it, for a
 * caller that knows no other step has run since (it kept the workflow's lease since): no read. The
 * tasks cached for that write go with it, as readState hands them over. Null when the cache no
 * longer holds them (a read since took them): the caller reads.
 */
export function resumeState<T extends StoredTask, R extends Hydrated<T>>(
  record: R,
  cache: StateCache<T>,
): R | null {
  const cached = cache.tasks.get(record.execution_id);
  cache.tasks.delete(record.execution_id);
  if (!cached || cached.rev !== record.rev || cached.tasks !== record.state.tasks) return null;
  if (cached.carried.length > 0) pending.set(record.state, cached.carried);
  return record;
}

/** Tasks a read found in the head only (their own record lost in a crash), by state. */
const pending = new WeakMap<object, StoredTask[]>();

/** The sequence entries the head read counts as stored apart, by state. */
const seqStored = new WeakMap<object, SeqApart>();

/**
 * Writes a step: the head (without the spec and tasks, with the tasks it changed and those the
 * last head carried without a record), then, once TASK_BATCH of them are due or they weigh over
 * TASK_RIDE_CHARS, one batch record of those tasks, except the ones this step changed that are not
 * `settled` (they ride in the head until a step leaves them unchanged).
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
  // From the end, where a step's tasks are: not a walk over every task of a long workflow.
  for (let n = state.tasks.length - 1; n >= 0 && index.size < dirty.size; n--) {
    const t = state.tasks[n] as T;
    if (dirty.has(t) && !index.has(t)) index.set(t, n);
  }
  const entries = [...dirty].filter((t) => index.has(t)).map((t) => ({ n: index.get(t) as number, task: t }));
  const settled = options.settled ?? (() => true);
  const changing = entries.filter(({ task }) => now.has(task) && !settled(task));
  const due = entries.filter(({ task }) => !now.has(task) || settled(task));
  let weight = 0;
  for (const { task } of due) if ((weight += weighUpTo(task, TASK_RIDE_CHARS)) > TASK_RIDE_CHARS) break;
  const batch = due.length >= TASK_BATCH || weight > TASK_RIDE_CHARS ? due : [];
  // What the head carries without a record of this revision.
  const carried = batch.length > 0 ? changing : entries;
  const conductor = state.conductor as { spec?: unknown } | undefined;
  const orquesta = record.kind === 'orquesta' && conductor?.spec !== undefined;
  const { spec, ...rest } = (conductor ?? {}) as { spec?: unknown; sequence?: Array<{ result?: unknown }> };
  // The sequence: entries before `apart` are in records (each written once); those changed since
  // ride in the head, as do the last entries.
  let seq: SeqApart | undefined;
  let seqOver: Record<string, unknown> | undefined;
  let conducted: number[] = [];
  const newChunks: Array<{ n: number; entries: unknown[] }> = [];
  if (orquesta && Array.isArray(rest.sequence)) {
    const all = rest.sequence;
    const stored = seqStored.get(state);
    const kept = stored && stored.json.length <= all.length ? stored.json.length : 0;
    const apart = Math.max(kept, Math.floor((all.length - SEQ_KEEP) / SEQ_CHUNK) * SEQ_CHUNK);
    const json = kept > 0 && stored ? stored.json.slice() : [];
    const over = new Set(kept > 0 && stored ? stored.over : []);
    // Orquesta's task entries keep each task's result, which nothing reads back (transitions are
    // evaluated when the result arrives; task() reads the task records): not stored, and dropped
    // from the entries once they are (an entry read from the store has none either). Of the
    // entries in records, only those the conductor touched since the last write can have changed
    // (or have a result): each is compared with its record, and rides in the head while it differs.
    conducted = [...touchedEntries(conductor as ConductorState)];
    for (const i of conducted) {
      if (i >= kept) continue;
      const e = all[i] as { result?: unknown };
      if (e.result !== undefined) delete e.result;
      if (JSON.stringify(e) === json[i]) over.delete(i);
      else over.add(i);
    }
    for (let i = kept; i < all.length; i++) if (all[i].result !== undefined) delete all[i].result;
    for (const i of [...over].sort((a, b) => a - b)) (seqOver ??= {})[i] = all[i];
    for (let n = kept; n < apart; n += SEQ_CHUNK) {
      const chunk = all.slice(n, n + SEQ_CHUNK);
      newChunks.push({ n: n / SEQ_CHUNK, entries: chunk });
      for (const e of chunk) json.push(JSON.stringify(e));
    }
    rest.sequence = all.slice(apart);
    delete (rest as { tasks?: unknown }).tasks;
    seq = { entries: all.slice(0, apart), json, over };
  }
  const head = {
    ...record,
    rev,
    ...(orquesta ? { spec_apart: true } : {}),
    ...(seq ? { seq_apart: seq.entries.length } : {}),
    tasks_apart: true,
    state: {
      ...state,
      tasks: [],
      changed: entries,
      conductor: orquesta ? { ...rest, ...(seqOver ? { seq_over: seqOver } : {}) } : conductor,
    },
  };
  if (orquesta && !record.spec_apart) {
    const doc = { id: specId(id), execution_id: specId(id), kind: 'spec', status: 'spec', state: spec };
    await store.workflows.replace(doc as never);
  }
  // Before the head that counts them: a crash in between leaves records no head counts yet.
  for (const { n, entries: chunk } of newChunks) {
    const doc = {
      id: seqId(id, n),
      execution_id: seqId(id, n),
      kind: 'seq',
      status: 'seq',
      state: { entries: chunk },
    };
    await store.workflows.replace(doc as never);
  }
  await (options.first ? store.workflows.insert(head as never) : store.workflows.replace(head as never));
  if (batch.length > 0) {
    const doc: TaskDoc<T> = {
      id: batchId(id, rev),
      execution_id: batchId(id, rev),
      kind: 'task',
      status: 'task',
      state: { rev, tasks: batch.map(({ n, task }) => ({ n, task })) },
    };
    await store.workflows.replace(doc as never);
  }
  pending.delete(state);
  if (orquesta) storedEntries(conductor as ConductorState, conducted);
  if (seq) {
    seqStored.set(state, seq);
    (record as { seq_apart?: number }).seq_apart = seq.entries.length;
  }
  record.rev = rev;
  if (orquesta) record.spec_apart = true;
  record.tasks_apart = true;
  if (orquesta) options.cache?.specs.set(id, spec);
  options.cache?.tasks.set(id, {
    rev,
    tasks: state.tasks,
    carried: carried.map(({ task }) => task),
    ...(seq ? { seq, index: (conductor as ConductorState).tasks } : {}),
  });
}
