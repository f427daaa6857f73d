/**
 * The ActionChain conductor (st2-reference.md §6.2) as a pure, persistable state machine: it
 * renders each task's parameters with Jinja, follows on-success / on-failure, publishes
 * variables, and builds st2's result `{tasks: [...], published}`. Running actions, ids and
 * timestamps are the integrator's: it passes them in with each completion.
 */
import { SquallError } from '../../errors.js';
import { evaluateJinja, hasJinja } from '../expressions/jinja/index.js';
import { parseChainSpec, type ChainSpec, type ChainTask } from './spec.js';

export type ChainStatus =
  'null' | 'running' | 'pausing' | 'paused' | 'canceling' | 'canceled' | 'succeeded' | 'failed';

export interface ChainTaskRecord {
  id: string | null;
  name: string;
  execution_id: string | null;
  state: string;
  result: unknown;
  created_at: string | null;
  updated_at: string | null;
  workflow: string | null;
}

export interface ChainState {
  version: 1;
  spec: ChainSpec;
  parameters: Record<string, unknown>;
  actionContext: Record<string, unknown>;
  status: ChainStatus;
  vars: Record<string, unknown>;
  published: Record<string, unknown>;
  results: Record<string, unknown>;
  tasks: ChainTaskRecord[];
  /** The task requested and not completed yet. */
  current: string | null;
  /** The next task to request on resume. */
  next: string | null;
  /** The current task, when its execution was pending or paused at some point. */
  held?: string | null;
  error?: string;
  traceback?: string;
}

export interface ChainRequest {
  name: string;
  ref: string;
  parameters: Record<string, unknown>;
  notify?: Record<string, unknown>;
}

export interface ChainCompletion {
  status: string;
  result?: unknown;
  execution_id?: string;
  created_at?: string;
  updated_at?: string;
}

export interface ChainOptions {
  /** Synchronous datastore lookup for `st2kv.system.x` / `st2kv.user.x` in templates. */
  kv?: { system?: Record<string, unknown>; user?: Record<string, unknown> };
  decrypt?: (cipher: string) => string;
}

function render(value: unknown, ctx: Record<string, unknown>, options: ChainOptions, where: string): unknown {
  if (typeof value === 'string') {
    if (!hasJinja(value)) return value;
    return evaluateJinja(value, ctx, {
      source: where,
      ...(options.decrypt ? { decrypt: options.decrypt } : {}),
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => render(v, ctx, options, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, render(v, ctx, options, `${where}.${k}`)]),
    );
  }
  return value;
}

export class ActionChainConductor {
  readonly state: ChainState;
  private readonly options: ChainOptions;

  private constructor(state: ChainState, options: ChainOptions) {
    this.state = state;
    this.options = options;
  }

  static create(
    spec: ChainSpec | string | Record<string, unknown>,
    parameters: Record<string, unknown> = {},
    actionContext: Record<string, unknown> = {},
    options: ChainOptions = {},
  ): ActionChainConductor {
    const parsed = isChainSpec(spec) ? spec : parseChainSpec(spec);
    return new ActionChainConductor(
      {
        version: 1,
        spec: JSON.parse(JSON.stringify(parsed)) as ChainSpec,
        parameters: { ...parameters },
        actionContext: { ...actionContext },
        status: 'null',
        vars: {},
        published: {},
        results: {},
        tasks: [],
        current: null,
        next: parsed.default,
      },
      options,
    );
  }

  static fromState(state: ChainState, options: ChainOptions = {}): ActionChainConductor {
    if (!state || state.version !== 1)
      throw new SquallError(
        'ACTIONCHAIN_STATE_INVALID',
        'Action chain state is missing or not version 1',
        {},
      );
    return new ActionChainConductor(JSON.parse(JSON.stringify(state)) as ChainState, options);
  }

  get status(): ChainStatus {
    return this.state.status;
  }

  /** st2's action-chain result: `{tasks, published, [error, traceback]}`. */
  get result(): Record<string, unknown> {
    const out: Record<string, unknown> = { tasks: this.state.tasks, published: this.state.published };
    if (this.state.error !== undefined) {
      out.error = this.state.error;
      out.traceback = this.state.traceback ?? this.state.error;
    }
    return out;
  }

  /** The Jinja context: parameters, vars, published values, results by task name, __results. */
  context(): Record<string, unknown> {
    const s = this.state;
    return {
      ...s.parameters,
      ...s.vars,
      ...s.published,
      ...s.results,
      __results: s.results,
      action_context: s.actionContext,
      st2kv: { system: this.options.kv?.system ?? {}, user: this.options.kv?.user ?? {} },
    };
  }

  private chainError(message: string, context: Record<string, unknown>): null {
    this.state.error = message;
    this.state.traceback = message;
    this.state.status = 'failed';
    this.state.current = null;
    this.state.next = null;
    void context;
    return null;
  }

  /** Starts the chain: renders vars and returns the first task to run (null if it failed to render). */
  start(): ChainRequest | null {
    if (this.state.status !== 'null') {
      throw new SquallError(
        'ACTIONCHAIN_ALREADY_STARTED',
        `Action chain cannot start: it is already ${this.state.status}`,
        { status: this.state.status },
      );
    }
    this.state.status = 'running';
    try {
      const rolling: Record<string, unknown> = { ...this.state.parameters };
      for (const [k, v] of Object.entries(this.state.spec.vars)) {
        rolling[k] = render(
          v,
          { ...rolling, st2kv: this.context().st2kv, action_context: this.state.actionContext },
          this.options,
          `vars.${k}`,
        );
        this.state.vars[k] = rolling[k];
      }
    } catch (err) {
      return this.chainError(`Failed to render vars: ${(err as Error).message}`, {});
    }
    return this.request(this.state.next as string);
  }

