import { mentionsDatastore } from './datastore-mentions.js';
import os from 'node:os';
import path from 'node:path';
import { statSync } from 'node:fs';
import { ConflictError, NotFoundError, SquallError, ValidationError, errorMessage } from '../errors.js';
import { st2ApiUrl } from '../config/index.js';
import { newId } from '../ids.js';
import { lazyChild, type LevelLogger } from '../log/index.js';
import { splitRef } from '../names.js';
import type { EveryFieldListed } from '../api/index.js';
import {
  type ParameterSpec,
  getRunnerType,
  getRunner,
  type EgressSettings,
  type ActionDatastore,
  type OutputType,
  type RunnerContext,
  type RunnerResult,
} from '../runners/index.js';
import { hasRole, type Services } from '../service/index.js';
import {
  beforeLeavingProcess,
  breakStaleClaim,
  claimIsStale,
  outsideStoreGroup,
  whenDurable,
  type ActionRecord,
  type ExecutionRecord,
} from '../store/index.js';
import {
  actionSpecs,
  dropImmutableParameters,
  finalParameters,
  liveParameters,
  renderParameters,
  validateParameters,
} from './parameters.js';
import {
  MASK,
  maskParameters,
  openParameters,
  openValue,
  redactDeep,
  withoutSecrets,
  redactText,
  sealValue,
  sealParameters,
  maskedAt,
  type SecretBox,
} from './secrets.js';
import { secretPaths, secretValuesAt } from '../secret-paths.js';
import { liveExecutions } from './live.js';
import { mayHaveChildren, withChildren, withChildrenOf } from './children.js';
import { maskInquiryResponse, maskSecretOutput } from './output-schema.js';
import {
  ACTIVE_STATUSES,
  assertTransition,
  canTransition,
  isCompleted,
  type ExecutionStatus,
} from './status.js';
import { noteQueued, offloadResult } from '../scale/index.js';

export const RUN_JOB = 'execution.run';

/** The longest delay before a run: a year. A Date past ~2^53 ms is invalid, and ran at once. */
export const MAX_DELAY_MS = 365 * 86_400_000;

/** A value an execution keeps secret; `redactOutput`: hidden in its output as well as its parameters. */
export interface HiddenValue {
  value: string;
  redactOutput: boolean;
}

/** `values` as secrets of a request, all redacted from the output or none. */
export function hiddenValues(values: readonly string[], redactOutput: boolean): HiddenValue[] {
  return values.map((value) => ({ value, redactOutput }));
}

export interface ExecutionRequest {
  action: string;
  parameters?: Record<string, unknown>;
  /** st2 execution context: user, api_user, source_channel, chat, parent, rule, trigger_instance… */
  context?: Record<string, unknown>;
  /** The Squall user on whose behalf it runs (RBAC-effective user). */
  user: string;
  /**
   * Secrets the requester may have put into `parameters`, masked there where they appear: what a
   * rule's `decrypt_kv` opened, a re-run's original's secrets, a workflow's own. Those with
   * `redactOutput` are redacted from the output too; a workflow's st2kv(key, decrypt=true) values
   * are not, as the task's result flows on into the workflow (`task(t).result.stdout`), which st2
   * gives in plaintext.
   */
  secrets?: HiddenValue[];
  notify?: Record<string, unknown>;
  /** Milliseconds to wait before running (st2 `--delay`). */
  delay?: number;
  traceTag?: string;
  parent?: string;
  /** st2's top-level links for rule-fired executions: rule, trigger, trigger_type, trigger_instance. */
  links?: { rule?: unknown; trigger?: unknown; trigger_type?: unknown; trigger_instance?: unknown };
  /**
   * The execution's id, for a request that may repeat one whose process died (a rule enforcement
   * taken over): when it is already stored, that execution is returned and nothing is requested.
   */
  id?: string;
  /**
   * The caller has just looked `id` up and found nothing (a workflow step reads all its requests
   * in one call): it is not read again. A repeat racing this request is still caught at the insert.
   */
  unstored?: boolean;
}

/** What the executions service needs from the rest of Squall, injected so each part is testable. */
export interface ExecutionDeps {
  secretBox: SecretBox;
  /** Datastore contents for Jinja's `st2kv` (secrets stay ciphertext; `decrypt_kv` opens them). */
  kvSnapshot?(user: string): Promise<{ system: Record<string, unknown>; user: Record<string, unknown> }>;
  /**
   * Jinja's `decrypt_kv` for templates rendered on behalf of `user`: refuses keys the user may
   * not decrypt, and pushes every plaintext it hands out onto `revealed`.
   */
  kvDecryptor?(
    user: string,
    snapshot: { system: Record<string, unknown>; user: Record<string, unknown> },
    revealed: string[],
  ): Promise<(ciphertext: string) => string>;
  /**
   * The datastore as an action sees it (st2 action_service); `onReveal` receives every secret
   * it decrypts, so that it is redacted from the output.
   */
  actionDatastore?(ctx: {
    pack: string;
    user: string;
    executionId: string;
    onReveal(plaintext: string): void;
  }): ActionDatastore;
  /** Rendered pack config (config_context). */
  packConfig?(pack: string, user: string): Promise<Record<string, unknown>>;
  /** Temporary API token for the execution (ST2_ACTION_AUTH_TOKEN), revoked when it completes. */
  issueToken?(executionId: string, user: string): Promise<string>;
  revokeToken?(executionId: string): Promise<void>;
  /**
   * Called before scheduling: may return 'delayed' or 'canceled' (concurrency policies). `specs`
   * are the action's parameter specs when the caller has just read the action (a request).
   */
  admit?(
    execution: ExecutionRecord,
    specs?: Record<string, ParameterSpec>,
  ): Promise<'run' | 'delayed' | 'canceled'>;
  /**
   * Whether a policy (concurrency, retry…) applies to this action's executions. One that none
   * applies to is stored `scheduled` by its request, with no `admit` (ExecutionService.request);
   * with `admit` and without this, every request is admitted.
   */
  hasPolicies?(actionRef: string): Promise<boolean>;
  /**
   * Called once `execution` is stored as delayed by a policy: a slot freed between admit's refusal
   * and that write found no delayed execution to admit, so the policy looks again. Resolves to the
   * execution's record when the policy changed it meanwhile (admitted it), as it is then.
   */
  delayedByPolicy?(execution: ExecutionRecord): Promise<ExecutionRecord | undefined>;
  /**
   * The claim keys of work owed because `completed` (the record with its terminal status, not yet
   * stored) completes as it does: a retry policy's re-run. They are claimed before the status is
   * written, in the same store transaction, so that a process killed after the completion leaves
   * them open for the sweep to take over (store/claims.ts) instead of owing nothing.
   */
  owedOnCompletion?(completed: ExecutionRecord): Promise<string[]>;
}

/** What a status change sets besides the status (ExecutionService.setStatus). */
export interface StatusChange {
  reason?: string;
  set?: Record<string, unknown>;
  /** Refuse the change unless the execution is in one of these statuses. */
  expect?: string[];
  /**
   * A status the execution passes through on its way, not stored on its own (runHere's `running`):
   * `record` is the execution as that move would have stored it (`set` being what it set), while the
   * store still says `from`. It is written with this move, in one update, and published before it.
   */
  through?: { record: ExecutionRecord; from: string; set: Record<string, unknown> };
  /**
   * The attempt of the run making the change: refused (ATTEMPT_SUPERSEDED) once the execution has
   * been handed to a later one, in the same update that stores it.
   */
  attempt?: number;
}

