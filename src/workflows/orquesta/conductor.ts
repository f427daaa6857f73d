/**
 * The Orquesta conductor as a pure, persistable state machine (st2-reference.md §6.1). It keeps
 * orquesta's bookkeeping (contexts, routes, task sequence, staging) in one plain JSON object:
 * the integrator persists `conductor.state` after every call and rebuilds with
 * `OrquestaConductor.fromState`. No timers, no I/O: delays come back as `delay` on requests.
 */
import { SquallError } from '../../errors.js';
import { evaluateExpression, type ExpressionScope } from '../expressions/index.js';
import { composeGraph, stateId, transitionId, type Edge, type WorkflowGraph } from './graph.js';
import { parseWorkflowSpec, type WorkflowSpec } from './spec.js';

export type WorkflowStatus =
  | 'null'
  | 'requested'
  | 'running'
  | 'pausing'
  | 'paused'
  | 'resuming'
  | 'canceling'
  | 'canceled'
  | 'succeeded'
  | 'failed'
  | 'timeout'
  | 'abandoned';

export const ACTIVE_STATUSES = [
  'requested',
  'scheduled',
  'delayed',
  'running',
  'resuming',
  'pausing',
  'canceling',
];
export const RUNNING_STATUSES = ['requested', 'scheduled', 'delayed', 'running', 'resuming', 'retrying'];
export const ABENDED_STATUSES = ['failed', 'timeout', 'abandoned'];
export const COMPLETED_STATUSES = ['succeeded', 'failed', 'timeout', 'abandoned', 'canceled'];
const ENGINE = new Set(['continue', 'fail', 'noop']);
const ACTIVE = new Set(ACTIVE_STATUSES);

export interface WorkflowError {
  type: string;
  message: string;
  task_id?: string;
  route?: number;
  task_transition_id?: string;
  result?: unknown;
}

export interface TaskEntry {
  id: string;
  route: number;
  ctxs: { in: number[]; out?: Record<string, number> };
  prev: Record<string, number>;
  next: Record<string, boolean>;
  status?: string;
  term?: boolean;
  retry?: { when?: string; count: number; delay?: number; tally: number };
  /** with-items: per-item status and result, in item order. */
  items?: Array<{ status: string; result?: unknown }>;
  result?: unknown;
}

export interface StagedTask {
  id: string;
  route: number;
  ctxs: { in: number[] };
  prev: Record<string, number>;
  ready: boolean;
  items?: Array<{ status: string }>;
  completed?: boolean;
  retry?: TaskEntry['retry'];
  run_on_fail?: boolean;
}

export interface ConductorState {
  version: 1;
  spec: WorkflowSpec;
  input: Record<string, unknown>;
  context: Record<string, unknown>;
  status: WorkflowStatus;
  contexts: Array<Record<string, unknown>>;
  routes: string[][];
  sequence: TaskEntry[];
  tasks: Record<string, number>;
  staged: StagedTask[];
  errors: WorkflowError[];
  output: Record<string, unknown> | null;
  reruns: number[][];
}

export interface TaskRequest {
  task_id: string;
  route: number;
  /** Action ref; null for an action-less task (complete it at once with status succeeded). */
  action: string | null;
  input: Record<string, unknown>;
  /** with-items: the item this request runs, and the item count / concurrency of the task. */
  item_id?: number;
  items_count?: number;
  concurrency?: number | null;
  /** Seconds to wait before running (task `delay`, or retry delay). */
  delay?: number;
}

export interface TaskCompletion {
  status: string;
  result?: unknown;
  /**
   * with-items: the item results the integrator has accumulated so far (orquesta's
   * `accumulated_result`); without it, the task result has one entry per item.
   */
  accumulated_result?: unknown[];
}

export interface RerunOptions {
  /** Task names (route 0) or {task_id, route}; empty: every failed terminal task. */
  tasks?: Array<string | { task_id: string; route?: number }>;
  /** Tasks whose with-items items are not reset (only failed items re-run). */
  noReset?: string[];
}

export interface ConductorOptions {
  /** Extra functions and lookups for expressions (st2kv, task(), decrypt). */
  scope?: Omit<ExpressionScope, 'ctx' | 'currentTask' | 'item'>;
  /**
   * fromState: the state is the caller's to hand over (freshly decoded, used by nobody else), so
   * it is conducted as is instead of copied first.
   */
  adopt?: boolean;
  /** The task graph of this state's spec, composed earlier (a spec never changes once stored). */
  graph?: WorkflowGraph;
}

/**
 * The sequence entries conducting may have changed in place, by index, per state, until the
 * integrator says it stored them (`storedEntries`): a store that keeps old entries in records apart
 * compares and rewrites these only, not every entry at every step. An index is noted whenever an
 * entry is looked up by task and route (every change to an existing entry goes through that lookup)
 * or changed by a walk over the sequence (resume, rerun): a noted entry may be unchanged.
 */
const touched = new WeakMap<ConductorState, Set<number>>();

/** The indexes of the sequence entries conducted since `storedEntries`, some maybe unchanged. */
export function touchedEntries(state: ConductorState): ReadonlySet<number> {
  return touched.get(state) ?? new Set();
}

