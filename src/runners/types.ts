import type { EgressSettings } from './egress.js';
import type { ParameterSpec } from './catalog.js';

/** Execution statuses a runner may end in (st2-reference.md §13.1). */
export type RunnerStatus =
  'succeeded' | 'failed' | 'timeout' | 'canceled' | 'abandoned' | 'pending' | 'running';

export type OutputType = 'stdout' | 'stderr' | 'output';

/** The action as a runner needs to see it. */
export interface RunnerAction {
  ref: string;
  pack: string;
  name: string;
  runner_type: string;
  entry_point?: string;
  /** Merged runner + action parameter specs (st2 inheritance already applied). */
  parameters: Record<string, ParameterSpec>;
  /** Absolute path of the pack directory; entry points resolve against `<packDir>/actions/`. */
  packDir: string;
}

/** Datastore access for actions (st2 action_service semantics, §2.3). */
export interface ActionDatastore {
  getValue(
    name: string,
    opts?: { local?: boolean; scope?: 'system' | 'user'; decrypt?: boolean },
  ): Promise<string | null>;
  setValue(
    name: string,
    value: string,
    opts?: { ttl?: number; local?: boolean; scope?: 'system' | 'user'; encrypt?: boolean },
  ): Promise<void>;
  deleteValue(name: string, opts?: { local?: boolean; scope?: 'system' | 'user' }): Promise<boolean>;
  listValues(opts?: {
    local?: boolean;
    prefix?: string;
    scope?: 'system' | 'user';
  }): Promise<Array<{ name: string; value: string }>>;
}

export interface RunnerLogger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface RunnerContext {
  executionId: string;
  action: RunnerAction;
  /** Values for the runner's own parameters (cmd, hosts, timeout, url, ...), rendered and cast. */
  runnerParameters: Record<string, unknown>;
  /** Values for the action's parameters that are not runner parameters, rendered and cast. */
  actionParameters: Record<string, unknown>;
  /** The pack config (config_context), with dynamic values already rendered. */
  config: Record<string, unknown>;
  /** ST2_ACTION_* compatible variables (§1.2) plus Squall's; merged under the user's `env`. */
  env: Record<string, string>;
  /** Aborted when the execution is canceled; runners stop their work (SIGTERM, then SIGKILL). */
  signal: AbortSignal;
  /** Called for each chunk of output as it arrives (stored and streamed by the caller). */
  onOutput(type: OutputType, data: string): void;
  /** Output kept per stream (`executions.max_output_chars`; 0: no limit); see OutputCapture. */
  maxOutputChars?: number;
  datastore: ActionDatastore;
  logger: RunnerLogger;
  /** Base URL of Squall's API and a temporary token valid for this execution only. */
  apiUrl: string;
  authToken: string;
  /**
   * Where runners may write scratch files (pack venvs live elsewhere, see `venvDir`); not created
   * in advance: a runner whose process runs there passes `scratchCwd` to startProcess (process.ts),
   * which makes it and removes it after the run when it is empty.
   */
  workDir: string;
  /** The pack's Python virtualenv, when it has one. */
  venvDir?: string;
  /**
   * Where pack virtualenvs live (`packs.virtualenvs_dir`). When set, the python runner refuses, as
   * st2 does, a pack that needs a virtualenv and has none (see missingVirtualenv).
   */
  virtualenvsDir?: string;
  /** st2's `[packs] enable_common_libs`: the pack's root `lib/` goes first on PYTHONPATH. */
  commonLibs?: boolean;
  /**
   * Defaults for the remote-shell runners when the action sets no `username` / `private_key`
   * (st2's `[system_user] user` and `ssh_key_file`). Without them: the service's user and ~/.ssh keys.
   */
  ssh?: { username?: string; privateKeyPath?: string };
  /** The config's egress policy for outbound HTTP (`egress`); the default when absent. */
  egress?: EgressSettings;
}

export interface RunnerResult {
  status: RunnerStatus;
  result: unknown;
}

export interface Runner {
  readonly name: string;
  /**
   * True when running an action has no effect outside this process and its store (noop, a
   * workflow, an inquiry): it may start on writes that are committed but not yet on disk. Any
   * other runner (a spawn, an SSH or HTTP call) starts only once the store has synced: an action
   * with a side effect never runs on state a power cut could take back.
   */
  readonly inProcess?: boolean;
  /**
   * True when a run ends at once, in this process, without waiting on anything (noop): the process
   * that schedules such an execution runs it itself, with no job in between, and its `running`,
   * run and completion share one store transaction. Implies `inProcess`.
   */
  readonly immediate?: boolean;
  /**
   * True when a run's work happens in this process or in a child process it spawns (local shell):
   * the process that schedules such an execution, when it has the runner role, runs it itself with
   * no `execution.run` job in between (ExecutionService.claimToRunHere). Unlike `immediate`, its
   * `running` is stored, and on disk, before the run starts. Implied by `immediate`.
   */
  readonly runsHere?: boolean;
  run(ctx: RunnerContext): Promise<RunnerResult>;
}