export type CompletionListener = (execution: ExecutionRecord) => Promise<void> | void;

/**
 * A run this process claimed to run itself (ExecutionService.claimToRunHere): the record as it
 * scheduled it, and whether the run is one step — an immediate runner's (Runner.immediate), whose
 * `running` is stored with its completion (StatusChange.through) in one store transaction.
 */
interface ClaimedRun {
  record: ExecutionRecord;
  oneStep: boolean;
  /** The action as the request read it a moment before (run at once, not read again). */
  action?: ActionRecord;
}

const nowIso = () => new Date().toISOString();

/** Runner type shown for Squall's built-in actions (runBuiltin). */
export const BUILTIN_RUNNER = 'squall-builtin';

function secretNames(specs: Record<string, ParameterSpec>): string[] {
  return secretPaths(specs);
}

/**
 * An execution's fields as the API shows them (st2's ActionExecutionDB, and elapsed_seconds):
 * the type presentExecution answers with and what `?include_attributes=` takes are made from this
 * list, and every field ExecutionRecord names must be in it.
 */
export const EXECUTION_FIELDS = [
  'id',
  'action',
  'runner',
  'liveaction',
  'status',
  'start_timestamp',
  'end_timestamp',
  'elapsed_seconds',
  'parameters',
  'result',
  'result_size',
  'context',
  'parent',
  'children',
  'log',
  'delay',
  'rule',
  'trigger',
  'trigger_type',
  'trigger_instance',
  'workflow_execution',
  'task_execution',
  'web_url',
  'requested_by',
] as const;
type ExecutionField = (typeof EXECUTION_FIELDS)[number];
const _listed: EveryFieldListed<ExecutionRecord, ExecutionField> = true;

/**
 * Where the web UI shows an execution: st2's `<webui_base_url>/#/history/<id>/general`
 * (_get_web_url_for_execution); Squall's web UI is served at its API URL.
 */
export function executionWebUrl(apiUrl: string, id: string): string {
  return `${apiUrl.replace(/\/+$/, '')}/#/history/${id}/general`;
}

/** The fields `?include_attributes=` and `?exclude_attributes=` take for executions. */
export const EXECUTION_ATTRIBUTES: ReadonlySet<string> = new Set(EXECUTION_FIELDS);

/** An execution as the API and the stream show it. */
export type ShownExecution = { [F in ExecutionField]?: unknown };

/**
 * An execution as the API and the stream show it: secrets masked, internals left out. The notify
 * it was asked with is the liveaction's (st2's LIVEACTION_ATTRIBUTES), not a field of the execution.
 */
export function presentExecution(execution: ExecutionRecord): ShownExecution {
  const {
    secret_parameters: _secrets,
    held_parameters: _held,
    revealed: _revealed,
    worker: _worker,
    attempt: _attempt,
    notify,
    ...rest
  } = execution as ExecutionRecord & Record<string, unknown>;
  const parameters = maskParameters(execution.parameters ?? {}, execution.secret_parameters);
  return {
    ...rest,
    // Filled by withChildren for a workflow; stored in records written before it was derived.
    children: execution.children ?? [],
    ...('result' in execution ? { result: presentResult(execution) } : {}),
    parameters,
    liveaction: {
      id: execution.id,
      action: execution.action.ref,
      parameters,
      status: execution.status,
      runner_info: {},
      ...(notify ? { notify } : {}),
    },
  };
}

/**
 * st2's action trigger payload (st2actions/notifier/notifier.py `_post_generic_trigger`). `shown`:
 * for an API answer, the result as the execution's own answer shows it (what the action's
 * output_schema marks secret, masked); rules match the result as it is, as st2's do.
 */
export function actionTriggerPayload(execution: ExecutionRecord, shown = false): unknown {
  return {
    execution_id: execution.id,
    status: execution.status,
    start_timestamp: execution.start_timestamp,
    action_name: execution.action.name ?? splitRef(execution.action.ref).name,
    action_ref: execution.action.ref,
    runner_ref: execution.runner.name,
    // Secret parameters masked, as the execution's API answer (presentExecution) masks them.
    parameters: maskParameters(execution.parameters ?? {}, execution.secret_parameters),
    result: (shown ? presentResult(execution) : execution.result) ?? {},
  };
}

/** An execution's result as the API shows it: what its action's output_schema marks secret, masked. */
export function presentResult(execution: ExecutionRecord): unknown {
  if (execution.runner.name === 'inquirer') return presentInquiryResult(execution);
  const schema = execution.action.output_schema;
  if (schema === undefined) return execution.result;
  return maskSecretOutput(execution.result, getRunnerType(execution.runner.name)?.output_key, schema);
}

/** An inquiry's result: the answers its schema (given, or its action's default) marks secret, masked. */
function presentInquiryResult(execution: ExecutionRecord): unknown {
  const result = execution.result as Record<string, unknown> | undefined;
  if (!result || typeof result !== 'object' || !('response' in result)) return result;
  const specs = (execution.action.parameters ?? {}) as Record<string, ParameterSpec>;
  const schema = execution.parameters?.schema ?? specs.schema?.default;
  return { ...result, response: maskInquiryResponse(result.response, schema) };
}

/**
 * The parameters an execution runs with: what it stores (st2's live parameters) with every other
 * default of its action (`specs`, its merged_parameters) applied, secrets opened. As st2's
 * render_final_params, the action's specs are read when it runs.
 */
export function runParameters(
  execution: ExecutionRecord,
  specs: Record<string, ParameterSpec>,
  box: SecretBox,
): Record<string, unknown> {
  return finalParameters(
    specs,
    openParameters(execution.parameters ?? {}, box, execution.secret_parameters),
    openParameters(
      (execution.held_parameters ?? {}) as Record<string, unknown>,
      box,
      execution.secret_parameters,
    ),
  );
}

/**
 * Requests, runs, cancels and re-runs executions. Every change is written to the store before
 * its event is published, and the run itself is an Agenda job, so nothing is lost in a crash.
 */
export class ExecutionService {
  /** AbortControllers of the executions this process is running, for cancel. */
  private readonly running = new Map<string, AbortController>();
  private readonly completionListeners: CompletionListener[] = [];
  readonly workerId: string;

  constructor(
    private readonly services: Services,
    private readonly deps: ExecutionDeps,
  ) {
    this.workerId = `${os.hostname()}:${process.pid}:${newId().slice(-6)}`;
  }

  onCompleted(listener: CompletionListener): void {
    this.completionListeners.push(listener);
  }

  runningHere(): string[] {
    return [...this.running.keys()];
  }

  /** Runs this process stopped because it is shutting down, with the grace they were given. */
  private readonly stoppedAtShutdown = new Map<string, number>();

  /**
   * Shutdown, once the grace period is over: stops every action still running here (its whole
   * process group, SIGTERM then SIGKILL). Each run then records what happened to it (run()).
   */
  stopForShutdown(graceMs: number): string[] {
    const ids = this.runningHere();
    for (const id of ids) {
      this.stoppedAtShutdown.set(id, graceMs);
      this.running.get(id)?.abort();
    }
    if (ids.length)
      this.services.logger.warn(
        { executions: ids, grace_ms: graceMs },
        `shutting down: stopping ${ids.length} action(s) still running after the grace period`,
      );
    return ids;
  }