/** These entries, as they are now, are stored: they are not noted as touched any more. */
export function storedEntries(state: ConductorState, indexes: Iterable<number>): void {
  const set = touched.get(state);
  if (set) for (const i of indexes) set.delete(i);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  return { ...a, ...b };
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class OrquestaConductor {
  readonly state: ConductorState;
  private readonly options: ConductorOptions;
  private graphCache?: WorkflowGraph;
  private depth = 0;

  private readonly touched: Set<number>;

  private constructor(state: ConductorState, options: ConductorOptions = {}) {
    this.state = state;
    this.options = options;
    let set = touched.get(state);
    if (!set) touched.set(state, (set = new Set()));
    this.touched = set;
  }

  /** Builds a conductor: renders input and vars into the initial context and stages start tasks. */
  static create(
    spec: WorkflowSpec | string | Record<string, unknown>,
    input: Record<string, unknown> = {},
    context: Record<string, unknown> = {},
    options: ConductorOptions = {},
  ): OrquestaConductor {
    const parsed = isNormalised(spec) ? spec : parseWorkflowSpec(spec as string | Record<string, unknown>);
    const c = new OrquestaConductor(
      {
        version: 1,
        spec: clone(parsed),
        input: clone(input),
        context: clone(context),
        status: 'null',
        contexts: [],
        routes: [],
        sequence: [],
        tasks: {},
        staged: [],
        errors: [],
        output: null,
        reruns: [],
      },
      options,
    );
    c.initialise();
    return c;
  }

  static fromState(state: ConductorState, options: ConductorOptions = {}): OrquestaConductor {
    if (!state || state.version !== 1 || !state.spec) {
      throw new SquallError('WORKFLOW_STATE_INVALID', 'Conductor state is missing or not version 1', {
        version: state?.version,
      });
    }
    const c = new OrquestaConductor(options.adopt ? state : clone(state), options);
    c.graphCache = options.graph;
    return c;
  }

  get graph(): WorkflowGraph {
    this.graphCache ??= composeGraph(this.state.spec);
    return this.graphCache;
  }

  get status(): WorkflowStatus {
    return this.state.status;
  }

  get errors(): WorkflowError[] {
    return this.state.errors;
  }

  get output(): Record<string, unknown> | null {
    return this.state.output;
  }

  /** `task__rN` for every task instance in the order they started (orquesta's sequence). */
  get taskSequence(): string[] {
    return this.state.sequence.map((e) => stateId(e.id, e.route));
  }

  private scope(ctx: Record<string, unknown>, extra: Partial<ExpressionScope> = {}): ExpressionScope {
    const route = extra.currentTask?.route;
    return {
      ...(this.options.scope ?? {}),
      ctx,
      taskStatus: (id: string) => {
        const e = (route !== undefined ? this.entry(id, route) : undefined) ?? this.lastEntry(id);
        return e?.status;
      },
      ...extra,
    };
  }

  private logError(message: string, details: Omit<WorkflowError, 'type' | 'message'> = {}): void {
    const entry: WorkflowError = { type: 'error', message };
    if (details.task_id !== undefined) entry.task_id = details.task_id;
    if (details.route !== undefined) entry.route = details.route;
    if (details.task_transition_id !== undefined) entry.task_transition_id = details.task_transition_id;
    if (details.result !== undefined && details.result !== null) entry.result = details.result;
    const dup = this.state.errors.some((e) => JSON.stringify(e) === JSON.stringify(entry));
    if (!dup) this.state.errors.push(entry);
  }

  private initialise(): void {
    const s = this.state;
    let ctx: Record<string, unknown> = clone(s.context);
    const errors: string[] = [];
    const rendered: Record<string, unknown> = {};
    for (const param of s.spec.input) {
      if (param.name in s.input) rendered[param.name] = s.input[param.name];
      else {
        try {
          rendered[param.name] = evaluateExpression(
            param.hasDefault ? param.default : null,
            this.scope(merge(ctx, rendered)),
          );
        } catch (err) {
          errors.push(errMessage(err));
        }
      }
    }
    ctx = merge(ctx, rendered);
    for (const v of s.spec.vars) {
      try {
        ctx[v.name] = evaluateExpression(v.value, this.scope(ctx));
      } catch (err) {
        errors.push(errMessage(err));
      }
    }
    if (errors.length > 0) {
      for (const e of errors) this.logError(e);
      s.status = 'failed';
      return;
    }
    s.contexts.push(ctx);
    s.routes.push([]);
    for (const root of this.graph.roots)
      s.staged.push({ id: root, route: 0, ctxs: { in: [0] }, prev: {}, ready: true });
  }

  // ---- lookups ---------------------------------------------------------------------------

  private entry(id: string, route: number): TaskEntry | undefined {
    const idx = this.state.tasks[stateId(id, route)];
    if (idx === undefined) return undefined;
    this.touched.add(idx);
    return this.state.sequence[idx];
  }

  private lastEntry(id: string): TaskEntry | undefined {
    for (let i = this.state.sequence.length - 1; i >= 0; i--)
      if (this.state.sequence[i].id === id) return this.state.sequence[i];
    return undefined;
  }

  private staged(id: string, route: number): StagedTask | undefined {
    return this.state.staged.find((t) => t.id === id && t.route === route);
  }

  private removeStaged(id: string, route: number): void {
    const st = this.staged(id, route);
    if (!st) return;
    if ((st.items ?? []).some((i) => ACTIVE_STATUSES.includes(i.status))) return;
    this.state.staged.splice(this.state.staged.indexOf(st), 1);
  }

  /**
   * The last entry of each task and route, in no particular order (every caller asks whether any
   * is so): by the index, not by a walk over the whole sequence at every task event.
   */
  private lastOccurrences(): TaskEntry[] {
    const { sequence, tasks } = this.state;
    const out: TaskEntry[] = [];
    for (const key in tasks) out.push(sequence[tasks[key]]);
    return out;
  }

  private hasActiveTasks(): boolean {
    const { sequence, tasks } = this.state;
    for (const key in tasks) {
      const status = sequence[tasks[key]].status;
      if (status !== undefined && ACTIVE.has(status)) return true;
    }
    return false;
  }

  /**
   * What afterTaskEvent asks of the last entries, in one walk over them (asked at every task event:
   * three walks of a long workflow's every task were most of a step's work that grew with its length).
   */
  private lastStatuses(): { active: boolean; canceling: boolean; pausing: boolean } {
    const { sequence, tasks } = this.state;
    let active = false;
    let canceling = false;
    let pausing = false;
    for (const key in tasks) {
      const status = sequence[tasks[key]].status;
      if (status === undefined) continue;
      if (ACTIVE.has(status)) active = true;
      if (status === 'canceling' || status === 'canceled') canceling = true;
      else if (status === 'pausing' || status === 'paused' || status === 'pending') pausing = true;
    }
    return { active, canceling, pausing };
  }

  private readyStaged(): StagedTask[] {
    return this.state.staged.filter((t) => t.ready && !t.completed);
  }

  private context(idxs: number[]): Record<string, unknown> {
    let ctx: Record<string, unknown> = {};
    for (const i of idxs) ctx = merge(ctx, this.state.contexts[i] ?? {});
    return ctx;
  }

  // ---- inbound criteria (joins) ----------------------------------------------------------

  private inboundStatus(taskId: string, route: number): 'satisfied' | 'wip' | 'not_satisfied' {
    const inbound = this.graph.inbound.get(taskId) ?? [];
    const evaluation = new Map<string, boolean | null>();
    for (const e of inbound) evaluation.set(e.src, null);
    const barrier = this.graph.barriers.get(taskId) ?? 1;
    const requirement = barrier === 'all' ? evaluation.size : barrier;
    for (const e of inbound) {
      const prev = this.entry(e.src, route);
      if (!prev) continue;
      const satisfied = prev.next[transitionId(e.dst, e.key)] === true;
      if (!evaluation.get(e.src)) evaluation.set(e.src, satisfied);
    }
    const values = [...evaluation.values()];
    if (values.filter((v) => v === true).length >= requirement) return 'satisfied';
    if (values.includes(null) && (this.hasActiveTasks() || this.readyStaged().length > 0)) return 'wip';
    return 'not_satisfied';
  }

  /** With evalJoinReady false, a transition into a join counts whether or not the join is ready. */
  private hasNextTasks(taskId: string, route: number, evalJoinReady = true): boolean {
    const entry = this.entry(taskId, route);
    if (!entry || !COMPLETED_STATUSES.includes(entry.status ?? '')) return false;
    for (const e of this.graph.out.get(taskId) ?? []) {
      if (e.dst === 'continue') continue;
      if (!entry.next[transitionId(e.dst, e.key)]) continue;
      if (
        evalJoinReady &&
        this.graph.barriers.has(e.dst) &&
        this.inboundStatus(e.dst, route) === 'not_satisfied'
      )
        continue;
      return true;
    }
    return false;
  }

  // ---- task state entries ----------------------------------------------------------------

  private addTaskState(id: string, route: number, ctxIn: number[], prev: Record<string, number>): TaskEntry {
    const entry: TaskEntry = { id, route, ctxs: { in: [...ctxIn] }, prev: { ...prev }, next: {} };
    const retry = this.graph.retries.get(id);
    if (retry) {
      const ctx = this.context(ctxIn);
      const num = (v: unknown, what: string): number => {
        const r = typeof v === 'string' ? evaluateExpression(v, this.scope(ctx)) : v;
        if (!Number.isInteger(r)) {
          throw new SquallError(
            'WORKFLOW_RETRY_INVALID',
            `The retry ${what} for task "${id}" is not an integer.`,
            { task_id: id, value: r },
          );
        }
        return r as number;
      };
      entry.retry = { count: num(retry.count, 'count'), tally: 0 };
      if (retry.when !== undefined) entry.retry.when = retry.when;
      if (retry.delay !== undefined) entry.retry.delay = num(retry.delay, 'delay');
    }
    this.state.sequence.push(entry);
    this.state.tasks[stateId(id, route)] = this.state.sequence.length - 1;
    return entry;
  }

  // ---- operations ------------------------------------------------------------------------

  /** Sets the workflow running and returns the start task requests. */
  start(): TaskRequest[] {
    if (this.state.status === 'failed') return [];
    if (this.state.status !== 'null' && this.state.status !== 'requested') {
      throw new SquallError(
        'WORKFLOW_ALREADY_STARTED',
        `Workflow cannot start: it is already ${this.state.status}`,
        { status: this.state.status },
      );
    }
    this.state.status = 'running';
    this.settleIfIdle();
    return this.takeNextTasks();
  }

  /** Pauses: `pausing` while tasks are in flight, then `paused`. */
  pause(): void {
    const s = this.state.status;
    if (s === 'paused' || s === 'pausing') return;
    if (!['running', 'resuming', 'requested', 'null'].includes(s)) {
      throw new SquallError('WORKFLOW_STATUS_TRANSITION', `Cannot pause a workflow that is ${s}`, {
        status: s,
      });
    }
    this.state.status = this.hasActiveTasks() ? 'pausing' : 'paused';
  }

  /** Resumes a paused/pausing workflow and returns the tasks to run. */
  resume(): TaskRequest[] {
    const s = this.state.status;
    if (s !== 'paused' && s !== 'pausing') {
      throw new SquallError('WORKFLOW_STATUS_TRANSITION', `Cannot resume a workflow that is ${s}`, {
        status: s,
      });
    }
    this.state.status = 'running';
    for (const i of Object.values(this.state.tasks)) {
      const e = this.state.sequence[i];
      if (e.status === 'paused' || e.status === 'pending') {
        e.status = 'running';
        this.touched.add(i);
      }
    }
    this.settleIfIdle();
    return this.takeNextTasks();
  }

  /**
   * A paused task of a paused (or pausing) workflow was resumed from below (a sub-workflow resumed
   * by itself): the workflow runs again, as st2's resume_workflow_execution requests `running`
   * before it records the task as running. Its other paused tasks stay paused.
   */
  resumeForTask(): void {
    if (this.state.status === 'paused' || this.state.status === 'pausing') this.state.status = 'running';
  }

  /** Cancels: no new tasks; `canceling` while tasks are in flight, then `canceled`. */
  cancel(): void {
    const s = this.state.status;
    if (s === 'canceled' || s === 'canceling') return;
    if (COMPLETED_STATUSES.includes(s)) {
      throw new SquallError('WORKFLOW_STATUS_TRANSITION', `Cannot cancel a workflow that is already ${s}`, {
        status: s,
      });
    }
    this.state.status = this.hasActiveTasks() ? 'canceling' : 'canceled';
    if (this.state.status === 'canceled') this.finish();
  }

  /** When nothing is running or staged (e.g. resume after the last task), complete the workflow. */
  private settleIfIdle(): void {
    if (this.hasActiveTasks() || this.readyStaged().length > 0) return;
    if (this.lastOccurrences().some((e) => e.status === 'paused' || e.status === 'pending')) return;
    if (this.state.status === 'running' || this.state.status === 'resuming') {
      this.state.status = 'succeeded';
      this.checkUnreachableJoins();
      this.finish();
    }
  }

  /**
   * Renders the staged, ready tasks into requests and marks them running (so a request is
   * returned once). Empty with-items tasks complete at once with an empty list.
   */
  takeNextTasks(): TaskRequest[] {
    const out: TaskRequest[] = [];
    for (;;) {
      const batch = this.takeOnce();
      out.push(...batch.requests);
      if (!batch.again) break;
    }
    return out.sort((a, b) =>
      a.task_id < b.task_id
        ? -1
        : a.task_id > b.task_id
          ? 1
          : a.route - b.route || (a.item_id ?? 0) - (b.item_id ?? 0),
    );
  }

  private takeOnce(): { requests: TaskRequest[]; again: boolean } {
    const s = this.state;
    let candidates = this.readyStaged().filter((t) => !ENGINE.has(t.id));
    if (s.status === 'failed') candidates = candidates.filter((t) => t.run_on_fail === true);
    else if (!RUNNING_STATUSES.includes(s.status)) return { requests: [], again: false };
    candidates = [...candidates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.route - b.route));
    const requests: TaskRequest[] = [];
    let failed = false;
    let again = false;
    const emptyItems: Array<{ id: string; route: number }> = [];
    const rendered: Array<{ staged: StagedTask; reqs: TaskRequest[] }> = [];
    for (const st of candidates) {
      try {
        const reqs = this.renderTask(st);
        if (reqs === 'empty') emptyItems.push({ id: st.id, route: st.route });
        else rendered.push({ staged: st, reqs });
      } catch (err) {
        failed = true;
        this.logError(errMessage(err), { task_id: st.id, route: st.route });
      }
    }
    if (failed) {
      if (s.status !== 'failed') s.status = 'failed';
      this.finishIfDormant();
      return { requests: [], again: false };
    }
    for (const { staged, reqs } of rendered) {
      if (reqs.length === 0) continue;
      this.markRunning(staged, reqs);
      requests.push(...reqs);
    }
    for (const t of emptyItems) {
      const st = this.staged(t.id, t.route) as StagedTask;
      st.items = [];
      this.markRunning(st, []);
      this.recordCompletion(t.id, t.route, { status: 'succeeded', result: [] });
      again = true;
    }
    return { requests, again };
  }

  private markRunning(st: StagedTask, reqs: TaskRequest[]): void {
    let entry = this.entry(st.id, st.route);
    if (
      !entry ||
      (entry.status !== undefined && entry.status !== 'retrying' && COMPLETED_STATUSES.includes(entry.status))
    ) {
      entry = this.addTaskState(st.id, st.route, st.ctxs.in, st.prev);
    }
    entry.status = 'running';
    if (st.items) {
      entry.items ??= st.items.map(() => ({ status: 'null' }));
      for (const r of reqs) {
        st.items[r.item_id as number] = { status: 'running' };
        entry.items[r.item_id as number] = { status: 'running' };
      }
    } else {
      this.removeStaged(st.id, st.route);
    }
  }

  private renderTask(st: StagedTask): TaskRequest[] | 'empty' {
    const spec = this.state.spec.tasks[st.id];
    const ctx = this.context(st.ctxs.in);
    const current = { id: st.id, route: st.route };
    const base = this.scope(ctx, { currentTask: current });
    let delay: number | undefined;
    if (spec.delay !== undefined) {
      const d = typeof spec.delay === 'string' ? evaluateExpression(spec.delay, base) : spec.delay;
      if (!Number.isInteger(d))
        throw new SquallError('WORKFLOW_DELAY_INVALID', 'The value of task delay is not type of integer.', {
          task_id: st.id,
          value: d,
        });
      delay = d as number;
    }
    if (st.retry) delay = st.retry.delay ?? 0;
    const render = (scope: ExpressionScope): { action: string | null; input: Record<string, unknown> } => {
      const action = spec.action === undefined ? null : evaluateExpression(spec.action, scope);
      const input = spec.input === undefined ? {} : evaluateExpression(spec.input, scope);
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        throw new SquallError(
          'WORKFLOW_TASK_INPUT_INVALID',
          `The input of task "${st.id}" did not render to a dict.`,
          { task_id: st.id, value: input },
        );
      }
      return { action: action === null ? null : String(action), input: input as Record<string, unknown> };
    };
    if (!spec.with) {
      const r = render(base);
      return [{ task_id: st.id, route: st.route, ...r, ...(delay !== undefined ? { delay } : {}) }];
    }
    const items = evaluateExpression(spec.with.expression, base);
    if (!Array.isArray(items)) {
      throw new SquallError(
        'WORKFLOW_ITEMS_INVALID',
        // orquesta's TypeError, which it logs as "TypeError: <message>".
        `TypeError: The value of "${spec.with.expression}" is not type of list.`,
        { task_id: st.id, value: items },
      );
    }
    let concurrency: number | null = null;
    if (spec.with.concurrency !== undefined) {
      const c =
        typeof spec.with.concurrency === 'string'
          ? evaluateExpression(spec.with.concurrency, base)
          : spec.with.concurrency;
      concurrency = c === null || c === undefined ? null : Number(c);
    }
    if (items.length === 0) return 'empty';
    st.items ??= items.map(() => ({ status: 'null' }));
    const entry = this.entry(st.id, st.route);
    const itemFailed =
      entry?.status === 'running' &&
      (entry.items ?? []).some((i) => ABENDED_STATUSES.includes(i.status) || i.status === 'canceled');
    if (itemFailed) return [];
    const active = st.items.filter((i) => ACTIVE_STATUSES.includes(i.status)).length;
    let notRun = st.items.map((i, idx) => (i.status === 'null' ? idx : -1)).filter((i) => i >= 0);
    if (concurrency !== null) notRun = notRun.slice(0, Math.max(0, concurrency - active));
    const keys = spec.with.keys;
    return notRun.map((idx) => {
      let item: unknown = items[idx];
      if (keys && Array.isArray(item))
        item = Object.fromEntries(keys.map((k, i) => [k, (item as unknown[])[i]]));
      else if (keys && keys.length === 1) item = { [keys[0]]: item };
      const r = render(this.scope(ctx, { currentTask: current, item: { value: item } }));
      return {
        task_id: st.id,
        route: st.route,
        ...r,
        item_id: idx,
        items_count: items.length,
        concurrency,
        ...(delay !== undefined ? { delay } : {}),
      };
    });
  }

  /**
   * Marks with-items items that were requested but not dispatched yet as not run again, as
   * orquesta-rehearse sees them (it runs one item at a time): a failed item then completes the
   * task without waiting for them. They are requested again by takeNextTasks.
   */
  deferItems(taskId: string, route: number, itemIds: number[]): void {
    const entry = this.entry(taskId, route);
    const st = this.staged(taskId, route);
    for (const i of itemIds) {
      if (entry?.items?.[i]?.status === 'running') entry.items[i] = { status: 'null' };
      if (st?.items?.[i]?.status === 'running') st.items[i] = { status: 'null' };
    }
  }

  /** Records a task (or with-items item) result and returns the next task requests. */
  onTaskCompleted(taskId: string, route: number, completion: TaskCompletion, itemId?: number): TaskRequest[] {
    this.recordCompletion(taskId, route, completion, itemId);
    return this.takeNextTasks();
  }

  /**
   * Records a result without scheduling; call takeNextTasks() afterwards. Statuses: succeeded,
   * failed, timeout, abandoned, canceled (completed) or pending/paused (the task waits, e.g. an
   * inquiry) or running.
   */
  recordCompletion(taskId: string, route: number, completion: TaskCompletion, itemId?: number): void {
    const entry = this.entry(taskId, route);
    if (!entry || !this.state.spec.tasks[taskId]) {
      throw new SquallError(
        'WORKFLOW_TASK_UNKNOWN',
        `Task "${taskId}" on route ${route} has not been requested in this workflow`,
        {
          task_id: taskId,
          route,
        },
      );
    }
    if (entry.status === undefined || !['running', 'pending', 'paused'].includes(entry.status)) {
      throw new SquallError(
        'WORKFLOW_TASK_NOT_RUNNING',
        `Task "${taskId}" on route ${route} is ${entry.status ?? 'not started'}, not running`,
        {
          task_id: taskId,
          route,
          status: entry.status,
        },
      );
    }
    const spec = this.state.spec.tasks[taskId];
    const status = completion.status;
    let taskStatus = status;
    let result: unknown = completion.result;
    const emptyItems = itemId === undefined && (entry.items?.length ?? 0) === 0;
    if (spec.with && !emptyItems) {
      if (itemId === undefined || !entry.items || itemId < 0 || itemId >= entry.items.length) {
        throw new SquallError(
          'WORKFLOW_ITEM_UNKNOWN',
          `Task "${taskId}" runs with items: item_id ${String(itemId)} is not one of its items`,
          {
            task_id: taskId,
            item_id: itemId,
          },
        );
      }
      entry.items[itemId] = { status, result: completion.result };
      const st = this.staged(taskId, route);
      if (st?.items) st.items[itemId] = { status };
      if (status === 'failed')
        this.logError('Execution failed. See result for details.', {
          task_id: taskId,
          result: completion.result,
        });
      const statuses = entry.items.map((i) => i.status);
      const active = statuses.some((x) => ACTIVE_STATUSES.includes(x));
      const anyAbended = statuses.some((x) => ABENDED_STATUSES.includes(x));
      const anyCanceled = statuses.some((x) => x === 'canceled');
      const anyNotRun = statuses.some((x) => x === 'null');
      if (active) taskStatus = 'running';
      else if (anyCanceled || (anyNotRun && ['canceling', 'canceled'].includes(this.state.status)))
        taskStatus = 'canceled';
      else if (anyAbended) taskStatus = 'failed';
      else if (anyNotRun && ['pausing', 'paused'].includes(this.state.status)) taskStatus = 'paused';
      else if (anyNotRun) taskStatus = 'running';
      else taskStatus = 'succeeded';
      result =
        completion.accumulated_result ?? entry.items.map((i) => (i.result === undefined ? null : i.result));
      if (taskStatus === 'running' || taskStatus === 'paused') {
        entry.status = taskStatus;
        entry.result = result;
        this.afterTaskEvent(entry, taskStatus);
        return;
      }
    } else if (status === 'failed') {
      this.logError('Execution failed. See result for details.', {
        task_id: taskId,
        result: completion.result,
      });
    }
    this.applyTaskStatus(entry, taskStatus, result);
  }

  private applyTaskStatus(entry: TaskEntry, status: string, result: unknown): void {
    // Output is rendered once the outermost task event (and the engine commands it queued) is done.
    this.depth += 1;
    try {
      this.applyTaskStatusInner(entry, status, result);
    } finally {
      this.depth -= 1;
    }
    if (this.depth === 0 && COMPLETED_STATUSES.includes(this.state.status)) this.finishIfDormant();
  }

  private applyTaskStatusInner(entry: TaskEntry, status: string, result: unknown): void {
    const { id, route } = entry;
    const spec = this.state.spec.tasks[id];
    const old = entry.status;
    entry.status = status;
    entry.result = result;
    const engineQueue: Array<{ id: string; route: number }> = [];
    if (COMPLETED_STATUSES.includes(status)) {
      if (!(spec?.with && ABENDED_STATUSES.includes(status))) this.removeStaged(id, route);
      else {
        const st = this.staged(id, route);
        if (st) st.completed = true;
      }
      const ctx = this.context(entry.ctxs.in);
      const scope = this.scope(ctx, { currentTask: { id, route, result, status } });
      if (
        entry.retry &&
        ['running', 'pausing', 'resuming', 'canceling'].includes(this.state.status) &&
        this.shouldRetry(entry, status, scope)
      ) {
        entry.status = 'retrying';
        entry.retry.tally += 1;
        this.removeStaged(id, route);
        const st: StagedTask = {
          id,
          route,
          ctxs: { in: [...entry.ctxs.in] },
          prev: { ...entry.prev },
          ready: true,
          retry: { ...entry.retry },
        };
        this.state.staged.push(st);
        this.afterTaskEvent(entry, 'retrying');
        return;
      }
    }
    if (COMPLETED_STATUSES.includes(status) && status !== old) {
      const edges = this.graph.out.get(id) ?? [];
      if (edges.length === 0) entry.term = true;
      let manualFail = false;
      const readyNext: StagedTask[] = [];
      const ctx = this.context(entry.ctxs.in);
      for (const edge of edges) {
        const tid = transitionId(edge.dst, edge.key);
        const scope = this.scope(ctx, { currentTask: { id, route, result, status } });
        try {
          entry.next[tid] = edge.criteria.every((c) => Boolean(evaluateExpression(c, scope)));
        } catch (err) {
          this.logError(errMessage(err), { task_id: id, route, task_transition_id: tid });
          this.failWorkflow();
          continue;
        }
        if (!entry.next[tid]) continue;
        const { published, errors } = this.publish(entry, edge, ctx, scope);
        if (errors.length > 0) {
          for (const err of errors)
            this.logError(errMessage(err), { task_id: id, route, task_transition_id: tid });
          this.failWorkflow();
          continue;
        }
        const outIdxs = [...entry.ctxs.in];
        if (published) {
          this.state.contexts.push(published);
          const idx = this.state.contexts.length - 1;
          outIdxs.push(idx);
          entry.ctxs.out = { [tid]: idx };
        }
        const nextRoute = this.evaluateRoute(edge, route);
        const backref = transitionId(id, edge.key);
        const selfIdx = this.state.tasks[stateId(id, route)];
        let next = this.staged(edge.dst, nextRoute);
        if (next) {
          next.ctxs.in.push(...outIdxs.filter((i) => i !== 0));
          next.prev[backref] = selfIdx;
          delete next.items;
          delete next.completed;
        } else {
          next = {
            id: edge.dst,
            route: nextRoute,
            ctxs: { in: outIdxs },
            prev: { [backref]: selfIdx },
            ready: false,
          };
          this.state.staged.push(next);
        }
        next.ready = this.inboundStatus(edge.dst, route) === 'satisfied';
        if (ENGINE.has(edge.dst)) {
          engineQueue.push({ id: next.id, route: next.route });
          manualFail ||= edge.dst === 'fail';
        } else if (next.ready) readyNext.push(next);
      }
      if (manualFail) for (const n of readyNext) n.run_on_fail = true;
    }
    this.afterTaskEvent(entry, entry.status as string);
    for (const cmd of engineQueue) this.runEngineCommand(cmd.id, cmd.route);
    if (COMPLETED_STATUSES.includes(this.state.status)) entry.term = true;
  }

  private shouldRetry(entry: TaskEntry, status: string, scope: ExpressionScope): boolean {
    const r = entry.retry as NonNullable<TaskEntry['retry']>;
    if (r.tally >= r.count) return false;
    if (ABENDED_STATUSES.includes(status) && r.when === undefined) return true;
    if (r.when === undefined) return false;
    return Boolean(evaluateExpression(r.when, scope));
  }

  private publish(
    entry: TaskEntry,
    edge: Edge,
    ctx: Record<string, unknown>,
    scope: ExpressionScope,
  ): { published: Record<string, unknown> | null; errors: unknown[] } {
    const spec = this.state.spec.tasks[entry.id];
    const tr = spec.next[edge.ref];
    if (!tr || !tr.do.includes(edge.dst) || tr.publish.length === 0) return { published: null, errors: [] };
    const rolling = { ...ctx };
    const out: Record<string, unknown> = {};
    // As orquesta, every variable is tried and every failure reported, not just the first.
    const errors: unknown[] = [];
    for (const p of tr.publish) {
      try {
        const v = evaluateExpression(p.value, { ...scope, ctx: rolling });
        rolling[p.name] = v;
        out[p.name] = v;
      } catch (err) {
        errors.push(err);
      }
    }
    return { published: out, errors };
  }

  private evaluateRoute(edge: Edge, prevRoute: number): number {
    if (!this.graph.splits.has(edge.dst) || this.graph.cycles.has(edge.dst)) return prevRoute;
    const old = this.state.routes[prevRoute] ?? [];
    const tid = transitionId(edge.src, edge.key);
    if (old.includes(tid)) return prevRoute;
    this.state.routes.push([...old, tid]);
    return this.state.routes.length - 1;
  }

  private runEngineCommand(id: string, route: number): void {
    const st = this.staged(id, route);
    if (!st) return;
    const entry = this.addTaskState(id, route, st.ctxs.in, st.prev);
    this.state.staged.splice(this.state.staged.indexOf(st), 1);
    const status = id === 'fail' ? 'failed' : 'succeeded';
    if (status === 'failed') this.logError('Execution failed. See result for details.', { task_id: id });
    this.applyTaskStatus(entry, status, null);
  }

  private failWorkflow(): void {
    if (['canceling', 'canceled'].includes(this.state.status)) return;
    this.state.status = 'failed';
  }

  /** The workflow status machine's reaction to a task reaching `status` (orquesta machines.py). */
  private afterTaskEvent(entry: TaskEntry, status: string): void {
    const s = this.state;
    const wf = s.status;
    if (COMPLETED_STATUSES.includes(wf) && wf !== 'succeeded') {
      if (COMPLETED_STATUSES.includes(status)) entry.term = true;
      if (this.depth === 0) this.finishIfDormant();
      return;
    }
    const { active, canceling, pausing } = this.lastStatuses();
    let event = status;
    if (ABENDED_STATUSES.includes(status))
      event =
        this.hasNextTasks(entry.id, entry.route) || this.hasNextTasks(entry.id, entry.route, false)
          ? 'remediated'
          : 'failed';
    let next: WorkflowStatus = wf;
    if (event === 'failed') {
      next = wf === 'canceling' ? (active ? 'canceling' : 'canceled') : 'failed';
    } else if (event === 'canceled') {
      next = active ? 'canceling' : 'canceled';
    } else if (event === 'pending' || event === 'paused') {
      if (wf === 'running' || wf === 'resuming' || wf === 'pausing')
        next = active ? (event === 'pending' ? 'pausing' : wf) : 'paused';
      if (wf === 'canceling') next = active ? 'canceling' : 'canceled';
    } else if (event === 'succeeded' || event === 'remediated') {
      const incomplete = this.readyStaged().length > 0 || this.hasNextTasks(entry.id, entry.route);
      if (wf === 'canceling') next = active ? 'canceling' : 'canceled';
      else if (wf === 'pausing') next = active ? 'pausing' : 'paused';
      else if (wf === 'running' || wf === 'resuming') {
        if (canceling) next = active ? 'canceling' : 'canceled';
        else if (pausing) next = active ? 'pausing' : 'paused';
        else if (incomplete || active) next = 'running';
        else next = 'succeeded';
      }
    } else if (event === 'retrying') {
      if (wf === 'pausing') next = active ? 'pausing' : 'paused';
      if (wf === 'canceling') next = active ? 'canceling' : 'canceled';
    } else if (event === 'running') {
      if (wf === 'pausing' && !active) next = 'paused';
      if (wf === 'canceling' && !active) next = 'canceled';
    }
    s.status = next;
    if (COMPLETED_STATUSES.includes(s.status)) {
      entry.term = true;
      this.checkUnreachableJoins();
      if (this.depth === 0) this.finishIfDormant();
    }
  }

  private checkUnreachableJoins(): void {
    const unreachable = this.state.staged.filter(
      (t) =>
        this.graph.barriers.has(t.id) && !t.ready && this.inboundStatus(t.id, t.route) === 'not_satisfied',
    );
    if (unreachable.length === 0) return;
    this.state.status = 'failed';
    for (const t of unreachable) {
      this.logError(
        `UnreachableJoinError: The join task|route "${t.id}|${t.route}" is partially satisfied but unreachable.`,
        {
          task_id: t.id,
          route: t.route,
        },
      );
    }
  }

  /** Output is rendered once nothing is in flight any more (fail-fast lets branches finish). */
  private finishIfDormant(): void {
    if (!this.hasActiveTasks()) this.finish();
  }

  private finish(): void {
    if (!COMPLETED_STATUSES.includes(this.state.status) || this.state.output) return;
    const ctx = { ...this.terminalContext() };
    const out: Record<string, unknown> = {};
    const rolling = { ...ctx };
    const errors: string[] = [];
    for (const o of this.state.spec.output) {
      try {
        const v = evaluateExpression(o.value, this.scope(rolling));
        rolling[o.name] = v;
        out[o.name] = v;
      } catch (err) {
        errors.push(errMessage(err));
      }
    }
    if (Object.keys(out).length > 0) this.state.output = out;
    if (errors.length > 0) {
      for (const e of errors) this.logError(e);
      if (!['timeout', 'abandoned', 'canceled'].includes(this.state.status)) this.state.status = 'failed';
    }
  }

  /** The context the workflow ended with: the terminal tasks' contexts merged in sequence order. */
  terminalContext(): Record<string, unknown> {
    const terms = this.state.sequence.filter((e) => e.term);
    // As orquesta: with no terminal task (the start task failed to render) the context is empty.
    if (terms.length === 0) return {};
    let ctx = this.context(terms[0].ctxs.in);
    for (const t of terms.slice(1)) ctx = merge(ctx, this.context(t.ctxs.in.filter((i) => i !== 0)));
    return ctx;
  }

  // ---- re-run ----------------------------------------------------------------------------

  private taskSequenceFrom(id: string, route: number): number[] {
    const start = this.state.tasks[stateId(id, route)];
    const seen = new Set<number>([start]);
    const queue = [start];
    while (queue.length > 0) {
      const cur = this.state.sequence[queue.shift() as number];
      this.state.sequence.forEach((t, i) => {
        if (seen.has(i)) return;
        for (const p of Object.values(t.prev)) {
          const pe = this.state.sequence[p];
          if (pe && pe.id === cur.id && pe.route === cur.route) {
            seen.add(i);
            queue.push(i);
            break;
          }
        }
      });
    }
    return [...seen];
  }

  /**
   * Re-runs a completed workflow from the given tasks, reusing its state (st2 `execution re-run
   * --tasks … [--no-reset …]`). Returns the task requests to run.
   */
  rerun(options: RerunOptions = {}): TaskRequest[] {
    const s = this.state;
    if (!COMPLETED_STATUSES.includes(s.status)) {
      throw new SquallError(
        'WORKFLOW_RERUN_ACTIVE',
        'Unable to rerun workflow because it is not in a completed state.',
        { status: s.status },
      );
    }
    const requested = new Map<string, { task_id: string; route: number; reset_items: boolean }>();
    for (const t of options.tasks ?? []) {
      const r =
        typeof t === 'string' ? { task_id: t, route: 0 } : { task_id: t.task_id, route: t.route ?? 0 };
      requested.set(stateId(r.task_id, r.route), {
        ...r,
        reset_items: !(options.noReset ?? []).includes(r.task_id),
      });
    }
    const invalid = [...requested.keys()].filter((k) => !(k in s.tasks));
    if (invalid.length > 0) {
      throw new SquallError(
        'WORKFLOW_RERUN_INVALID_TASK',
        `Unable to rerun task|route(s) because it doesn't exist or isn't rerunnable: ${invalid.map((k) => k.replace('__r', '|')).join(', ')}`,
        { tasks: invalid },
      );
    }
    let candidates: Array<{ id: string; route: number; reset: boolean }>;
    if (requested.size === 0) {
      candidates = s.sequence
        .filter((e) => e.term && ABENDED_STATUSES.includes(e.status ?? ''))
        .map((e) => ({ id: e.id, route: e.route, reset: false }));
    } else {
      const seqs = new Map([...requested].map(([k, r]) => [k, this.taskSequenceFrom(r.task_id, r.route)]));
      candidates = [...requested]
        .filter(([k]) => {
          // Drop a request that lies downstream of another requested task.
          const own = s.tasks[k];
          return ![...seqs].some(([other, seq]) => other !== k && seq.includes(own));
        })
        .map(([, r]) => ({ id: r.task_id, route: r.route, reset: r.reset_items }));
    }
    s.reruns.push(candidates.map((c) => s.tasks[stateId(c.id, c.route)]));
    candidates.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.route - b.route));
    for (const c of candidates) this.requestTaskRerun(c.id, c.route, c.reset);
    s.sequence.forEach((e, i) => {
      if (e.term && Object.values(e.next).some(Boolean)) {
        delete e.term;
        this.touched.add(i);
      }
    });
    s.output = null;
    s.status = 'resuming';
    return this.takeNextTasks();
  }

  private requestTaskRerun(id: string, route: number, resetItems: boolean): void {
    const s = this.state;
    const task = this.entry(id, route) as TaskEntry;
    delete task.term;
    s.errors = s.errors.filter((e) => e.task_id !== id);
    const spec = s.spec.tasks[id];
    const st = this.staged(id, route);
    if (st) delete st.completed;
    if (spec?.with && st?.items) {
      st.items = st.items.map((i) =>
        resetItems || ABENDED_STATUSES.includes(i.status) || i.status === 'canceled' ? { status: 'null' } : i,
      );
      st.ready = true;
      task.status = 'running';
      task.items = (task.items ?? []).map((i, idx) =>
        st.items?.[idx].status === 'null' ? { status: 'null' } : i,
      );
    } else {
      const ctxIn = [...task.ctxs.in];
      const prev = { ...task.prev };
      this.addTaskState(id, route, ctxIn, prev);
      s.staged.push({ id, route, ctxs: { in: ctxIn }, prev, ready: true });
    }
    for (const i of this.taskSequenceFrom(id, route)) {
      delete s.sequence[i].term;
      this.touched.add(i);
    }
  }
}

function isNormalised(spec: unknown): spec is WorkflowSpec {
  return (
    !!spec &&
    typeof spec === 'object' &&
    Array.isArray((spec as WorkflowSpec).input) &&
    Array.isArray((spec as WorkflowSpec).vars) &&
    Object.values((spec as WorkflowSpec).tasks ?? {}).every(
      (t) => Array.isArray((t as { next?: unknown }).next) && 'name' in (t as object),
    )
  );
}

/** Functional entry point named in the design: a conductor for a spec, input and st2 context. */
export function createConductor(
  spec: WorkflowSpec | string | Record<string, unknown>,
  input: Record<string, unknown> = {},
  ctxExtras: Record<string, unknown> = {},
  options: ConductorOptions = {},
): OrquestaConductor {
  return OrquestaConductor.create(spec, input, ctxExtras, options);
}
