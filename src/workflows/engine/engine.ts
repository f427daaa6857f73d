/**
 * The durable workflow engine (st2-reference.md §6): runs the pure conductors of src/workflows
 * against real executions. Every step happens under the workflow's lease, reads the state record,
 * changes it, and writes it back before anything else can see the change:
 *
 * - task requests go to an outbox in the state first, then become child executions tagged with a
 *   request key, so a step replayed after a crash finds the child it already created;
 * - a child's completion is applied once: the task record says `applied` in the same write as
 *   the conductor state that applied it, and a replayed step skips it;
 * - progress is driven by the Agenda job `workflow.advance` (one per child completion, duplicates
 *   are harmless), and a periodic sweep finishes whatever a dead process left half done.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NotFoundError, SquallError, ValidationError, errorMessage } from '../../errors.js';
import { idFor } from '../../ids.js';
import {
  actionSpecs,
  dropImmutableParameters,
  hiddenValues,
  type ExecutionService,
  openParameters,
  isCompleted,
  type ExecutionStatus,
} from '../../executions/index.js';
import { st2ApiUrl } from '../../config/index.js';
import type { RunnerContext, RunnerResult } from '../../runners/index.js';
import type { Services } from '../../service/index.js';
import type { ActionRecord, ExecutionRecord } from '../../store/index.js';
import {
  ActionChainConductor,
  type ChainOptions,
  type ChainRequest,
  type ChainState,
} from '../actionchain/index.js';
import {
  ABENDED_STATUSES,
  OrquestaConductor,
  contentRefs,
  inspectContent,
  inspectDefinition,
  type ConductorState,
  type InspectionResult,
  type InspectOptions,
  type TaskRequest,
  type WorkflowGraph,
} from '../orquesta/index.js';
import { DefinitionCache } from './definitions.js';
import { WorkflowLeases, type LeaseStep } from './lease.js';
import { HEAD_KINDS, StateCache, readState, resumeState, writeState, type Hydrated } from './stored.js';
import {
  decryptRefused,
  getKeyValueService,
  secretReader,
  templateDecryptor,
  type KvLookupTable,
} from '../../kv/index.js';
import { LruMap } from '../../lru-map.js';

export const ADVANCE_JOB = 'workflow.advance';

export type WorkflowKind = 'orquesta' | 'action-chain';

const FINAL = ['succeeded', 'failed', 'timeout', 'abandoned', 'canceled'];

/** One child execution of a workflow, as `task()` and `--show-tasks` need it. */
export interface TaskExecution {
  key: string;
  task_id: string;
  task_name: string;
  route: number;
  item_id?: number;
  action: string | null;
  execution_id: string | null;
  status: string;
  result?: unknown;
  /** The completion was handed to the conductor (exactly once). */
  applied: boolean;
  /** A non-final status (pending, paused, running after a pause) already reported to the conductor. */
  reported?: string;
  /** Copied from the workflow execution this one re-runs. */
  inherited?: boolean;
  start_timestamp: string;
  end_timestamp?: string;
}

/** A task the conductor asked for that has no child execution yet. */
export interface PendingTask {
  key: string;
  task_id: string;
  route: number;
  item_id?: number;
  action: string | null;
  input: Record<string, unknown>;
  /** Seconds (orquesta task delay or retry delay). */
  delay?: number;
  notify?: Record<string, unknown>;
}

export interface EngineState {
  version: 1;
  conductor: ConductorState | ChainState;
  tasks: TaskExecution[];
  outbox: PendingTask[];
  seq: number;
  /** The execution this one re-runs from tasks (st2 re-run --tasks). */
  rerun_of?: string;
  /** action-chain runner parameter `display_published`. */
  display_published?: boolean;
  /**
   * The datastore keys the workflow's expressions decrypted (st2kv(key, decrypt=true)), by name:
   * their values are secrets the tasks it requests may carry, masked there (issue()).
   */
  kv_decrypted?: string[];
}

/** Notes that the workflow decrypted datastore key `key` (`system.NAME` or a user key's name). */
function noteDecrypted(holder: ScopeHolder, key: string): void {
  const names = holder.state ? (holder.state.kv_decrypted ??= []) : (holder.decrypted ??= []);
  if (!names.includes(key)) names.push(key);
}

/** What a workflow's expression functions read and note: its state, its datastore table. */
interface ScopeHolder {
  state?: EngineState;
  kv?: KvLookupTable;
  /** Keys decrypted before the state exists (a new workflow's vars and input). */
  decrypted?: string[];
}

type StateRecord = Hydrated<TaskExecution> & { state: EngineState };

/** What a step keeps with the workflow's lease for the next step of this process (keepFor). */
interface Carried {
  /** The state as the step wrote it. */
  record: StateRecord;
  /** The workflow execution as the step read it, and the number of announcements then (see announced). */
  exec?: { record: ExecutionRecord; at: number };
}

/**
 * What one step knows of its state beyond the record, so that it does not ask the store again:
 * the children this step created (their status is the one their request returned; a change
 * reaches the workflow as an advance of its own).
 */
interface StepMemo {
  created: Set<string>;
  /**
   * The step continues the record this process's last step wrote, under the lease kept since
   * (load): no step has run from that record, so none can have created a child of the requests
   * this step makes (their keys count on from the record's `seq`), and issue() looks none up.
   */
  continued?: boolean;
  /** The task records this step changed or added (written apart, see stored.ts). */
  changed: Set<TaskExecution>;
}

type Ask = Omit<PendingTask, 'key'>;

/** The one interface both conductors are driven through. */
interface Conducted {
  readonly status: string;
  readonly state: ConductorState | ChainState;
  start(): Ask[];
  complete(task: TaskExecution, status: string, result: unknown): Ask[];
  pause(): void;
  resume(): Ask[];
  /** A paused task resumed from below: the workflow runs again (orquesta only). */
  resumeForTask(): void;
  cancel(): void;
  result(): unknown;
}

const nowIso = () => new Date().toISOString();

/** The runners whose executions are workflows: the ones pause, resume and their cascade apply to. */
const WORKFLOW_RUNNERS = ['orquesta', 'action-chain'];

/** Statuses of an action that has not started running: a workflow's cancel cancels it. */
const NOT_STARTED = ['requested', 'scheduled', 'delayed'];

/** A task record that no step changes again: its completion applied, or copied from a re-run. */
const isSettled = (t: TaskExecution) => t.applied || t.inherited === true;

/** The child executions of a workflow's tasks that are still its own business (not applied, not inherited). */
function taskExecutionsUnderWay(record: StateRecord): string[] {
  return record.state.tasks.flatMap((t) =>
    t.execution_id && !t.applied && !t.inherited ? [t.execution_id] : [],
  );
}

function fromOrquesta(requests: TaskRequest[]): Ask[] {
  return requests.map((r) => ({
    task_id: r.task_id,
    route: r.route,
    ...(r.item_id !== undefined ? { item_id: r.item_id } : {}),
    action: r.action,
    input: r.input,
    ...(r.delay ? { delay: r.delay } : {}),
  }));
}

function fromChain(request: ChainRequest | null): Ask[] {
  if (!request) return [];
  return [
    {
      task_id: request.name,
      route: 0,
      action: request.ref,
      input: request.parameters,
      ...(request.notify ? { notify: request.notify } : {}),
    },
  ];
}