  /**
   * Records a run stopped at shutdown: abandoned, with a result that says why (its output so far
   * is kept), or — when its action is idempotent — handed back as a new attempt that another
   * process, or this one once restarted, runs.
   */
  private async recordShutdownStop(
    record: ExecutionRecord,
    action: ActionRecord,
    result: unknown,
    graceMs: number,
  ): Promise<void> {
    const id = record.id;
    const note =
      `Squall was shut down while this action ran, and it was still running after the grace period ` +
      `(executions.shutdown_grace_ms = ${graceMs} ms): its process group was killed.`;
    if ((action as { idempotent?: boolean }).idempotent) {
      const attempt = Number((record as { attempt?: number }).attempt ?? 0) + 1;
      const reason = `${note} Handed back as attempt ${attempt}: the action is idempotent.`;
      const updated = await this.store.executions.updateOne(
        { id, status: 'running' },
        {
          $set: { status: 'scheduled', attempt, worker: null, scheduled_by: this.workerId },
          $push: { log: { status: 'scheduled', timestamp: nowIso(), reason } },
        },
      );
      if (updated) {
        await liveExecutions(this.services).moved(id, 'scheduled');
        await this.services.scheduler.now(RUN_JOB, { id, attempt });
        this.publish('update', updated);
        return;
      }
    }
    const partial =
      result && typeof result === 'object' && !Array.isArray(result)
        ? (result as object)
        : { output: result };
    await this.setStatus(id, 'abandoned', { reason: note, set: { result: { ...partial, error: note } } });
  }

  private get store() {
    return this.services.store;
  }

  async getAction(ref: string): Promise<ActionRecord> {
    const action = await this.store.actions.findOne({ ref });
    if (!action) throw new NotFoundError('Action', ref, { hint: 'list actions with `squall action list`' });
    return action;
  }

  async get(id: string): Promise<ExecutionRecord> {
    const execution = await this.store.executions.get(id);
    if (!execution) throw new NotFoundError('Execution', id);
    return execution;
  }

  /**
   * The secret values `execution` holds, opened: its secret parameters (its action's defaults
   * applied) and what decrypt_kv revealed to it. A workflow hands them to the tasks it requests
   * (`secrets`, with redactOutput), so that a task parameter carrying one (`cmd: echo <%
   * ctx().password %>`) is masked and the task's output redacted, as in the workflow itself.
   */
  secretValuesOf(execution: ExecutionRecord): string[] {
    if (!secretNamesOf(execution).length && execution.revealed === undefined) return [];
    const specs = (execution.action.parameters ?? {}) as Record<string, ParameterSpec>;
    return heldSecrets(execution, runParameters(execution, specs, this.deps.secretBox), this.deps.secretBox);
  }

  /** The record as the API shows it: secrets masked. */
  present(execution: ExecutionRecord): Record<string, unknown> {
    return presentExecution(execution);
  }

  /** present(), with a workflow's children read (withChildren): the API's answer for one execution. */
  async presentOne(execution: ExecutionRecord): Promise<Record<string, unknown>> {
    return this.present(await withChildrenOf(this.store, execution));
  }

  /** presentOne() for a page of executions: one read for the children of all of them. */
  async presentPage(executions: ExecutionRecord[]): Promise<Record<string, unknown>[]> {
    return (await withChildren(this.store, executions)).map((e) => this.present(e));
  }

  private async renderContext(
    action: ActionRecord,
    user: string,
    context: Record<string, unknown>,
    withDatastore: boolean,
  ) {
    const [st2kv, config] = await Promise.all([
      (withDatastore && this.deps.kvSnapshot?.(user)) || { system: {}, user: {} },
      this.deps.packConfig?.(action.pack, user) ?? {},
    ]);
    return { action_context: context, config_context: config, st2kv };
  }

  /**
   * Runs `work` in this process as an execution of one of Squall's built-in actions, which have
   * no action file and no runner (st2's `packs.install` and `packs.uninstall`, which st2's API
   * answers with an execution id): it is recorded, published and completed like any execution,
   * so `st2`, `squall` and the UI follow it the same way. Its result is `{output: <work's value>}`;
   * a failure's is `{error}`.
   */
  async runBuiltin(
    spec: {
      ref: string;
      description: string;
      user: string;
      parameters: Record<string, unknown>;
      /** The runner type clients are shown (what st2 would run it with); the runner is BUILTIN_RUNNER. */
      shownRunnerType?: string;
    },
    work: () => Promise<unknown>,
  ): Promise<ExecutionRecord> {
    const id = newId();
    const now = nowIso();
    const { pack, name } = splitRef(spec.ref);
    const record: ExecutionRecord = {
      id,
      action: {
        ref: spec.ref,
        name,
        pack,
        runner_type: spec.shownRunnerType ?? BUILTIN_RUNNER,
        uid: `action:${pack}:${name}`,
        description: spec.description,
        parameters: {},
      },
      runner: { name: BUILTIN_RUNNER, runner_parameters: {} },
      status: 'requested',
      start_timestamp: now,
      parameters: spec.parameters,
      secret_parameters: [],
      context: { user: spec.user, pack },
      log: [{ status: 'requested', timestamp: now }],
      attempt: 0,
      web_url: executionWebUrl(this.services.apiUrl, id),
      requested_by: this.workerId,
    };
    await liveExecutions(this.services).enter(id, 'requested');
    await this.store.executions.insert(record);
    this.publish('create', record);
    await this.setStatus(id, 'scheduled');
    // `worker` lets recovery abandon it if this process dies mid-way.
    const running = await this.setStatus(id, 'running', { set: { worker: this.workerId } });
    void (async () => {
      let outcome: { status: ExecutionStatus; result: unknown };
      try {
        await beforeLeavingProcess(this.store); // work has effects (a pack's files): see the runner gate in run()
        outcome = { status: 'succeeded', result: { output: await work() } };
      } catch (err) {
        const context = err instanceof SquallError ? { code: err.code } : {};
        outcome = { status: 'failed', result: { error: errorMessage(err), ...context } };
      }
      await this.setStatus(id, outcome.status, { set: { result: outcome.result } }).catch((err) =>
        this.services.logger.error({ err, execution: id }, 'could not record the end of a built-in action'),
      );
    })();
    return running;
  }

