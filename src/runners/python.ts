import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { errorMessage } from '../errors.js';
import { CANCELED_MESSAGE, actionEnv, timeoutMessage, timeoutSeconds } from './common.js';
import { serveDatastoreCall } from './datastore-rpc.js';
import { PACK_RECORD_METHODS, servePackRecordCall } from './pack-records-rpc.js';
import { pythonShimDir, pythonWrapperPath, resolveEntryPoint } from './paths.js';
import { serveJsonChannel, type JsonChannel } from './json-channel.js';
import { startProcess } from './process.js';
import { getRunnerType } from './catalog.js';
import { ensureSt2Runtime, packPythonPath } from './st2-runtime.js';
import { systemUser } from './system-user.js';
import { missingVirtualenv } from './virtualenv.js';
import type { Runner, RunnerContext, RunnerResult, RunnerStatus } from './types.js';

const DEFAULT_TIMEOUT = 600;

interface ResultMessage {
  type: 'result';
  status: boolean | null;
  result: unknown;
  raised?: boolean;
}

export function pythonExecutable(ctx: RunnerContext): string {
  return ctx.venvDir ? path.join(ctx.venvDir, 'bin', 'python') : 'python3';
}

/**
 * Only the action's own parameters reach run(**params); runner parameters stay with the runner.
 * As in st2, a declared parameter with no value arrives as None, so `def run(self, cmd, hosts)`
 * works when the caller gave neither.
 */
function actionOnlyParameters(ctx: RunnerContext): Record<string, unknown> {
  const runnerParams = getRunnerType(ctx.action.runner_type)?.runner_parameters ?? {};
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(ctx.action.parameters ?? {})) if (!(k in runnerParams)) out[k] = null;
  for (const [k, v] of Object.entries(ctx.actionParameters))
    if (!(k in runnerParams) && v !== undefined) out[k] = v;
  return out;
}

/**
 * Serves the wrapper's channel on fd 3 (json-channel.ts: bounded lines): datastore and pack-record
 * RPCs are answered one at a time and in order, as the Python side waits for each answer (a flood
 * of requests waits on its own writes); the result message is kept. A line over the limit (or one
 * that is not a message) stops the action: its reason is the execution's error.
 */
function serveChannel(
  ctx: RunnerContext,
  channel: Readable & Writable,
  stop: () => void,
): { result: () => ResultMessage | undefined; violation: () => string | undefined } {
  let result: ResultMessage | undefined;
  const served: JsonChannel = serveJsonChannel(channel, {
    who: `python action "${ctx.action.ref}"`,
    maxInFlight: 1,
    onMessage: (msg: { type?: string; id?: number; method?: string; args?: unknown }) => {
      if (msg.type === 'result') {
        result = msg as ResultMessage;
        return;
      }
      if (msg.type !== 'rpc') return false;
      return (async () => {
        let answer: Record<string, unknown>;
        try {
          answer = {
            id: msg.id,
            result:
              (PACK_RECORD_METHODS.has(String(msg.method))
                ? await servePackRecordCall(ctx, String(msg.method), msg.args)
                : await serveDatastoreCall(ctx.datastore, String(msg.method), msg.args)) ?? null,
          };
        } catch (err) {
          answer = { id: msg.id, error: errorMessage(err) };
        }
        served.send(answer);
      })();
    },
    onViolation: (reason) => {
      ctx.logger.warn({ execution: ctx.executionId, action: ctx.action.ref }, reason);
      stop();
    },
    onError: (err) =>
      ctx.logger.warn({ err: errorMessage(err), execution: ctx.executionId }, 'python action channel error'),
  });
  return { result: () => result, violation: () => served.violation() };
}

/**
 * `python-script`: runs an st2 Python action unchanged through the shim (st2 §1.3, §2.3). Result
 * `{result, stdout, stderr, exit_code}`; `(False, x)` or an exception makes it fail.
 */
export const pythonScriptRunner: Runner = {
  name: 'python-script',
  async run(ctx): Promise<RunnerResult> {
    const noVirtualenv =
      ctx.venvDir || ctx.virtualenvsDir === undefined
        ? undefined
        : missingVirtualenv(ctx.action.pack, ctx.action.packDir, ctx.virtualenvsDir);
    if (noVirtualenv) return { status: 'failed', result: { error: noVirtualenv } };
    const entry = resolveEntryPoint(ctx.action.packDir, ctx.action.entry_point, ctx.action.ref);
    const timeout = timeoutSeconds(ctx, DEFAULT_TIMEOUT);
    const env = actionEnv(ctx, ctx.runnerParameters.env);
    env.PYTHONPATH = packPythonPath({
      // st2's python runner: the pack's root lib/ only with [packs] enable_common_libs.
      ...(ctx.commonLibs ? { commonLibDir: path.join(ctx.action.packDir, 'lib') } : {}),
      venvDir: ctx.venvDir,
      packLibDirs: [path.join(ctx.action.packDir, 'actions', 'lib')],
      shimDirs: [pythonShimDir()],
      inherited: env.PYTHONPATH,
      runtimeSite: await ensureSt2Runtime(ctx.logger),
    });
    env.PYTHONUNBUFFERED = '1';
    env.PYTHONIOENCODING = 'utf-8';
    if (ctx.venvDir) {
      env.VIRTUAL_ENV = ctx.venvDir;
      env.PATH = `${path.join(ctx.venvDir, 'bin')}${path.delimiter}${env.PATH ?? ''}`;
    }
    const request = {
      entry_point: entry,
      pack: ctx.action.pack,
      packs_base_paths: [path.dirname(ctx.action.packDir)],
      system_user: systemUser(ctx),
      parameters: actionOnlyParameters(ctx),
      config: ctx.config,
      log_level:
        typeof ctx.runnerParameters.log_level === 'string' ? ctx.runnerParameters.log_level : 'DEBUG',
    };

    const proc = startProcess({
      command: pythonExecutable(ctx),
      args: ['-u', pythonWrapperPath()],
      stdin: JSON.stringify(request),
      cwd: ctx.workDir,
      scratchCwd: true,
      env,
      timeoutSeconds: timeout,
      signal: ctx.signal,
      onOutput: (type, data) => ctx.onOutput(type, data),
      maxOutputChars: ctx.maxOutputChars,
      extraPipe: true,
    });
    const channel = proc.child?.stdio[3] as (Readable & Writable) | undefined | null;
    const served = channel
      ? serveChannel(ctx, channel, () => proc.stop())
      : { result: () => undefined, violation: () => undefined };
    const outcome = await proc.done;
    const message = served.result();

    const result: Record<string, unknown> = {
      result: message ? (message.result ?? null) : null,
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      exit_code: outcome.returnCode,
    };
    let status: RunnerStatus;
    const violation = served.violation();
    if (violation !== undefined) {
      status = 'failed';
      result.error = violation;
    } else if (outcome.timedOut) {
      status = 'timeout';
      Object.assign(result, { exit_code: -9, error: timeoutMessage(timeout) });
    } else if (outcome.canceled) {
      status = 'canceled';
      result.error = CANCELED_MESSAGE;
    } else if (outcome.spawnError) {
      status = 'failed';
      result.error = `could not start ${pythonExecutable(ctx)}: ${outcome.spawnError.message}`;
    } else if (outcome.returnCode === -15) {
      status = 'abandoned';
    } else if (outcome.returnCode !== 0 || !message || message.status === false) {
      status = 'failed';
    } else {
      status = 'succeeded';
    }
    return { status, result };
  },
};