function orquestaConducted(c: OrquestaConductor): Conducted {
  return {
    get status() {
      return c.status === 'null' || c.status === 'requested' ? 'running' : c.status;
    },
    get state() {
      return c.state;
    },
    start: () => fromOrquesta(c.start()),
    complete: (t, status, result) =>
      fromOrquesta(c.onTaskCompleted(t.task_id, t.route, { status, result }, t.item_id)),
    pause: () => c.pause(),
    resume: () => fromOrquesta(c.resume()),
    resumeForTask: () => c.resumeForTask(),
    cancel: () => c.cancel(),
    // As st2 writes it: `output` (null when empty), and `errors` only when the workflow abended
    // (a failure remediated by `noop` or a transition leaves no errors in a succeeded result).
    result: () => {
      const output = c.output && Object.keys(c.output).length > 0 ? c.output : null;
      return ABENDED_STATUSES.includes(c.status) ? { output, errors: c.errors } : { output };
    },
  };
}

function chainConducted(c: ActionChainConductor, displayPublished: boolean): Conducted {
  return {
    get status() {
      return c.status === 'null' ? 'running' : c.status;
    },
    get state() {
      return c.state;
    },
    start: () => fromChain(c.start()),
    complete: (t, status, result) => {
      if (status === 'pending' || status === 'paused') c.onTaskHeld(t.task_id);
      if (!['succeeded', 'failed', 'timeout', 'abandoned', 'canceled'].includes(status)) return [];
      return fromChain(
        c.onTaskCompleted(t.task_id, {
          status,
          result,
          ...(t.execution_id ? { execution_id: t.execution_id } : {}),
          created_at: t.start_timestamp,
          ...(t.end_timestamp ? { updated_at: t.end_timestamp } : {}),
        }),
      );
    },
    pause: () => c.pause(),
    resume: () => fromChain(c.resume()),
    resumeForTask: () => c.onTaskReleased(),
    cancel: () => c.cancel(),
    result: () => {
      const r = { ...c.result };
      if (!displayPublished) delete r.published;
      return r;
    },
  };
}

/** Flattens orquesta's grouped inspection errors into st2's `errors` list (each with its `type`). */
/**
 * An inspection as st2 writes it in a workflow's result (services/workflows.py inspect): one list,
 * each error's category in `type` (content, context, expression, semantic, syntax), the language
 * of context and expression errors in `language`, sorted by type, then schema path.
 */