  async request(req: ExecutionRequest): Promise<ExecutionRecord> {
    if (
      req.delay !== undefined &&
      !(Number.isInteger(req.delay) && req.delay >= 0 && req.delay <= MAX_DELAY_MS)
    )
      throw new ValidationError(
        `delay: must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS} (a year), got ${JSON.stringify(req.delay)}`,
        { field: 'delay', value: req.delay },
      );
    if (req.id && !req.unstored) {
      const stored = await this.store.executions.get(req.id);
      if (stored) return stored;
    }
    const action = await this.getAction(req.action);
    if (action.enabled === false) {
      throw new SquallError('ACTION_DISABLED', `Action "${action.ref}" is disabled and cannot be executed`, {
        action: action.ref,
      });
    }
    const runnerType = getRunnerType(String(action.runner_type));
    // A recognised runner Squall does not run (winrm-*) still gets an execution, which fails in run().
    if (!runnerType) {
      throw new SquallError(
        'RUNNER_UNSUPPORTED',
        `Action "${action.ref}" uses runner "${action.runner_type}", which Squall cannot run`,
        {
          action: action.ref,
        },
      );
    }
    const specs = actionSpecs(action);
    const id = req.id ?? newId();
    // As st2: `pack` is the action's, whatever the caller's context said.
    const context: Record<string, unknown> = { user: req.user, ...(req.context ?? {}), pack: action.pack };
    if (req.traceTag) context.trace_context = { trace_tag: req.traceTag };
    if (req.parent) context.parent = { execution_id: req.parent, ...((req.context?.parent as object) ?? {}) };

    let parameters: Record<string, unknown>;
    let kept: { live: Record<string, unknown>; held: Record<string, unknown> };
    // What decrypt_kv opens while the parameters render, redacted from the output as well.
    const decrypted: string[] = [];
    const hidden = () => [...(req.secrets ?? []).map((s) => s.value), ...decrypted];
    let rendered: Record<string, unknown> | undefined;
    try {
      // The datastore is read only when a template can reach it (issue 19: every key per event).
      const withDatastore = mentionsDatastore(specs, req.parameters);
      const rc = await this.renderContext(action, req.user, { ...context, execution_id: id }, withDatastore);
      const decrypt = await this.deps.kvDecryptor?.(req.user, rc.st2kv, decrypted);
      parameters = renderParameters(specs, req.parameters ?? {}, rc, { decrypt });
      rendered = parameters;
      validateParameters(parameters, specs);
      kept = liveParameters(specs, req.parameters ?? {}, parameters);
    } catch (err) {
      // A cast or validation error quotes the value it refused: one decrypt_kv opened, or a secret
      // parameter's value another parameter holds, would reach the caller, a rule enforcement's
      // failure_reason (readable by all) and the log.
      throw withoutSecrets(
        err instanceof SquallError
          ? namingAction(err, action.ref)
          : new ValidationError(errorMessage(err), { action: action.ref }),
        [...hidden(), ...(rendered ? secretValuesAt(rendered, secretNames(specs)) : [])],
      );
    }
    const secrets = secretNames(specs);
    const revealed = [...(req.secrets ?? []).filter((s) => s.redactOutput).map((s) => s.value), ...decrypted];
    // A parameter rendered from a secret (cmd: "login {{ password }}") is as secret as its source.
    // A string inside a secret object too (cmd: "login {{ vault.key }}").
    const secretValues = [...secretValuesAt(parameters, secrets), ...hidden()].filter((v) => v.length >= 3);
    // Read with the secrets masked: an object holding a secret inside it is not secret whole for it.
    for (const [name, value] of Object.entries(maskedAt(parameters, secrets))) {
      if (value !== MASK && secretValues.some((sv) => JSON.stringify(value ?? '').includes(sv)))
        secrets.push(name);
    }
    const now = nowIso();
    const record: ExecutionRecord = {
      id,
      action: {
        ref: action.ref,
        name: action.name,
        pack: action.pack,
        runner_type: action.runner_type,
        uid: action.uid,
        description: action.description,
        entry_point: action.entry_point,
        parameters: action.parameters,
        // Says what of the result is secret, masked where it is shown (presentExecution).
        ...(action.output_schema !== undefined ? { output_schema: action.output_schema } : {}),
      },
      runner: { name: String(action.runner_type), runner_parameters: runnerType.runner_parameters },
      status: 'requested',
      start_timestamp: now,
      parameters: sealParameters(kept.live, secrets, this.deps.secretBox),
      ...(Object.keys(kept.held).length
        ? { held_parameters: sealParameters(kept.held, secrets, this.deps.secretBox) }
        : {}),
      secret_parameters: secrets,
      // Decrypted datastore values, kept to redact them from the output.
      ...(revealed.length ? { revealed: sealValue(revealed, this.deps.secretBox) } : {}),
      context,
      log: [{ status: 'requested', timestamp: now }],
      attempt: 0,
      web_url: executionWebUrl(this.services.apiUrl, id),
      // Recovery leaves a request alone while the process that is scheduling it is alive.
      requested_by: this.workerId,
      ...(req.notify ? { notify: req.notify } : {}),
      ...(req.parent ? { parent: req.parent } : {}),
      ...(req.delay ? { delay: req.delay } : {}),
      ...(req.links ?? {}),
    };
    // Nothing to wait for (no delay, no policy to ask): stored `scheduled` with its `requested`
    // logged before it, one write of the record and of its entry instead of two of each (issue 19).
    const atOnce = req.delay ? undefined : await this.scheduledAtOnce(record);
    const inserted = atOnce ?? record;
    // Entered first: an execution stored without its entry would be invisible to recovery.
    const stored = await this.store.transaction(async () => {
      await liveExecutions(this.services).enter(id, inserted.status, atOnce && action.ref);
      try {
        await this.store.executions.insert(inserted);
      } catch (err) {
        // A repeat racing the request it repeats: that one stored it first.
        const first = req.id && err instanceof ConflictError ? await this.store.executions.get(id) : null;
        if (first) return first;
        throw err;
      }
      // The parent's `children` are not written here: they are read from this `parent` (withChildren).
      return null;
    });
    if (stored) return stored;
    this.publish('create', record);
    noteQueued(this.services);
    if (!atOnce) return this.schedule(record, { specs });
    // Clients see what the two writes showed: created `requested`, then updated `scheduled`.
    this.publish('update', atOnce);
    await this.queueRun(atOnce, action);
    return atOnce;
  }

  /**
   * `requested` as `request` stores an execution that goes straight on to `scheduled`, or
   * undefined when a policy applies to its action: the policy decides (schedule). A crash before
   * its run is queued leaves it `scheduled` by a dead worker, with no run claim: recovery queues it.
   */
  private async scheduledAtOnce(requested: ExecutionRecord): Promise<ExecutionRecord | undefined> {
    if (this.deps.admit && (await (this.deps.hasPolicies?.(requested.action.ref) ?? true))) return undefined;
    return {
      ...requested,
      status: 'scheduled',
      log: [...requested.log, { status: 'scheduled', timestamp: nowIso() }],
      // As schedule() sets it: recovery re-queues a run whose scheduler died before its job.
      scheduled_by: this.workerId,
    };
  }

  /**
   * requested → scheduled (or delayed/canceled by a policy), and the durable run job. `specs`: the
   * action's parameter specs, when the caller has the action (its policies need not read it).
   */
  async schedule(
    record: ExecutionRecord,
    options: { admitted?: boolean; specs?: Record<string, ParameterSpec> } = {},
  ): Promise<ExecutionRecord> {
    const verdict = options.admitted ? 'run' : ((await this.deps.admit?.(record, options.specs)) ?? 'run');
    if (verdict === 'canceled')
      return this.setStatus(record.id, 'canceled', { reason: 'canceled by concurrency policy' });
    if (verdict === 'delayed') {
      const delayed = await this.setStatus(record.id, 'delayed', { reason: 'delayed by concurrency policy' });
      return (await this.deps.delayedByPolicy?.(delayed)) ?? delayed;
    }
    const data = { id: record.id, attempt: (record as { attempt?: number }).attempt ?? 0 };
    if (record.delay && record.status === 'requested') {
      // st2 shows a run waiting out its delay as `delayed`, `scheduled` once the delay is over.
      const until = new Date(Date.now() + Number(record.delay));
      const delayed = await this.setStatus(
        record.id,
        'delayed',
        {
          reason: `delayed ${Number(record.delay)} ms`,
          set: { scheduled_by: this.workerId, delayed_until: until.toISOString() },
        },
        record,
      );
      await this.services.scheduler.at(until, RUN_JOB, data);
      return delayed;
    }
    // scheduled_by lets recovery re-queue a run whose scheduler died before creating its job.
    const scheduled = await this.setStatus(
      record.id,
      'scheduled',
      { set: { scheduled_by: this.workerId } },
      record,
    );
    if (record.delay) {
      await this.services.scheduler.at(new Date(Date.now() + Number(record.delay)), RUN_JOB, data);
      return scheduled;
    }
    await this.queueRun(scheduled);
    return scheduled;
  }