  private task(name: string): ChainTask {
    return this.state.spec.chain.find((t) => t.name === name) as ChainTask;
  }

  private request(name: string): ChainRequest | null {
    const task = this.task(name);
    let parameters: Record<string, unknown>;
    try {
      parameters = render(task.parameters, this.context(), this.options, `${name}.parameters`) as Record<
        string,
        unknown
      >;
    } catch (err) {
      return this.chainError(
        `Failed rendering value for action parameter in task "${name}" (${task.ref}): ${(err as Error).message}`,
        { task: name },
      );
    }
    this.state.current = name;
    this.state.next = null;
    return { name, ref: task.ref, parameters, ...(task.notify ? { notify: task.notify } : {}) };
  }

  /** Records the current task's outcome; returns the next task to run, or null when the chain ended. */
  onTaskCompleted(name: string, completion: ChainCompletion): ChainRequest | null {
    const s = this.state;
    if (s.current !== name) {
      throw new SquallError(
        'ACTIONCHAIN_TASK_NOT_RUNNING',
        `Task "${name}" is not the running task of this chain (running: ${s.current ?? 'none'})`,
        {
          task: name,
          current: s.current,
        },
      );
    }
    const task = this.task(name);
    s.current = null;
    s.tasks.push({
      id: completion.execution_id ?? null,
      name,
      execution_id: completion.execution_id ?? null,
      state: completion.status,
      result: completion.result ?? null,
      created_at: completion.created_at ?? null,
      updated_at: completion.updated_at ?? null,
      workflow: null,
    });
    // st2 puts the final result of a task the chain paused on under its `result` as well (the
    // runner's resume: context_result[task]["result"] = ...): chains write {{ ask.result.response }}.
    const held = s.held === name;
    s.held = null;
    s.results[name] =
      held && completion.result && typeof completion.result === 'object' && !Array.isArray(completion.result)
        ? { ...(completion.result as Record<string, unknown>), result: completion.result }
        : (completion.result ?? null);
    let next: string | undefined;
    if (completion.status === 'succeeded') {
      try {
        const ctx = this.context();
        for (const [k, v] of Object.entries(task.publish)) {
          s.published[k] = render(v, { ...ctx, ...s.published }, this.options, `${name}.publish.${k}`);
        }
      } catch (err) {
        return this.chainError(`Failed to publish variables of task "${name}": ${(err as Error).message}`, {
          task: name,
        });
      }
      next = task.onSuccess;
      if (!next) s.status = this.endStatus('succeeded');
    } else if (completion.status === 'canceled') {
      s.status = 'canceled';
      return null;
    } else {
      next = task.onFailure;
      if (!next) s.status = this.endStatus('failed');
    }
    if (!next) return null;
    if (s.status === 'pausing' || s.status === 'paused') {
      s.next = next;
      s.status = 'paused';
      return null;
    }
    if (s.status === 'canceling') {
      s.status = 'canceled';
      return null;
    }
    return this.request(next);
  }

  private endStatus(ended: ChainStatus): ChainStatus {
    if (this.state.status === 'canceling') return 'canceled';
    return ended;
  }

  /**
   * The running task's execution is waiting (pending on an inquiry, or paused): the chain pauses
   * on it, as st2's action-chain runner does, and carries on when it is resumed or answered.
   */
  onTaskHeld(name: string): void {
    const s = this.state;
    if (s.current !== name) return;
    s.held = name;
    if (s.status === 'running' || s.status === 'pausing') s.status = 'paused';
  }

  /** The held task's execution runs again on its own (a paused sub-workflow resumed): so does the chain. */
  onTaskReleased(): void {
    const s = this.state;
    if (s.current && s.status === 'paused' && !s.next) s.status = 'running';
  }

  pause(): void {
    const s = this.state;
    if (s.status !== 'running')
      throw new SquallError(
        'ACTIONCHAIN_STATUS_TRANSITION',
        `Cannot pause an action chain that is ${s.status}`,
        { status: s.status },
      );
    s.status = s.current ? 'pausing' : 'paused';
  }

  resume(): ChainRequest | null {
    const s = this.state;
    if (s.status !== 'paused' && s.status !== 'pausing') {
      throw new SquallError(
        'ACTIONCHAIN_STATUS_TRANSITION',
        `Cannot resume an action chain that is ${s.status}`,
        { status: s.status },
      );
    }
    s.status = 'running';
    if (s.next) return this.request(s.next);
    return null;
  }

  cancel(): void {
    const s = this.state;
    if (['succeeded', 'failed', 'canceled'].includes(s.status)) {
      throw new SquallError(
        'ACTIONCHAIN_STATUS_TRANSITION',
        `Cannot cancel an action chain that is already ${s.status}`,
        { status: s.status },
      );
    }
    s.status = s.current ? 'canceling' : 'canceled';
    s.next = null;
  }
}

function isChainSpec(v: unknown): v is ChainSpec {
  return (
    !!v &&
    typeof v === 'object' &&
    Array.isArray((v as ChainSpec).chain) &&
    typeof (v as ChainSpec).default === 'string' &&
    'vars' in (v as object) &&
    (v as ChainSpec).chain.every((t) => 'publish' in t)
  );
}
