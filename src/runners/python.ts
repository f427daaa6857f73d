import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { errorMessage } from '../errors.js';
import { CANCELED_MESSAGE, actionEnv, ensureWorkDir, timeoutMessage, timeoutSeconds } from './common.js';
import { serveDatastoreCall } from './datastore-rpc.js';
import { PACK_RECORD_METHODS, servePackRecordCall } from './pack-records-rpc.js';
import { pythonShimDir, pythonWrapperPath, resolveEntryPoint } from './paths.js';
import { boundedLines } from './bounded-lines.js';
import { MAX_CHANNEL_MESSAGE_BYTES } from './json-channel.js';
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
 * Serves the wrapper's channel on fd 3: datastore RPCs go to ctx.datastore, the result message is
 * kept. Requests are answered in order, as the Python side waits for each answer.
 */
function serveChannel(
  ctx: RunnerContext,
  channel: Readable & Writable,
): { result: () => ResultMessage | undefined; oversize: () => number | undefined } {
  let result: ResultMessage | undefined;
  let oversize: number | undefined;
  let queue = Promise.resolve();
  channel.on('error', (err) =>
    ctx.logger.warn({ err: errorMessage(err), execution: ctx.executionId }, 'python action channel error'),
  );
  boundedLines(
    channel,
    MAX_CHANNEL_MESSAGE_BYTES,
    (line) => onLine(line),
    (bytes) => {
      oversize = bytes;
    },
  );
  const onLine = (line: string): void => {
    let msg: { type?: string; id?: number; method?: string; args?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch (err) {
      ctx.logger.warn(
        { execution: ctx.executionId, err: errorMessage(err) },
        'python action sent a line that is not JSON on fd 3',
      );
      return;
    }
    if (msg.type === 'result') {
      result = msg as ResultMessage;
      return;
    }
    if (msg.type !== 'rpc') return;
    queue = queue.then(async () => {
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
      if (!channel.destroyed && channel.writable) channel.write(`${JSON.stringify(answer)}\n`);
    });
  };
  return { result: () => result, oversize: () => oversize };
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
      cwd: ensureWorkDir(ctx),
      env,
      timeoutSeconds: timeout,
      signal: ctx.signal,
      onOutput: (type, data) => ctx.onOutput(type, data),
      maxOutputChars: ctx.maxOutputChars,
      extraPipe: true,
    });
    const channel = proc.child?.stdio[3] as (Readable & Writable) | undefined | null;
    const served = channel
      ? serveChannel(ctx, channel)
      : { result: () => undefined, oversize: () => undefined };
    const outcome = await proc.done;
    const message = served.result();

    const result: Record<string, unknown> = {
      result: message ? (message.result ?? null) : null,
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      exit_code: outcome.returnCode,
    };
    let status: RunnerStatus;
    if (outcome.timedOut) {
      status = 'timeout';
      Object.assign(result, { exit_code: -9, error: timeoutMessage(timeout) });
    } else if (outcome.canceled) {
      status = 'canceled';
      result.error = CANCELED_MESSAGE;
    } else if (outcome.spawnError) {
      status = 'failed';
      result.error = `could not start ${pythonExecutable(ctx)}: ${outcome.spawnError.message}`;
    } else if (served.oversize() !== undefined) {
      status = 'failed';
      result.error = `the action's result (or a datastore call) was more than ${MAX_CHANNEL_MESSAGE_BYTES.toLocaleString('en-US')} bytes as JSON (${(served.oversize() as number).toLocaleString('en-US')} read when it was dropped); return less, or store it elsewhere and return where`;
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