  /**
   * The run of a `scheduled` execution: here (claimToRunHere), or an `execution.run` job for any
   * runner. `action`: as the request just read it, which a run here starts with rather than read it
   * again (a job reads it when it runs).
   */
  private async queueRun(scheduled: ExecutionRecord, action?: ActionRecord): Promise<void> {
    const attempt = (scheduled as { attempt?: number }).attempt ?? 0;
    const here = await this.claimToRunHere(scheduled, attempt, action);
    if (here)
      // Once what scheduled it is committed (its events out first), outside that transaction.
      whenDurable(() => outsideStoreGroup(() => void this.runHere(here, attempt)));
    else await this.services.scheduler.now(RUN_JOB, { id: scheduled.id, attempt });
  }

  /**
   * Whether this process runs `scheduled` itself, with no `execution.run` job: a runner of this
   * process whose run ends at once (Runner.immediate: noop) or works in this process and its
   * children (Runner.runsHere: local shell), its attempt claimed here as the job's run would claim
   * it. A crash before `running` is stored leaves it `scheduled` and claimed by a dead worker:
   * recovery gives it a new attempt, as it does a job claimed by a process that died before it ran.
   * A crash after it is the job's case too: a `running` execution of a dead worker, abandoned (or
   * re-run when its action is idempotent). Runs that take time are held to the job's concurrency
   * (scheduler.max_concurrency): past it, the execution goes to the queue for any runner.
   */
  private async claimToRunHere(
    scheduled: ExecutionRecord,
    attempt: number,
    action?: ActionRecord,
  ): Promise<ClaimedRun | undefined> {
    if (this.shuttingDown) return undefined;
    const runner = getRunner(String(scheduled.runner.name));
    if (!runner?.immediate && !runner?.runsHere) return undefined;
    if (!hasRole(this.services.config, 'runner')) return undefined;
    const oneStep = runner.immediate === true;
    if (!oneStep && this.busyHere() >= this.services.config.scheduler.max_concurrency) return undefined;
    if (!(await this.store.claim(runClaim(scheduled.id, attempt), this.workerId))) return undefined;
    if (!oneStep) this.claimedHere.add(scheduled.id);
    else this.atOnceHere.add(scheduled.id);
    return { record: scheduled, oneStep, ...(action ? { action } : {}) };
  }

  /** Executions claimed by claimToRunHere whose one-step runs (Runner.immediate) have not ended. */
  private readonly atOnceHere = new Set<string>();

  /**
   * Whether `id` was claimed to run in this process in one step (Runner.immediate), and has not
   * ended: it completes here within moments (the workflow engine keeps its lease for the step that follows).
   */
  runsAtOnceHere(id: string): boolean {
    return this.atOnceHere.has(id);
  }

  /** Executions claimed by claimToRunHere whose runs have not ended (runs that take time only). */
  private readonly claimedHere = new Set<string>();

  /** Set at shutdown: the queue, which this process has stopped taking from, gets every run. */
  private shuttingDown = false;

  /** Shutdown begins: from now on an execution scheduled here is left to the queue. */
  stopRunningHere(): void {
    this.shuttingDown = true;
  }

  /** Runs started here without a job that have not ended: shutdown waits for them as for jobs. */
  runsUnderWayHere(): number {
    return this.claimedHere.size;
  }

  /** Runs this process has under way or about to start: its jobs' and those it claimed itself. */
  private busyHere(): number {
    let busy = this.running.size;
    for (const id of this.claimedHere) if (!this.running.has(id)) busy++;
    return busy;
  }

  /**
   * The run of an execution claimed by claimToRunHere. An immediate one is one store transaction,
   * whose one update of the record stores `running` and the completion together (both logged, both
   * published in order), and whose register entry is written once, removed by the completion. Any
   * other runs as its job would, `running` stored (and on disk) before it starts.
   */
  private async runHere(claimed: ClaimedRun, attempt: number): Promise<void> {
    const id = claimed.record.id;
    try {
      if (claimed.oneStep) await this.store.transaction(() => this.run(id, attempt, claimed));
      else await this.run(id, attempt, claimed);
    } catch (err) {
      this.services.logger.error({ err, execution: id }, 'execution run failed');
    } finally {
      this.claimedHere.delete(id);
      this.atOnceHere.delete(id);
    }
  }

  /**
   * Moves an execution to `status`, refusing illegal transitions; returns the updated record.
   * `known` is the record as the caller just read or wrote it, which spares reading it again: the
   * update is conditional on its status, so a record that changed since is read afresh and retried.
   */
  setStatus(
    id: string,
    status: ExecutionStatus,
    extra: StatusChange = {},
    known?: ExecutionRecord,
  ): Promise<ExecutionRecord> {
    // A completion is one step: its claim, the status, and what completion sets off in the store
    // (the action trigger's instance and job) are acknowledged together.
    if (isCompleted(status)) return this.store.transaction(() => this.moveStatus(id, status, extra, known));
    return this.moveStatus(id, status, extra, known);
  }

  private async moveStatus(
    id: string,
    status: ExecutionStatus,
    extra: StatusChange,
    known?: ExecutionRecord,
  ): Promise<ExecutionRecord> {
    if (extra.through) known = extra.through.record;
    // A known record that would refuse the move may be behind: the refusal is decided on a fresh read.
    if (
      known &&
      (known.id !== id ||
        (extra.expect && !extra.expect.includes(known.status)) ||
        !canTransition(known.status, status))
    )
      known = undefined;
    const current = known ?? (await this.get(id));
    const through = known && known === extra.through?.record ? extra.through : undefined;
    if (extra.expect && !extra.expect.includes(current.status)) {
      throw new SquallError(
        'STATUS_CHANGED',
        `execution ${id} is ${current.status}, not ${extra.expect.join('/')}`,
        { id },
        409,
      );
    }
    assertTransition(id, current.status, status);
    const atAttempt = extra.attempt === undefined ? {} : { attempt: currentAttempt(current, extra.attempt) };
    if (isCompleted(status)) {
      await this.takeCompletion(id);
      await this.claimOwed({ ...current, ...(extra.set ?? {}), status });
    }
    const now = nowIso();
    const $set: Record<string, unknown> = { ...(through?.set ?? {}), status, ...(extra.set ?? {}) };
    if (isCompleted(status)) {
      $set.end_timestamp = now;
      $set.elapsed_seconds = (Date.parse(now) - Date.parse(current.start_timestamp)) / 1000;
    }
    // The status and its register entry are one step: committed together.
    const updated = await this.store.transaction(async () => {
      const entry = { status, timestamp: now, ...(extra.reason ? { reason: extra.reason } : {}) };
      const changed = await this.store.executions.updateOne(
        { id, status: through ? through.from : current.status, ...atAttempt },
        { $set, $push: { log: through ? { $each: [through.record.log.at(-1), entry] } : entry } },
      );
      if (changed) await liveExecutions(this.services).moved(id, status, current.action.ref);
      return changed;
    });
    if (!updated) {
      // Changed since (a cancel): decided afresh, from what the store says now.
      const { through: _passed, ...rest } = extra;
      return this.setStatus(id, status, rest);
    }
    if (through) this.publish('update', through.record);
    // A workflow's update shows its children, as st2's does (read once per status of the workflow).
    // Others publish with no wait in between: nothing else can publish between their two events.
    this.publish('update', mayHaveChildren(updated) ? await this.shownWithChildren(updated) : updated);
    if (isCompleted(status)) await this.completed(updated);
    return updated;
  }