export function inspectionErrors(result: InspectionResult): Array<Record<string, unknown>> {
  const TYPES: Record<keyof InspectionResult, string> = {
    content: 'content',
    context: 'context',
    expressions: 'expression',
    semantics: 'semantic',
    syntax: 'syntax',
  };
  const errors = (Object.keys(TYPES) as Array<keyof InspectionResult>).flatMap((category) =>
    (result[category] ?? []).map((e) => {
      const { type: language, ...rest } = e as typeof e & { type?: string };
      const entry: Record<string, unknown> = { ...rest };
      if ((category === 'context' || category === 'expressions') && language !== undefined)
        entry.language = language;
      entry.type = TYPES[category];
      return entry;
    }),
  );
  const key = (e: Record<string, unknown>) => `${String(e.type)}\u0000${String(e.schema_path ?? '')}`;
  return errors.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The variables a workflow's expressions may read before anything defines them. */
const CONTEXT_VARIABLES = ['st2', 'parent'];

function emptyInspection(): InspectionResult {
  return { content: [], syntax: [], semantics: [], expressions: [], context: [] };
}

/** What inspection knows of the registered actions: which exist, and their parameters. */
export function inspectOptions(actions: ActionRecord[]): InspectOptions {
  const byRef = new Map(actions.map((a) => [a.ref, a]));
  return {
    actionExists: (ref) => byRef.has(ref),
    actionParams: (ref) => {
      const a = byRef.get(ref);
      if (!a) return undefined;
      const specs = actionSpecs(a);
      return {
        names: Object.keys(specs),
        required: Object.entries(specs)
          .filter(([, s]) => s.required && s.default === undefined && !s.immutable)
          .map(([n]) => n),
      };
    },
    contextVariables: CONTEXT_VARIABLES,
  };
}

/** Only the categories that have errors, as orquesta answers an inspection. */
export function groupedInspection(result: InspectionResult): Partial<InspectionResult> {
  return Object.fromEntries(Object.entries(result).filter(([, v]) => v.length > 0));
}

export interface EngineOptions {
  /** Wait for a busy workflow's lease at most this long before the step is retried later. */
  leaseWaitMs?: number;
}

export class WorkflowEngine {
  /** Carried from step to step with a kept claim: what the last step wrote and read (see load()). */
  readonly leases: WorkflowLeases<Carried>;
  /**
   * Status changes of workflow executions announced on the bus (any process's, as `st2.execution__update`
   * reaches every one): by execution, the number of the last one (the last 1,000). An execution a
   * step carried from before it is read again.
   */
  private readonly announced = new Map<string, number>();
  private announcements = 0;
  /** The highest number dropped from `announced`: what was carried from before it is read again. */
  private forgotten = 0;
  private readonly usesKv = new LruMap<string, boolean>(1000);
  private readonly steps = new WeakMap<EngineState, StepMemo>();
  /** Task graphs composed from each workflow execution's spec, by execution id (the last 1,000 used). */
  private readonly graphs = new LruMap<string, WorkflowGraph>(1000);
  /** Specs and the task list of the last write, by workflow execution (see stored.ts). */
  private readonly cache = new StateCache<TaskExecution>();
  /**
   * Orquesta definitions that passed every check the text alone decides, by their text: a start of
   * the same definition again parses and inspects nothing; the check against the registered
   * actions runs at every start, as they may change.
   */
  private readonly definitions = new DefinitionCache();

  constructor(
    private readonly services: Services,
    private readonly executions: () => ExecutionService,
    options: EngineOptions = {},
  ) {
    this.leases = new WorkflowLeases({
      store: services.store,
      workerId: () => executions().workerId,
      deadAfterMs: services.config.executions.dead_after_ms,
      waitMs: options.leaseWaitMs,
      logger: services.logger,
    });
  }

  private get store() {
    return this.services.store;
  }

  // ---- the runners ------------------------------------------------------------------------

  private readDefinition(ctx: RunnerContext): string {
    const entry = ctx.action.entry_point;
    if (!entry) {
      throw new SquallError(
        'WORKFLOW_ENTRY_POINT_MISSING',
        `Action "${ctx.action.ref}" has no entry_point naming its workflow file`,
        { action: ctx.action.ref },
      );
    }
    const file = path.resolve(ctx.action.packDir, 'actions', entry);
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new SquallError(
        'WORKFLOW_DEFINITION_UNREADABLE',
        `Cannot read the workflow of action "${ctx.action.ref}" at ${file}: ${errorMessage(err)}`,
        { action: ctx.action.ref, path: file },
      );
    }
  }

  async startOrquesta(ctx: RunnerContext): Promise<RunnerResult> {
    const exec = await this.executions().get(ctx.executionId);
    const reRun = exec.context.re_run as { ref?: string; tasks?: string[]; reset?: string[] } | undefined;
    if (reRun?.ref && (reRun.tasks?.length ?? 0) > 0) return this.startRerun(exec, reRun);
    let text: string;
    try {
      text = this.readDefinition(ctx);
    } catch (err) {
      return {
        status: 'failed',
        result: { errors: [{ type: 'error', message: errorMessage(err) }], output: null },
      };
    }
    let inspection: InspectionResult;
    let spec = this.definitions.get(text);
    try {
      const definition = spec ? { spec, result: undefined } : inspectDefinition(text, CONTEXT_VARIABLES);
      inspection = definition.result ?? emptyInspection();
      spec = definition.spec;
      if (spec) {
        // Only the actions the tasks name: every one registered was read at every start.
        const refs = contentRefs(spec);
        const actions = refs.length > 0 ? await this.store.actions.find({ ref: { $in: refs } }) : [];
        inspection.content = inspectContent(spec, inspectOptions(actions));
      }
    } catch (err) {
      return {
        status: 'failed',
        result: { errors: [{ type: 'syntax', message: errorMessage(err) }], output: null },
      };
    }
    const errors = inspectionErrors(inspection);
    if (errors.length > 0 || !spec) return { status: 'failed', result: { errors, output: null } };
    this.definitions.set(text, spec);
    const c = exec.context;
    const st2 = {
      action_execution_id: exec.id,
      api_url: st2ApiUrl(this.services.config, this.services.apiUrl),
      api_user: c.api_user ?? c.user ?? null,
      pack: ctx.action.pack,
      source_channel: c.source_channel ?? null,
      user: c.user ?? null,
    };
    const holder: ScopeHolder = {};
    if (text.includes('st2kv')) {
      holder.kv = await this.kvLookup(typeof st2.user === 'string' ? st2.user : undefined);
    }
    let conductor: OrquestaConductor;
    try {
      // The conductor takes a copy of the spec: the one kept here is never changed.
      conductor = OrquestaConductor.create(
        spec,
        ctx.actionParameters,
        { st2 },
        { scope: this.scope(holder, exec.id) },
      );
    } catch (err) {
      return {
        status: 'failed',
        result: { errors: [{ type: 'error', message: errorMessage(err) }], output: null },
      };
    }
    if (conductor.status === 'failed')
      return { status: 'failed', result: orquestaConducted(conductor).result() };
    return this.begin(exec, 'orquesta', orquestaConducted(conductor), holder);
  }

  async startActionChain(ctx: RunnerContext): Promise<RunnerResult> {
    const exec = await this.executions().get(ctx.executionId);
    let conductor: ActionChainConductor;
    const holder: ScopeHolder = {};
    try {
      const text = this.readDefinition(ctx);
      if (text.includes('st2kv')) {
        const user = exec.context.user;
        holder.kv = await this.kvLookup(typeof user === 'string' ? user : undefined);
      }
      conductor = ActionChainConductor.create(
        text,
        ctx.actionParameters,
        { ...exec.context, execution_id: exec.id },
        this.chainOptions(holder),
      );
    } catch (err) {
      return {
        status: 'failed',
        result: { tasks: [], published: {}, error: errorMessage(err), traceback: errorMessage(err) },
      };
    }
    const display = ctx.runnerParameters.display_published !== false;
    return this.begin(exec, 'action-chain', chainConducted(conductor, display), holder, {
      display_published: display,
    });
  }

  /** Persists the new workflow, requests its first tasks, and tells the runner how it stands. */
  private async begin(
    exec: ExecutionRecord,
    kind: WorkflowKind,
    conducted: Conducted,
    holder: ScopeHolder,
    extra: Partial<EngineState> = {},
  ): Promise<RunnerResult> {
    // The state, the first tasks' children and their jobs: one store transaction (see advance()).
    return this.committed(exec.id, () =>
      this.leases.with(exec.id, async (lease) => {
        const state: EngineState = {
          version: 1,
          conductor: conducted.state,
          tasks: [],
          outbox: [],
          seq: 0,
          ...extra,
        };
        if (holder.decrypted?.length) state.kv_decrypted = [...holder.decrypted];
        holder.state = state;
        const record: StateRecord = {
          id: exec.id,
          execution_id: exec.id,
          kind,
          status: 'running',
          state,
        };
        this.enqueue(state, conducted.start());
        state.conductor = conducted.state;
        record.status = conducted.status;
        const answer = await this.firstStep(record, conducted, exec, holder.kv);
        this.keepFor(lease, record, conducted);
        return answer;
      }),
    );
  }

  private async startRerun(
    exec: ExecutionRecord,
    reRun: { ref?: string; tasks?: string[]; reset?: string[] },
  ): Promise<RunnerResult> {
    const old = await this.stateOf(String(reRun.ref));
    if (!old) {
      return {
        status: 'failed',
        result: {
          errors: [
            {
              type: 'error',
              message: `Workflow execution ${String(reRun.ref)} has no workflow state to re-run`,
            },
          ],
          output: null,
        },
      };
    }
    return this.leases.with(exec.id, async () => {
      const state: EngineState = {
        version: 1,
        conductor: old.state.conductor,
        tasks: old.state.tasks.map((t) => ({ ...t, inherited: true })),
        outbox: [],
        seq: old.state.seq,
        rerun_of: old.execution_id,
        ...(old.state.kv_decrypted ? { kv_decrypted: [...old.state.kv_decrypted] } : {}),
      };
      // st2kv() in the tasks it runs again reads the datastore, as in every later step (kvTable).
      const holder = { state, kv: await this.kvTable(old) };
      for (const t of state.tasks) this.memo(state).changed.add(t);
      const conductor = OrquestaConductor.fromState(old.state.conductor as ConductorState, {
        scope: this.scope(holder, exec.id),
      });
      const conducted = orquestaConducted(conductor);
      const requests = conductor.rerun({ tasks: reRun.tasks ?? [], noReset: reRun.reset ?? [] });
      this.enqueue(state, fromOrquesta(requests));
      const record: StateRecord = {
        id: exec.id,
        execution_id: exec.id,
        kind: 'orquesta',
        status: conducted.status,
        state,
      };
      state.conductor = conducted.state;
      // st2 re-runs from tasks in the same workflow execution (request_rerun moves it to the new
      // action execution): the new execution's context names the original's.
      const original = await this.store.executions.get(old.execution_id);
      const workflowExecution = String(original?.context.workflow_execution ?? old.execution_id);
      return this.firstStep(record, conducted, exec, holder.kv, workflowExecution);
    });
  }

  /** A new workflow's state stored, its first tasks requested: what its runner answers. */
  private async firstStep(
    record: StateRecord,
    conducted: Conducted,
    exec: ExecutionRecord,
    kv: KvLookupTable | undefined,
    workflowExecution: string = exec.id,
  ): Promise<RunnerResult> {
    await writeState(this.store, record, this.memo(record.state).changed, { first: true });
    this.memo(record.state).changed.clear();
    await this.advanceIfCanceled(exec.id);
    // From here the engine owns the execution: recovery must not abandon it with this process.
    // context.workflow_execution: the workflow execution it runs, as st2's orquesta runner adds it.
    await this.store.executions.updateOne(
      { id: exec.id },
      {
        $set: {
          durable: true,
          ...(record.kind === 'orquesta' ? { 'context.workflow_execution': workflowExecution } : {}),
        },
      },
    );
    await this.pump(record, conducted, exec, kv);
    await this.save(record, conducted);
    if (FINAL.includes(conducted.status))
      return { status: conducted.status as RunnerResult['status'], result: conducted.result() };
    return { status: 'running', result: undefined };
  }

  /**
   * Called once a new workflow's state is stored, under its lease. A cancel that landed while the
   * runner was starting it scheduled an advance that found no state and did nothing: the advance
   * scheduled here waits for this lease and then cancels, at once rather than at the next sweep.
   */
  private async advanceIfCanceled(workflowExecutionId: string): Promise<void> {
    const exec = await this.store.executions.get(workflowExecutionId);
    if (exec?.status === 'canceling') await this.scheduleAdvance(workflowExecutionId);
  }

  /** st2's `task(name)` and the functions the conductor cannot know by itself. */
  private scope(holder: ScopeHolder, workflowExecutionId: string) {
    return {
      task: (name: string | undefined, route: number, current?: { id: string; route: number }) =>
        taskRecord(holder.state, workflowExecutionId, name ?? current?.id, route),
      st2kv: (key: string, decrypt: boolean) => {
        const value = this.st2kv(holder.kv, key, decrypt);
        if (decrypt && value !== undefined) noteDecrypted(holder, key);
        return value;
      },
    };
  }

  /**
   * An ActionChain's `st2kv.system.x` / `st2kv.user.x` and `decrypt_kv` (st2 renders its task
   * parameters with the datastore): the workflow user's decrypt rights, each key it opens noted
   * (kv_decrypted) so that the tasks carrying its value mask it.
   */
  private chainOptions(holder: ScopeHolder): ChainOptions {
    const table = holder.kv;
    if (!table) return {};
    const values = (entries: KvLookupTable['system']) =>
      Object.fromEntries(Object.entries(entries).map(([name, e]) => [name, String(e.value)]));
    const snapshot = { system: values(table.system), user: values(table.user) };
    const names = new Map<string, string>();
    for (const [name, cipher] of Object.entries(snapshot.system)) names.set(cipher, `system.${name}`);
    for (const [name, cipher] of Object.entries(snapshot.user)) names.set(cipher, name);
    const kv = getKeyValueService(this.services);
    const open = templateDecryptor(
      (cipher) => kv.decrypt(cipher),
      table.reader ?? { user: '(unknown)', may: () => false },
      snapshot,
    );
    return {
      kv: snapshot,
      decrypt: (cipher) => {
        const plaintext = open(cipher);
        const name = names.get(cipher);
        if (name) noteDecrypted(holder, name);
        return plaintext;
      },
    };
  }

  /**
   * The values of the datastore secrets `state`'s workflow decrypted, as they are now: a task
   * parameter rendered from one (`cmd: echo <% ctx().pw %>`) is masked (requests' `secrets`,
   * without redactOutput). Its output is not redacted, unlike a rule's decrypt_kv: the workflow
   * reads it on (`task(t).result.stdout`), and st2's examples.orquesta-st2kv gives it in plaintext.
   */
  private async decryptedSecrets(
    state: EngineState,
    exec: ExecutionRecord,
    loaded: KvLookupTable | undefined,
  ): Promise<string[]> {
    const names = state.kv_decrypted ?? [];
    if (names.length === 0) return [];
    const user = exec.context.user;
    // The step's own table (read once at its load) when it has one: a second read of the whole
    // datastore per issuing step was a third of a kv-using workflow's reads. The read stays for a
    // step without one, which no caller has today: a key is noted only through a table, and every
    // later step of that workflow loads one (kvTable). But the two are decided apart (the start by
    // the definition's text, later steps by the stored spec); should they ever disagree, a read
    // costs less than a secret shown unmasked in a task's parameters.
    const table = loaded ?? (await this.kvLookup(typeof user === 'string' ? user : undefined));
    const kv = getKeyValueService(this.services);
    return names.flatMap((key) => {
      const entry = key.startsWith('system.') ? table.system[key.slice('system.'.length)] : table.user[key];
      return entry?.secret ? [kv.decrypt(String(entry.value))] : [];
    });
  }

  /**
   * st2's st2kv(key, decrypt): `system.NAME` reads a system key, any other name the user's own.
   * Undefined when there is no such key. Like st2, decrypt=true on a key that is not encrypted
   * is an error, and a secret read without decrypt gives the stored ciphertext.
   */
  private st2kv(table: KvLookupTable | undefined, key: string, decrypt: boolean): unknown {
    const system = key.startsWith('system.');
    const entry = system ? table?.system[key.slice('system.'.length)] : table?.user[key];
    if (!entry) return undefined;
    if (!decrypt) return entry.value;
    if (!entry.secret) {
      throw new SquallError(
        'KV_NOT_ENCRYPTED',
        `The value of key "${key}" is not encrypted, so it cannot be decrypted.`,
        { key },
      );
    }
    // The same decision as the keys API's decrypt: admins any key, users their own.
    const owner = table?.reader?.user;
    if (!table?.reader?.may(system ? { scope: 'system' } : { scope: 'user', owner }))
      throw decryptRefused(owner ?? '(unknown)', system ? `st2kv.${key}` : `st2kv.user.${key}`);
    return getKeyValueService(this.services).decrypt(String(entry.value));
  }

  /** The datastore table for st2kv(), read only for workflows whose definition calls st2kv. */
  private async kvTable(record: StateRecord): Promise<KvLookupTable | undefined> {
    const c = record.state.conductor as ConductorState | undefined;
    // Whether the definition calls st2kv is asked at every step: remember it per execution.
    let uses = this.usesKv.get(record.execution_id);
    if (uses === undefined) {
      uses = Boolean(c?.spec) && JSON.stringify(c?.spec).includes('st2kv');
      this.usesKv.set(record.execution_id, uses);
    }
    if (!uses || !c) return undefined;
    // An ActionChain's user is in its action context, an Orquesta workflow's in its st2 context.
    const user =
      record.kind === 'action-chain'
        ? (c as unknown as ChainState).actionContext?.user
        : (c.context?.st2 as { user?: string } | undefined)?.user;
    return this.kvLookup(typeof user === 'string' ? user : undefined);
  }

  /** The datastore as the workflow's user sees it, with that user's decrypt rights. */
  private async kvLookup(user: string | undefined): Promise<KvLookupTable> {
    const table = await getKeyValueService(this.services).lookupTable(user);
    return { ...table, ...(user ? { reader: await secretReader(this.services, user) } : {}) };
  }

  // ---- loading and saving -----------------------------------------------------------------

  private async load(
    executionId: string,
    lease?: LeaseStep<Carried>,
  ): Promise<{ record: StateRecord; conducted: Conducted; kv: KvLookupTable | undefined } | null> {
    // The lease kept since this process's last step, which wrote `carried`: no other step has
    // written the state since, so it is that record (the cache's tasks, sequence and index are
    // its objects already). Its step memo is dropped: the children it created are this step's to apply.
    const carried = lease?.carried && resumeState(lease.carried.record, this.cache);
    if (carried) this.steps.set(carried.state, { created: new Set(), changed: new Set(), continued: true });
    const record = carried || (await this.stateOf(executionId, this.cache));
    if (!record) return null;
    const kv = await this.kvTable(record);
    return { record, conducted: this.revive(record, kv), kv };
  }

  /**
   * The stored state of a workflow execution. It is stored under the execution's id, a lookup every
   * store answers from its primary index (FerretDB scans the collection for any other filter: 83 ms
   * per load with 2,000 past workflows, against 1 ms). States stored before that have an id of their
   * own and are found by execution_id.
   */
  private async stateOf(executionId: string, cache?: StateCache<TaskExecution>): Promise<StateRecord | null> {
    return (await readState(this.store, executionId, cache)) as StateRecord | null;
  }

  private revive(record: StateRecord, kv?: KvLookupTable): Conducted {
    const holder = { state: record.state, kv };
    if (record.kind === 'action-chain') {
      return chainConducted(
        ActionChainConductor.fromState(record.state.conductor as ChainState, this.chainOptions(holder)),
        record.state.display_published !== false,
      );
    }
    // The record was just read for this step alone: its state is conducted as is, not copied.
    // The task graph is composed once per workflow execution and process (its spec never changes).
    const conductor = OrquestaConductor.fromState(record.state.conductor as ConductorState, {
      scope: this.scope(holder, record.execution_id),
      adopt: true,
      graph: this.graphs.get(record.execution_id),
    });
    if (!this.graphs.has(record.execution_id)) this.graphs.set(record.execution_id, conductor.graph);
    return orquestaConducted(conductor);
  }

  private async save(record: StateRecord, conducted: Conducted): Promise<void> {
    record.state.conductor = conducted.state;
    record.status = conducted.status;
    const memo = this.memo(record.state);
    await writeState(this.store, record, memo.changed, { cache: this.cache, settled: isSettled });
    memo.changed.clear();
  }

  /**
   * A step that ends with its workflow under way, waiting only for children this process runs at
   * once (core.noop), keeps the lease a moment for the next step, with the record it wrote
   * (lease.ts): that step, here as soon as they have run, then neither claims the lease nor reads
   * the state. While any child runs elsewhere or takes time, whose completion may come from another
   * process, every step gives the lease back as it ends.
   */
  private keepFor(
    lease: LeaseStep<Carried>,
    record: StateRecord,
    conducted: Conducted,
    exec?: Carried['exec'],
  ): void {
    if (FINAL.includes(conducted.status)) return;
    const svc = this.executions();
    let waiting = false;
    for (const t of record.state.tasks) {
      if (t.applied || t.inherited || !t.execution_id) continue;
      if (!svc.runsAtOnceHere(t.execution_id)) return;
      waiting = true;
    }
    if (waiting) lease.keep = { record, ...(exec ? { exec } : {}) };
  }

  /** A status change of workflow execution `id` was announced (subsystem's bus subscription). */
  statusAnnounced(id: string): void {
    const n = ++this.announcements;
    this.announced.delete(id);
    if (this.announced.size >= 1000) {
      const [oldest, m] = this.announced.entries().next().value as [string, number];
      this.announced.delete(oldest);
      this.forgotten = m;
    }
    this.announced.set(id, n);
  }

  /**
   * The workflow execution as the last step of this process read it, when the lease was kept since
   * and no status change of it has been announced since that read: a cancel, a pause or a resume by
   * anyone (a change of status is what a step reads it for; its context does not change). Undefined:
   * the step reads it. An announcement the bus lost is caught up with within HOLD_MS (lease.ts), when
   * the lease is claimed anew.
   */
  private carriedExecution(id: string, lease: LeaseStep<Carried>): Carried['exec'] {
    const exec = lease.carried?.exec;
    if (!exec || this.forgotten > exec.at || (this.announced.get(id) ?? 0) > exec.at) return undefined;
    return exec;
  }

  private enqueue(state: EngineState, asks: Ask[]): void {
    for (const a of asks) {
      state.seq += 1;
      state.outbox.push({ ...a, key: `${a.task_id}:${a.route}:${a.item_id ?? '-'}:${state.seq}` });
    }
  }

  // ---- conducting -------------------------------------------------------------------------

  /**
   * Turns the outbox into child executions and applies every finished child, until neither has
   * anything left. Called under the lease; the caller saves the record afterwards. `known`: a
   * completed child as its completion stored it, not read again.
   */
  private async pump(
    record: StateRecord,
    conducted: Conducted,
    exec: ExecutionRecord,
    kv: KvLookupTable | undefined,
    known?: ExecutionRecord,
  ): Promise<void> {
    const given = known && isCompleted(known.status) && known.parent === exec.id ? known : undefined;
    const state = record.state;
    const memo = this.memo(state);
    let answered = false;
    for (let round = 0; ; round++) {
      if (round > 10_000) {
        throw new SquallError(
          'WORKFLOW_RUNAWAY',
          `Workflow ${exec.id} kept producing tasks without waiting for any (over 10000 rounds)`,
          { execution: exec.id },
        );
      }
      if (state.outbox.length > 0) {
        await this.issue(record, conducted, exec, kv);
        continue;
      }
      const open = state.tasks.filter(
        (t) => !t.applied && !t.inherited && t.execution_id && !memo.created.has(t.execution_id),
      );
      const asked = open.filter((t) => t.execution_id !== given?.id);
      const children = asked.length
        ? await this.store.executions.find({ id: { $in: asked.map((t) => t.execution_id as string) } })
        : [];
      if (given && asked.length < open.length) children.push(given);
      const byId = new Map(children.map((c) => [c.id, c]));
      let progressed = false;
      const ready = state.tasks
        .filter((t) => !t.applied && !t.inherited && t.execution_id && byId.has(t.execution_id))
        .map((t) => ({ t, child: byId.get(t.execution_id as string) as ExecutionRecord }))
        .sort(
          (a, b) =>
            String(a.child.end_timestamp ?? '').localeCompare(String(b.child.end_timestamp ?? '')) ||
            a.t.key.localeCompare(b.t.key),
        );
      for (const { t, child } of ready) {
        if (isCompleted(child.status)) {
          if (t.reported === 'pending') answered = true;
          // Paused when last seen and finished since: it was resumed (a paused execution ends
          // otherwise only canceled), which resumed this workflow in st2 before the completion.
          if (t.reported === 'paused' && child.status !== 'canceled') conducted.resumeForTask();
          t.applied = true;
          t.status = child.status;
          t.result = child.result ?? null;
          t.end_timestamp = child.end_timestamp ?? nowIso();
          memo.changed.add(t);
          this.enqueue(state, this.completeTask(conducted, t, child.status, t.result, exec));
          progressed = true;
        } else {
          const report = this.nonFinalReport(t, child.status);
          if (report) {
            // A sub-workflow paused on its own and now resumed resumes this workflow too (st2
            // handle_action_execution_resume); an answered inquiry is handled below.
            if (report === 'running' && t.reported === 'paused') conducted.resumeForTask();
            t.reported = report;
            t.status = child.status;
            memo.changed.add(t);
            this.enqueue(state, this.completeTask(conducted, t, report, child.result ?? null, exec));
            progressed = true;
          }
        }
      }
      if (progressed) continue;
      // An answered inquiry resumes the workflow it paused (st2 resumes the root when the inquiry
      // is answered). Answered before the pause was stored, the inquiry service found the workflow
      // still running and had nothing to resume: the workflow resumes here instead of staying paused.
      if (answered && (conducted.status === 'paused' || conducted.status === 'pausing')) {
        answered = false;
        this.enqueue(state, conducted.resume());
        continue;
      }
      return;
    }
  }

  /** pending/paused children are reported so the workflow can pause; a resumed one reports running. */
  private nonFinalReport(t: TaskExecution, childStatus: string): string | undefined {
    if ((childStatus === 'pending' || childStatus === 'paused') && t.reported !== childStatus)
      return childStatus;
    if (
      (childStatus === 'running' || childStatus === 'resuming') &&
      (t.reported === 'paused' || t.reported === 'pending')
    )
      return 'running';
    return undefined;
  }

  private completeTask(
    conducted: Conducted,
    t: TaskExecution,
    status: string,
    result: unknown,
    exec: ExecutionRecord,
  ): Ask[] {
    try {
      return conducted.complete(t, status, result);
    } catch (err) {
      // The conductor refusing a completion is a bug or a corrupt state: say so loudly.
      throw new SquallError(
        'WORKFLOW_COMPLETION_REFUSED',
        `Workflow ${exec.id} could not apply the ${status} of task "${t.task_id}" (route ${t.route}${t.item_id !== undefined ? `, item ${t.item_id}` : ''}): ${errorMessage(err)}`,
        { execution: exec.id, task: t.key, child: t.execution_id },
      );
    }
  }

  /** This step's memo of a state. */
  private memo(state: EngineState): StepMemo {
    let memo = this.steps.get(state);
    if (!memo) {
      memo = { created: new Set(), changed: new Set() };
      this.steps.set(state, memo);
    }
    return memo;
  }

  /** Creates the child executions of the outbox, each once (found again by its request key). */
  private async issue(
    record: StateRecord,
    conducted: Conducted,
    exec: ExecutionRecord,
    kv: KvLookupTable | undefined,
  ): Promise<void> {
    const state = record.state;
    const memo = this.memo(state);
    // Only a step replayed after a crash finds children here: the ones it created before dying.
    // Asked for every request, those of this step too: a replay enqueues again, under the same
    // keys, the requests the dead step had made in memory only, never stored in its outbox.
    // A child's id is derived from its request key, so the lookup is by primary key. A head stored
    // before that (no revision) may have children of random ids: found by parent and key, which
    // reads every child of the workflow (request_key is not indexed). A continued step is no
    // replay (StepMemo.continued): nothing to find.
    const asked = state.outbox.filter((p) => p.action !== null);
    const existing =
      asked.length === 0 || memo.continued
        ? []
        : record.rev !== undefined
          ? await this.store.executions.find({ id: { $in: asked.map((p) => childIdFor(record, p)) } })
          : await this.store.executions.find({
              parent: exec.id,
              'context.workflow.request_key': { $in: asked.map((p) => p.key) },
            });
    // The workflow's secrets stay secret in its tasks; what it decrypted from st2kv is masked in
    // their parameters only, as their results flow on into the workflow in plaintext (as in st2).
    const secrets =
      asked.length === 0
        ? []
        : [
            ...hiddenValues(this.executions().secretValuesOf(exec), true),
            ...hiddenValues(await this.decryptedSecrets(state, exec, kv), false),
          ];
    const byKey = new Map(
      existing.map((c) => [
        String(((c.context.workflow ?? {}) as { request_key?: string }).request_key ?? ''),
        c,
      ]),
    );
    const outbox = state.outbox.splice(0, state.outbox.length);
    const user = String(exec.context.user ?? 'stanley');
    for (const p of outbox) {
      const task: TaskExecution = {
        key: p.key,
        task_id: p.task_id,
        task_name: p.task_id,
        route: p.route,
        ...(p.item_id !== undefined ? { item_id: p.item_id } : {}),
        action: p.action,
        execution_id: null,
        status: 'requested',
        applied: false,
        start_timestamp: nowIso(),
      };
      state.tasks.push(task);
      memo.changed.add(task);
      if (p.action === null) {
        // An action-less task completes at once as succeeded (orquesta semantics).
        task.applied = true;
        task.status = 'succeeded';
        task.result = null;
        task.end_timestamp = task.start_timestamp;
        this.enqueue(state, this.completeTask(conducted, task, 'succeeded', null, exec));
        continue;
      }
      const found = byKey.get(p.key);
      if (found) {
        task.execution_id = found.id;
        task.status = found.status;
        task.start_timestamp = found.start_timestamp;
        continue;
      }
      try {
        const child = await this.executions().request({
          id: childIdFor(record, p),
          // Looked up above by that id (heads with a revision; older ones by request key).
          unstored: record.rev !== undefined,
          action: p.action,
          parameters: p.input,
          parent: exec.id,
          user,
          secrets,
          ...(p.notify ? { notify: p.notify } : {}),
          ...(p.delay ? { delay: p.delay * 1000 } : {}),
          context: this.childContext(record, exec, p),
        });
        task.execution_id = child.id;
        task.status = child.status;
        task.start_timestamp = child.start_timestamp;
        memo.created.add(child.id);
      } catch (err) {
        // st2 fails the task when its action cannot be requested (unknown action, bad parameters).
        task.applied = true;
        task.status = 'failed';
        task.result = {
          errors: [{ message: errorMessage(err), code: err instanceof SquallError ? err.code : 'ERROR' }],
        };
        task.end_timestamp = nowIso();
        this.services.logger.warn(
          { err, execution: exec.id, task: p.task_id },
          'workflow task could not be requested; the task fails',
        );
        this.enqueue(state, this.completeTask(conducted, task, 'failed', task.result, exec));
      }
    }
  }

  private childContext(record: StateRecord, exec: ExecutionRecord, p: PendingTask): Record<string, unknown> {
    const c = exec.context;
    const inherited: Record<string, unknown> = {};
    for (const k of ['user', 'api_user', 'source_channel', 'chat', 'trace_context'])
      if (c[k] !== undefined) inherited[k] = c[k];
    const marker = {
      workflow_execution_id: record.id,
      task_id: p.task_id,
      task_name: p.task_id,
      task_route: p.route,
      ...(p.item_id !== undefined ? { item_id: p.item_id } : {}),
    };
    return {
      ...inherited,
      parent: { ...c, execution_id: exec.id },
      ...(record.kind === 'orquesta' ? { orquesta: marker } : { chain: { name: p.task_id } }),
      workflow: { execution_id: exec.id, request_key: p.key, kind: record.kind },
    };
  }

  /** Brings the workflow execution's status in line with the conductor's. */
  private async syncExecution(record: StateRecord, conducted: Conducted, execId: string): Promise<void> {
    const exec = await this.executions().get(execId);
    if (isCompleted(exec.status)) return;
    const target = conducted.status;
    const svc = this.executions();
    if (exec.status === 'paused' && !['paused', 'pausing', 'canceling', 'canceled'].includes(target)) {
      // Resumed (by a user, or by the engine when its inquiry was answered): the history shows it.
      await svc.setStatus(execId, 'resuming');
      await svc.setStatus(execId, 'running');
      if (target === 'running') return;
    }
    if (FINAL.includes(target)) {
      await svc.completeExternally(execId, target as ExecutionStatus, conducted.result());
      return;
    }
    if (target === exec.status) return;
    if (target === 'running') {
      if (exec.status !== 'canceling') await svc.setStatus(execId, 'running');
      return;
    }
    if (target === 'pausing' || target === 'paused' || target === 'canceling') {
      if (target === 'pausing' && exec.status === 'canceling') return;
      await svc.setStatus(execId, target);
    }
  }

  // ---- the advance job ----------------------------------------------------------------------

  /**
   * A child finished (or the workflow itself): the workflow moves on in the caller's step, without
   * the hop through a `workflow.advance` job, when that can be done at once: not inside a step of
   * this process (a completion a step causes, such as a child canceled by a policy, would wait for
   * that step's lease: it goes through the job), and not while another process holds the lease.
   * False when it was not done: the caller schedules the job. A crash between the child's
   * completion and this advance is what it was with the job: the sweep advances every open workflow.
   */
  async advanceHere(workflowExecutionId: string, child?: ExecutionRecord): Promise<boolean> {
    if (this.leases.insideStep()) return false;
    try {
      await this.advance(workflowExecutionId, { waitMs: 0 }, child);
      return true;
    } catch (err) {
      if (!(err instanceof SquallError && err.code === 'WORKFLOW_BUSY'))
        this.services.logger.warn(
          { err, workflow: workflowExecutionId },
          'workflow advance failed; retried as a workflow.advance job',
        );
      return false;
    }
  }

  /**
   * The Agenda job: apply whatever finished, request what comes next, finish the workflow.
   * `child`: a child as its completion stored it (a completed record does not change again), which
   * the step then does not read back.
   */
  async advance(
    workflowExecutionId: string,
    wait?: { waitMs: number },
    child?: ExecutionRecord,
  ): Promise<void> {
    const cascade: string[] = [];
    let cascadeUp: string | undefined;
    // One transition, one store transaction: the lease, the children it requests (each with its
    // register entry, status and run job), the state and the workflow's own status share one
    // commit. A crash keeps a prefix of them in order, as if each had been awaited: a child
    // stored without the state that asked for it is found again by its request key.
    await this.committed(workflowExecutionId, () =>
      this.leases.with(
        workflowExecutionId,
        async (lease) => {
          const loaded = await this.load(workflowExecutionId, lease);
          if (!loaded) return;
          const { record, conducted, kv } = loaded;
          if (FINAL.includes(record.status) && record.state.outbox.length === 0) return;
          const at = this.announcements;
          const carried = this.carriedExecution(workflowExecutionId, lease);
          const exec = carried?.record ?? (await this.executions().get(workflowExecutionId));
          const wantsCancel = exec.status === 'canceling' || isCompleted(exec.status);
          if (wantsCancel && !FINAL.includes(conducted.status) && conducted.status !== 'canceling') {
            conducted.cancel();
            // st2 (request_cancellation) cascades a sub-workflow's cancel up to the root workflow.
            if (exec.parent && exec.status === 'canceling') cascadeUp = exec.parent;
          }
          await this.pump(record, conducted, exec, kv, child);
          await this.save(record, conducted);
          if (wantsCancel || conducted.status === 'canceling')
            cascade.push(...taskExecutionsUnderWay(record));
          // Read at the start of this step: when it already shows the conductor's status there is
          // nothing to bring in line (a change since, such as a cancel, schedules an advance of its own).
          // Its status brought in line here: read again at the next step.
          if (exec.status !== conducted.status) {
            await this.syncExecution(record, conducted, workflowExecutionId);
            this.keepFor(lease, record, conducted);
          } else this.keepFor(lease, record, conducted, carried ?? { record: exec, at });
        },
        wait,
      ),
    );
    // Outside this workflow's lease: the cancel goes up to the root workflow, and down to the
    // tasks st2 cancels with a workflow (orquesta and action-chain runners' cancel): sub-workflows,
    // and actions that have not started. An action already running is left to finish (st2's
    // "graceful exit"): the workflow stays `canceling` until it has, then ends `canceled`.
    if (cascadeUp) {
      const root = await this.rootOf(cascadeUp);
      if (root && !['canceling', 'canceled'].includes(root.status) && !isCompleted(root.status))
        await this.cancelQuietly(root.id, 'sub-workflow cancel');
    }
    for (const id of cascade) {
      const child = await this.store.executions.get(id);
      if (!child || isCompleted(child.status) || child.status === 'canceling') continue;
      const cancelable = WORKFLOW_RUNNERS.includes(String(child.runner.name))
        ? true
        : NOT_STARTED.includes(child.status);
      if (cancelable) await this.cancelQuietly(id, 'workflow cancel');
    }
  }

  /**
   * A step in one store transaction. Its commit failing loses what it wrote (the children it
   * requested, the state): the lease kept with that state (keepFor) is let go, so the next step
   * reads what the store has.
   */
  private async committed<T>(workflowExecutionId: string, step: () => Promise<T>): Promise<T> {
    try {
      return await this.store.transaction(step);
    } catch (err) {
      await this.leases
        .letGo(workflowExecutionId)
        .catch((releaseErr: unknown) =>
          this.services.logger.error(
            { err: releaseErr, workflow: workflowExecutionId },
            'could not give back the workflow lease of a step whose commit failed',
          ),
        );
      throw err;
    }
  }

  /** The top of a chain of workflow executions (st2 get_root_execution). */
  private async rootOf(id: string): Promise<ExecutionRecord | null> {
    let current = await this.store.executions.get(id);
    for (let depth = 0; current?.parent && depth < 100; depth++) {
      const up = await this.store.executions.get(current.parent);
      if (!up) break;
      current = up;
    }
    return current;
  }

  /** Cancels an execution that may have finished (or begun canceling) meanwhile. */
  private async cancelQuietly(id: string, by: string): Promise<void> {
    try {
      await this.executions().cancel(id, by);
    } catch (err) {
      if (
        err instanceof SquallError &&
        ['NOT_CANCELABLE', 'ILLEGAL_TRANSITION', 'STATUS_CHANGED'].includes(err.code)
      ) {
        this.services.logger.debug({ err, execution: id }, 'execution finished before the cancel reached it');
      } else throw err;
    }
  }

  /** Schedules the advance job (durable: a crash before it runs is covered by the sweep too). */
  async scheduleAdvance(workflowExecutionId: string, childId?: string): Promise<void> {
    await this.services.scheduler.now(ADVANCE_JOB, { workflowExecutionId, ...(childId ? { childId } : {}) });
  }

  /** Finishes what dead processes left: every unfinished workflow is advanced once. */
  async sweep(): Promise<number> {
    const open = await this.store.workflows.find({ status: { $nin: FINAL }, kind: { $in: HEAD_KINDS } });
    for (const w of open) await this.advance(w.execution_id);
    return open.length;
  }

  // ---- operations -------------------------------------------------------------------------

  private async requireWorkflow(id: string): Promise<ExecutionRecord> {
    const exec = await this.executions().get(id);
    if (!WORKFLOW_RUNNERS.includes(String(exec.runner.name))) {
      throw new SquallError(
        'NOT_A_WORKFLOW',
        `Execution ${id} runs "${exec.action.ref}" with runner ${exec.runner.name}; only workflows (orquesta, action-chain) can be paused or resumed`,
        { id, runner: exec.runner.name },
        400,
      );
    }
    return exec;
  }

  /** st2 `execution pause`: `pausing` while tasks run, then `paused`; cascades down to sub-workflows. */
  pause(id: string): Promise<ExecutionRecord> {
    return this.pauseOrResume(id, {
      from: ['running', 'resuming', 'pausing', 'paused'],
      refused: (status) =>
        new SquallError(
          'WORKFLOW_NOT_PAUSABLE',
          `Execution ${id} is ${status}; only a running workflow can be paused`,
          { id, status },
          409,
        ),
      apply: async (record, conducted) => {
        conducted.pause();
        await this.save(record, conducted);
        await this.syncExecution(record, conducted, id);
      },
      children: ['running', 'resuming'],
      cascade: (childId) => this.pause(childId),
    });
  }

  /** st2 `execution resume`: cascades down to paused sub-workflows. */
  resume(id: string): Promise<ExecutionRecord> {
    const notPaused = (status: string) =>
      new SquallError(
        'WORKFLOW_NOT_PAUSED',
        `Execution ${id} is ${status}; only a paused (or pausing) workflow can be resumed`,
        { id, status },
        409,
      );
    return this.pauseOrResume(id, {
      from: ['pausing', 'paused'],
      refused: notPaused,
      apply: async (record, conducted, kv) => {
        // Resumed meanwhile by the engine itself (its inquiry was answered) or by someone else.
        if (conducted.status !== 'paused' && conducted.status !== 'pausing')
          throw notPaused(conducted.status);
        this.enqueue(record.state, conducted.resume());
        const current = await this.executions().get(id);
        await this.pump(record, conducted, current, kv);
        await this.save(record, conducted);
        if (current.status === 'paused') await this.executions().setStatus(id, 'resuming');
        await this.syncExecution(record, conducted, id);
      },
      children: ['paused', 'pausing'],
      cascade: (childId) => this.resume(childId),
    });
  }

  /**
   * The one walk of pause and resume: refuse a workflow not in a `from` status, `apply` to its
   * state under the lease, then go down (as st2 does) to each task execution that is a workflow in
   * a `children` status.
   */
  private async pauseOrResume(
    id: string,
    step: {
      from: string[];
      refused: (status: string) => SquallError;
      apply: (record: StateRecord, conducted: Conducted, kv: KvLookupTable | undefined) => Promise<void>;
      children: string[];
      cascade: (childId: string) => Promise<ExecutionRecord>;
    },
  ): Promise<ExecutionRecord> {
    const exec = await this.requireWorkflow(id);
    if (!step.from.includes(exec.status)) throw step.refused(exec.status);
    await this.untilStateStored(id);
    let children: string[] = [];
    await this.leases.with(id, async (lease) => {
      const loaded = await this.load(id, lease);
      if (!loaded) throw new NotFoundError('Workflow state of execution', id);
      children = taskExecutionsUnderWay(loaded.record);
      await step.apply(loaded.record, loaded.conducted, loaded.kv);
    });
    for (const childId of children) {
      const child = await this.store.executions.get(childId);
      if (
        child &&
        WORKFLOW_RUNNERS.includes(String(child.runner.name)) &&
        step.children.includes(child.status)
      )
        await step.cascade(childId);
    }
    return this.executions().get(id);
  }

  /**
   * A workflow shows `running` as soon as its runner starts, a moment before the runner has stored
   * its state: a pause asked in that moment (st2's tests pause as soon as they see `running`)
   * waits for the state rather than answer that there is none. At most ~10 s.
   */
  private async untilStateStored(id: string): Promise<void> {
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (await this.stateOf(id)) return;
      const exec = await this.store.executions.get(id);
      if (!exec || isCompleted(exec.status)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * st2 `execution re-run ID --tasks t1 t2 [--no-reset t1]`: a new execution of the workflow that
   * reuses its state and runs again from the given tasks. Errors (workflow still running, unknown
   * or never-run task) are reported before anything is created.
   */
  async rerunFromTasks(
    id: string,
    tasks: string[],
    noReset: string[] = [],
    user = 'stanley',
  ): Promise<ExecutionRecord> {
    const exec = await this.executions().get(id);
    if (exec.runner.name !== 'orquesta') {
      throw new ValidationError(
        `Execution ${id} runs ${exec.runner.name}: re-running from tasks applies to orquesta workflows only`,
        { id, runner: exec.runner.name, field: 'tasks' },
      );
    }
    const record = await this.stateOf(id);
    if (!record) throw new NotFoundError('Workflow state of execution', id);
    try {
      // A dry run on a copy: the conductor knows which tasks may be re-run.
      OrquestaConductor.fromState(record.state.conductor as ConductorState).rerun({ tasks, noReset });
    } catch (err) {
      if (err instanceof SquallError) {
        throw new ValidationError(
          `Cannot re-run execution ${id} from tasks ${tasks.join(', ')}: ${err.message}`,
          {
            id,
            tasks,
            field: 'tasks',
            cause: err.code,
          },
        );
      }
      throw err;
    }
    const secrets = this.services.secrets;
    if (!secrets)
      throw new SquallError('NO_SECRET_BOX', 'the datastore subsystem is not running (no secret box)');
    const params = openParameters(exec.parameters ?? {}, secrets, exec.secret_parameters);
    dropImmutableParameters(params, await this.executions().getAction(exec.action.ref));
    const context: Record<string, unknown> = {
      ...exec.context,
      user,
      re_run: { ref: id, tasks: [...new Set(tasks)], reset: noReset },
    };
    delete context.parent;
    return this.executions().request({ action: exec.action.ref, parameters: params, context, user });
  }

  /** The task executions of a workflow (for `--show-tasks` and tests). */
  async taskExecutions(id: string): Promise<TaskExecution[]> {
    const record = await this.stateOf(id);
    if (!record) throw new NotFoundError('Workflow state of execution', id);
    return record.state.tasks;
  }
}

/** A workflow's child execution id, the same whenever its request is made again. */
function childIdFor(record: StateRecord, p: PendingTask): string {
  return idFor(`${record.execution_id}:task:${p.key}`);
}

/**
 * st2's task(name, route) (orquesta_functions/runtime.py): the latest execution of the task on
 * that route, or, when the task never ran on it, on the nearest earlier route the current one
 * extends (before a split). A with-items task's result is `{items: [{status, result}, …]}`.
 */
function taskRecord(
  state: EngineState | undefined,
  workflowExecutionId: string,
  taskId: string | undefined,
  route: number,
): Record<string, unknown> {
  const notFound = (): SquallError =>
    new SquallError('WORKFLOW_TASK_NOT_FOUND', `Unable to find task execution for "${taskId ?? 'None'}".`, {
      task_id: taskId,
      workflow_execution_id: workflowExecutionId,
    });
  const conductor = state?.conductor as ConductorState | undefined;
  if (taskId === undefined || !conductor?.tasks) throw notFound();
  let r = route;
  while (conductor.tasks[`${taskId}__r${r}`] === undefined) {
    if (r <= 0) throw notFound();
    const current = conductor.routes[r] ?? [];
    let prev = -1;
    for (let i = r - 1; i >= 0; i--) {
      if ((conductor.routes[i] ?? []).every((t) => current.includes(t))) {
        prev = i;
        break;
      }
    }
    if (prev < 0) throw notFound();
    r = prev;
  }
  const runs = (state?.tasks ?? []).filter((x) => x.task_id === taskId && x.route === r);
  if (runs.length === 0) throw notFound();
  const latest = runs[runs.length - 1];
  const itemized = runs.filter((x) => x.item_id !== undefined);
  let result: unknown = latest.result ?? null;
  let status = latest.status;
  if (itemized.length > 0) {
    const items: unknown[] = [];
    for (const x of itemized) items[x.item_id as number] = { status: x.status, result: x.result ?? null };
    result = { items: Array.from(items, (i) => i ?? null) };
    const entry = conductor.sequence[conductor.tasks[`${taskId}__r${r}`]];
    status = entry?.status ?? status;
  }
  return {
    task_execution_id: latest.execution_id,
    workflow_execution_id: workflowExecutionId,
    task_name: taskId,
    task_id: taskId,
    route: r,
    result,
    status,
    start_timestamp: runs[0].start_timestamp,
    end_timestamp: latest.end_timestamp ?? null,
  };
}