  /**
   * One completion per execution, whoever races for it — a runner finishing, and recovery
   * abandoning the run of a worker it believed dead. The status guard alone let the later writer
   * win (succeeded, then abandoned): a conditional update is not atomic on FerretDB; a unique
   * insert is. Recovery releases the claim of a worker that died before writing its status.
   */
  private async takeCompletion(id: string): Promise<void> {
    const key = completionClaim(id);
    if (await this.store.claim(key, this.workerId)) return;
    const held = await this.store.claims.get(key);
    if (!held || held.owner === this.workerId) return;
    // runHere claims the completion before its one status write: on a store without transactions,
    // a worker that died between the two keeps the claim while the execution is still `scheduled`,
    // and the attempt recovery then gives it could never complete. A dead holder's claim is taken.
    const deadAfter = this.services.config.executions.dead_after_ms;
    if (
      (await claimIsStale(this.store, held, deadAfter)) &&
      (await breakStaleClaim(this.store, held, this.workerId, deadAfter)) &&
      (await this.store.claim(key, this.workerId))
    )
      return;
    const latest = await this.get(id);
    throw new SquallError(
      'STATUS_CHANGED',
      `execution ${id} is being completed by ${held.owner} (now ${latest.status})`,
      { id, status: latest.status, by: held.owner },
      409,
    );
  }

  /**
   * Claims the work `completed` owes (ExecutionDeps.owedOnCompletion) for this process. Should the
   * status write then fail, the open claim is harmless: whoever takes it over finds the execution
   * not completed that way, and owes nothing.
   */
  private async claimOwed(completed: ExecutionRecord): Promise<void> {
    for (const key of (await this.deps.owedOnCompletion?.(completed)) ?? [])
      await this.store.claim(key, this.workerId);
  }

  /**
   * The workflow's record with its children for its event. The status is stored already: a failed
   * read of the children costs the event its list (logged), not the completion that follows it.
   */
  private async shownWithChildren(record: ExecutionRecord): Promise<ExecutionRecord> {
    try {
      return await withChildrenOf(this.store, record);
    } catch (err) {
      this.services.logger.warn(
        { err, execution: record.id },
        "could not read a workflow's children for its event",
      );
      return record;
    }
  }

  private publish(op: 'create' | 'update', record: ExecutionRecord): void {
    const payload = this.present(record);
    this.services.bus.publish(`st2.execution__${op}`, payload);
    this.services.bus.publish(`st2.liveaction__${op}`, payload.liveaction);
  }

  private async completed(record: ExecutionRecord): Promise<void> {
    await this.deps
      .revokeToken?.(record.id)
      .catch((err) => this.services.logger.warn({ err, id: record.id }, 'token revoke failed'));
    for (const listener of this.completionListeners) {
      try {
        await listener(record);
      } catch (err) {
        this.services.logger.error({ err, execution: record.id }, 'completion listener failed');
      }
    }
  }

  /**
   * The Agenda job: runs the execution once, whichever process picks the job up. `claimed` is a run
   * this process scheduled and has claimed the attempt of already (runHere).
   */
  async run(id: string, attempt = 0, claimed?: ClaimedRun): Promise<void> {
    const abort = new AbortController();
    // Not one store transaction with its claim: the events of two transactions that end in the
    // same fsync go out in the order the transactions ended, so this `running` could reach
    // listeners before the completion that let a concurrency policy admit it. (runHere's claim is
    // taken when it is scheduled, and its run starts once that is committed and announced.)
    const started = await this.startRun(id, attempt, abort, claimed);
    if (!started) return;
    const { record, action, runner, logger } = started;
    // runHere's immediate run, whose `running` is stored with its completion (StatusChange.through).
    const oneStep = claimed?.oneStep ? claimed.record : undefined;
    try {
      const specs = actionSpecs(action);
      const params = runParameters(record, specs, this.deps.secretBox);
      const secretValues = heldSecrets(record, params, this.deps.secretBox);
      const runnerSpec = getRunnerType(String(record.runner.name))!;
      const runnerParameters: Record<string, unknown> = {};
      const actionParameters: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(params)) {
        if (k in runnerSpec.runner_parameters) runnerParameters[k] = v;
        else actionParameters[k] = v;
      }
      const user = String(record.context.user ?? 'stanley');
      const token = (await this.deps.issueToken?.(id, user)) ?? '';
      const workDir = path.join(this.services.config.data_dir, 'work', id);
      const venvDir = path.join(this.services.config.packs.virtualenvs_dir ?? '', action.pack);
      let venvFound: boolean | undefined;
      const ctx: RunnerContext = {
        executionId: id,
        action: {
          ref: action.ref,
          pack: action.pack,
          name: action.name,
          runner_type: String(action.runner_type),
          entry_point: action.entry_point as string | undefined,
          parameters: specs,
          packDir: String(action.pack_dir ?? ''),
        },
        runnerParameters,
        actionParameters,
        config: (await this.deps.packConfig?.(action.pack, user)) ?? {},
        env: {
          ST2_ACTION_PACK_NAME: action.pack,
          ST2_ACTION_EXECUTION_ID: id,
          ST2_ACTION_API_URL: st2ApiUrl(this.services.config, this.services.apiUrl),
          ST2_ACTION_AUTH_TOKEN: token,
          SQUALL_API_URL: this.services.apiUrl,
          SQUALL_EXECUTION_ID: id,
        },
        signal: abort.signal,
        onOutput: (type: OutputType, data: string) =>
          void this.output(record, type, redactText(data, secretValues)),
        datastore: durableWrites(
          this.deps.actionDatastore?.({
            pack: action.pack,
            user,
            executionId: id,
            onReveal: (plaintext) => secretValues.push(plaintext),
          }) ?? emptyDatastore,
          () => beforeLeavingProcess(this.store),
        ),
        logger,
        apiUrl: this.services.apiUrl,
        authToken: token,
        workDir,
        // Looked for once a runner asks (Python's), not with a stat for every execution.
        get venvDir() {
          venvFound ??= existsDir(venvDir);
          return venvFound ? venvDir : undefined;
        },
        virtualenvsDir: this.services.config.packs.virtualenvs_dir,
        commonLibs: this.services.config.packs.enable_common_libs === true,
        maxOutputChars: this.services.config.executions.max_output_chars,
        egress: (this.services.config as { egress?: EgressSettings }).egress,
      };
      let outcome: RunnerResult;
      try {
        // An action with a side effect (a spawn, SSH, HTTP) starts only on state that is on disk:
        // the embedded store acknowledges writes at commit and fsyncs when something leaves the
        // process (src/store/sqlite/database.ts), so a power cut cannot take back the `running`
        // of an action that has run. Immediate on MongoDB. A failed fsync fails the execution here.
        if (!runner.inProcess) await beforeLeavingProcess(this.store);
        outcome = await runner.run(ctx);
      } catch (err) {
        outcome = { status: 'failed', result: { error: errorMessage(err) } };
      }
      const result = redactDeep(outcome.result, secretValues);
      // A result over results.max_inline_bytes is stored apart; the record keeps a preview.
      const offloaded = await offloadResult(this.services, id, result);
      const resultFields: Record<string, unknown> = offloaded
        ? { result: offloaded.result, result_ref: offloaded.result_ref, result_size: offloaded.result_size }
        : { result };
      const stoppedGrace = this.stoppedAtShutdown.get(id);
      // A run of runHere() ended without waiting: what changed meanwhile (a cancel) is caught by the
      // completion's update, conditional on the status it was scheduled with, then read afresh.
      const latest = oneStep ? record : await this.get(id);
      const handedOn = Number((latest as { attempt?: number }).attempt ?? 0);
      if (handedOn > attempt && !isCompleted(latest.status)) {
        // This process was taken for dead while it ran (its heartbeat late: a saturated store or
        // CPU) and the execution handed to a new attempt (an idempotent action's re-run): that
        // attempt records the outcome. Completing it here was refused (`scheduled → succeeded`)
        // and recorded it `failed`, and the new attempt then found nothing to run.
        logger.warn(
          { attempt, current: handedOn, status: latest.status, outcome: outcome.status },
          'the execution was handed to a newer attempt while this run went on: its outcome is left to that attempt',
        );
        return;
      }
      if (!oneStep && stoppedGrace !== undefined && latest.status === 'running') {
        await this.recordShutdownStop(latest, action, result, stoppedGrace);
        return;
      }
      let final = outcome.status as ExecutionStatus;
      // A durable runner still `running` (a workflow) is ended by its engine once its tasks are
      // canceled: ending it here would report it canceled while its children still run.
      if (latest.status === 'canceling' && !['succeeded', 'failed', 'running'].includes(final))
        final = 'canceled';
      let through: StatusChange['through'] = oneStep
        ? { record, from: oneStep.status, set: { worker: this.workerId } }
        : undefined;
      if (through && !isCompleted(final)) {
        // The run did not end after all: `running` is stored on its own first.
        await this.setStatus(id, 'running', { set: through.set }, oneStep);
        through = undefined;
      }
      if (final === 'running' || final === 'pending' || final === 'paused') {
        // A durable runner (workflow, inquiry) carries on without this process: its engine
        // completes the execution later through completeExternally(). No worker owns it now.
        if (final === 'running') {
          await this.store.executions.updateOne(
            { id },
            { $set: { worker: null, durable: true, ...(result !== undefined ? resultFields : {}) } },
          );
        } else {
          await this.setStatus(id, final, { set: { ...resultFields, worker: null, durable: true } });
        }
      } else {
        await this.setStatus(id, final, { set: resultFields, through }, latest);
      }
    } catch (err) {
      await this.runFailed(id, logger, err);
    } finally {
      if (this.running.get(id) === abort) this.running.delete(id);
      this.stoppedAtShutdown.delete(id);
    }
  }

  /**
   * The start of a run: its attempt's claim, the record and its action, and `running`.
   * Undefined when there is nothing to run here (claimed by another, no longer runnable, failed).
   */
  private async startRun(id: string, attempt: number, abort: AbortController, claimed?: ClaimedRun) {
    if (!claimed && !(await this.store.claim(runClaim(id, attempt), this.workerId))) return undefined;
    const record = claimed?.record ?? (await this.store.executions.get(id));
    if (!record || !['scheduled', 'requested', 'delayed'].includes(record.status)) return undefined;
    const action = claimed?.action ?? (await this.store.actions.findOne({ ref: record.action.ref }));
    if (!action) {
      await this.setStatus(id, 'failed', {
        reason: 'action was removed',
        set: { result: { error: `Action "${record.action.ref}" no longer exists` } },
      });
      return undefined;
    }
    const runner = getRunner(String(record.runner.name));
    if (!runner) {
      const error = `runner "${record.runner.name}" is not supported by Squall: action "${record.action.ref}" cannot run here`;
      await this.setStatus(id, 'failed', { reason: error, set: { result: { error } } });
      return undefined;
    }
    // Another run of it under way here (see startOvertaken) keeps its entry: a cancel aborts that one.
    if (!this.running.has(id)) this.running.set(id, abort);
    const logger = lazyChild(this.services.logger, { execution: id, action: record.action.ref });
    try {
      const ready =
        record.status === 'delayed'
          ? await this.setStatus(id, 'scheduled', { reason: 'delay elapsed' }, record)
          : record;
      const running = claimed?.oneStep
        ? // runHere: stored with the completion (StatusChange.through).
          passing(ready, 'running', { worker: this.workerId })
        : await this.setStatus(
            id,
            'running',
            // runHere's record is the one it scheduled: a cancel since then is no run.
            { set: { worker: this.workerId }, attempt, ...(claimed ? { expect: ['scheduled'] } : {}) },
            ready,
          );
      return { record: running, action, runner, logger };
    } catch (err) {
      if (startOvertaken(err)) logger.warn({ err }, 'the execution moved on before this run started it');
      else if (!(claimed && err instanceof SquallError && err.code === 'STATUS_CHANGED'))
        await this.runFailed(id, logger, err);
      if (this.running.get(id) === abort) {
        this.running.delete(id);
        this.stoppedAtShutdown.delete(id);
      }
      return undefined;
    }
  }

  /** A run that threw: failed, unless something else completed it meanwhile. */
  private async runFailed(id: string, logger: LevelLogger, err: unknown): Promise<void> {
    logger.error({ err }, 'execution run failed');
    const latest = await this.store.executions.get(id);
    if (latest && !isCompleted(latest.status)) {
      await this.setStatus(id, 'failed', { set: { result: { error: errorMessage(err) } } }).catch(
        () => undefined,
      );
    }
  }

  private async output(record: ExecutionRecord, type: OutputType, data: string): Promise<void> {
    const out = {
      id: newId(),
      execution_id: record.id,
      action_ref: record.action.ref,
      runner_ref: String(record.runner.name),
      timestamp: nowIso(),
      output_type: type,
      data,
    };
    try {
      await this.store.executionOutput.insert(out);
      this.services.bus.publish('st2.execution.output__create', out);
    } catch (err) {
      this.services.logger.warn({ err, execution: record.id }, 'could not store output');
    }
  }

  /**
   * st2's cancel: an execution not yet running is canceled at once; a running one goes to
   * `canceling` and its runner is stopped (SIGTERM, then SIGKILL), ending in `canceled`.
   */
  async cancel(id: string, by?: string): Promise<ExecutionRecord> {
    const record = await this.get(id);
    if (isCompleted(record.status)) {
      throw new SquallError(
        'NOT_CANCELABLE',
        `Execution ${id} is already ${record.status} and cannot be canceled`,
        { id },
        409,
      );
    }
    const reason = by ? `canceled by ${by}` : 'canceled';
    if (['requested', 'scheduled', 'delayed', 'paused'].includes(record.status)) {
      await this.services.scheduler.cancel({
        name: RUN_JOB,
        data: { id, attempt: (record as { attempt?: number }).attempt ?? 0 },
      });
      return this.setStatus(id, 'canceled', { reason });
    }
    const updated =
      record.status === 'canceling' ? record : await this.setStatus(id, 'canceling', { reason });
    this.running.get(id)?.abort();
    this.services.bus.publish('squall.execution.cancel', { id });
    return updated;
  }

  /**
   * Ends an execution whose runner returned while it was still running (workflows, inquiries):
   * the engine that owns it reports the final status and result here.
   */
  async completeExternally(
    id: string,
    status: ExecutionStatus,
    result: unknown,
    reason?: string,
  ): Promise<ExecutionRecord> {
    return this.setStatus(id, status, { set: { result }, reason });
  }

  /** Aborts a run of this process when another process asked for the cancel. */
  abortLocal(id: string): void {
    this.running.get(id)?.abort();
  }

  /**
   * A new execution of the same action with the same (or overridden) parameters. A caller that
   * holds the original's record as stored (the policy engine's retry) passes it, not read again.
   */
  async rerun(
    idOrOriginal: string | ExecutionRecord,
    user: string,
    overrides: Record<string, unknown> = {},
    delay?: number,
    extraContext: Record<string, unknown> = {},
    /** The re-run's id, when the caller derives it (a retry taken over finds the first one's). */
    rerunId?: string,
  ): Promise<ExecutionRecord> {
    const original = typeof idOrOriginal === 'string' ? await this.get(idOrOriginal) : idOrOriginal;
    const id = original.id;
    const params = openParameters(original.parameters ?? {}, this.deps.secretBox, original.secret_parameters);
    dropImmutableParameters(params, await this.getAction(original.action.ref));
    const context: Record<string, unknown> = {
      ...original.context,
      re_run: { ref: id },
      user,
      ...extraContext,
    };
    delete context.parent;
    // Someone else's re-run was not asked for by the original's chat user: kept, that user would
    // be the requester an approval's different_from_requester compares, and the re-runner could
    // approve their own run. The thread stays, so the result still goes back there.
    if (user !== original.context.user && !('chat' in extraContext)) {
      const chat = context.chat as Record<string, unknown> | undefined;
      if (chat && typeof chat === 'object')
        context.chat = Object.fromEntries(Object.entries(chat).filter(([k]) => k !== 'user'));
      delete context.api_user;
    }
    // What was secret in the original stays secret in the re-run, decrypted values included.
    const revealed = heldSecrets(original, params, this.deps.secretBox);
    return this.request({
      ...(rerunId ? { id: rerunId } : {}),
      action: original.action.ref,
      parameters: { ...params, ...overrides },
      context,
      user,
      delay,
      secrets: hiddenValues(revealed, true),
      notify: (original as { notify?: Record<string, unknown> }).notify,
    });
  }
}

/**
 * A run's `running` refused because another run of the execution started it already (or it was
 * canceled, or completed, or handed to a later attempt): nothing to run here, and nothing to record. Two attempts of one
 * execution can be under way at once when the sweep or the recovery check takes a slow runner for
 * dead and gives its claimed run a new attempt; the slower one found the execution `running` and
 * recorded it `failed` while the other ran the action, whose completion was then refused.
 */
function startOvertaken(err: unknown): boolean {
  if (err instanceof SquallError && err.code === 'ATTEMPT_SUPERSEDED') return true;
  if (!(err instanceof SquallError) || err.code !== 'ILLEGAL_TRANSITION') return false;
  const from = String((err.context as { from?: unknown }).from ?? '');
  return isCompleted(from) || (ACTIVE_STATUSES as readonly string[]).includes(from);
}

/**
 * The filter on `record`'s attempt for a change made by a run of `attempt` (StatusChange.attempt),
 * which throws when the execution was handed to a later attempt since: the sweep or the recovery
 * check took that run's process for dead (a late heartbeat) and gave it a new attempt, whose run
 * then found it `running` and left it, while this one ran the action and, seeing the later attempt,
 * left its outcome to that run: the execution stayed `running` for good.
 */
function currentAttempt(record: ExecutionRecord, attempt: number): number | { $exists: false } {
  const stored = (record as { attempt?: number }).attempt;
  if (Number(stored ?? 0) > attempt)
    throw new SquallError(
      'ATTEMPT_SUPERSEDED',
      `execution ${record.id} was handed to attempt ${String(stored)}: this run, attempt ${attempt}, does not start it`,
      { id: record.id, attempt, current: stored },
      409,
    );
  // An execution never handed on has no `attempt` stored.
  return stored === undefined ? { $exists: false } : stored;
}

/** `record` as a move to `status` would store it, not stored (StatusChange.through). */
function passing(
  record: ExecutionRecord,
  status: ExecutionStatus,
  set: Record<string, unknown>,
): ExecutionRecord {
  return { ...record, ...set, status, log: [...record.log, { status, timestamp: nowIso() }] };
}

/** The claim that lets one process run an attempt of an execution (ExecutionService.startRun). */
export function runClaim(id: string, attempt: number): string {
  return `execution:${id}:attempt:${attempt}`;
}

/** The claim that lets one process complete an execution (see ExecutionService.takeCompletion). */
export function completionClaim(id: string): string {
  return `execution:${id}:completed`;
}

/**
 * The action's datastore, whose writes answer the action process only once on disk: the action
 * may act outside on what it stored (see the runner gate in ExecutionService.run()).
 */
function durableWrites(ds: ActionDatastore, durable: () => Promise<void>): ActionDatastore {
  return {
    getValue: (name, opts) => ds.getValue(name, opts),
    listValues: (opts) => ds.listValues(opts),
    setValue: async (name, value, opts) => {
      await ds.setValue(name, value, opts);
      await durable();
    },
    deleteValue: async (name, opts) => {
      const deleted = await ds.deleteValue(name, opts);
      await durable();
      return deleted;
    },
  };
}

const emptyDatastore: ActionDatastore = {
  async getValue() {
    return null;
  },
  async setValue() {
    throw new SquallError('NO_DATASTORE', 'the datastore is not available in this process');
  },
  async deleteValue() {
    return false;
  },
  async listValues() {
    return [];
  },
};

function existsDir(p: string): boolean {
  try {
    return Boolean(p) && statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The values at `record`'s secret paths in `params` (its parameters, opened) and what it revealed. */
function heldSecrets(record: ExecutionRecord, params: Record<string, unknown>, box: SecretBox): string[] {
  const values = secretValuesAt(params, secretNamesOf(record));
  if (record.revealed !== undefined) values.push(...(openValue(record.revealed, box) as string[]));
  return values;
}

function secretNamesOf(record: ExecutionRecord): string[] {
  return (record as { secret_parameters?: string[] }).secret_parameters ?? [];
}

/** The parameter errors that name the action they concern (namingAction). */
const NAMES_ACTION = new Set(['PARAM_REQUIRED', 'PARAM_INVALID', 'PARAM_UNKNOWN', 'PARAM_TYPE']);

/**
 * A missing, invalid, mistyped or unknown parameter named with its action ("core.local: 'cmd' is
 * a required property"): st2's words alone left the user (of the API, the CLI or chat, or reading
 * a rule enforcement) guessing which action of a rule or workflow refused it. st2's words follow
 * the prefix, so a client matching them still does.
 */
function namingAction(err: SquallError, ref: string): SquallError {
  if (!NAMES_ACTION.has(err.code)) return err;
  return new SquallError(err.code, `${ref}: ${err.message}`, { ...err.context, action: ref }, err.status);
}

export { MASK };
