import { SquallError, errorMessage } from '../errors.js';
import { CANCELED_MESSAGE, actionEnv, timeoutMessage, timeoutSeconds } from './common.js';
import { serveDatastoreCall } from './datastore-rpc.js';
import { getRunnerType } from './catalog.js';
import { nodeHostPath, resolveEntryPoint } from './paths.js';
import { startProcess } from './process.js';
import type { Readable, Writable } from 'node:stream';
import { MAX_CHANNEL_MESSAGE_BYTES, serveJsonChannel, type JsonChannel } from './json-channel.js';
import type { Runner, RunnerContext, RunnerResult, RunnerStatus } from './types.js';

const DEFAULT_TIMEOUT = 600;

interface ChildMessage {
  type?: string;
  id?: number;
  method?: string;
  args?: unknown;
  ok?: boolean;
  result?: unknown;
  error?: string;
}

/** Node ≥ 22.6 can load .ts files by stripping types; Node 20 cannot. */
export function typeStrippingFlags(version = process.versions.node): string[] | undefined {
  const [major, minor] = version.split('.').map(Number);
  if (major > 23 || (major === 23 && minor >= 6)) return [];
  if (major >= 23 || (major === 22 && minor >= 6)) return ['--experimental-strip-types'];
  return undefined;
}

function execArgvFor(ctx: RunnerContext, entry: string): string[] {
  if (!/\.(ts|mts|cts)$/.test(entry)) return [];
  const flags = typeStrippingFlags();
  if (flags === undefined) {
    throw new SquallError(
      'RUNNER_ENTRY_POINT_UNSUPPORTED',
      `entry_point "${ctx.action.entry_point}" of action "${ctx.action.ref}" is TypeScript, which Node ${process.versions.node} cannot run directly; ship it compiled to .js/.mjs (or run Squall on Node ≥ 22.6)`,
      { action: ctx.action.ref, entry_point: ctx.action.entry_point, node: process.versions.node },
    );
  }
  return flags;
}

/**
 * `nodejs`: Squall's native runner. The entry point runs in a child Node process (its own process
 * group) so a crash or an endless loop cannot hurt the service; its SDK's datastore calls come
 * back as JSON lines on fd 3 (bounded: json-channel.ts) and are served from ctx.datastore. Result
 * `{result, stdout, stderr}`.
 */
export const nodejsRunner: Runner = {
  name: 'nodejs',
  async run(ctx): Promise<RunnerResult> {
    const entry = resolveEntryPoint(ctx.action.packDir, ctx.action.entry_point, ctx.action.ref);
    const execArgv = execArgvFor(ctx, entry);
    const timeout = timeoutSeconds(ctx, DEFAULT_TIMEOUT);
    const runnerParams = getRunnerType(ctx.action.runner_type)?.runner_parameters ?? {};
    const params = Object.fromEntries(
      Object.entries(ctx.actionParameters).filter(([k]) => !(k in runnerParams)),
    );

    const proc = startProcess({
      command: process.execPath,
      args: [...execArgv, nodeHostPath()],
      cwd: ctx.workDir,
      scratchCwd: true,
      env: actionEnv(ctx, ctx.runnerParameters.env),
      timeoutSeconds: timeout,
      signal: ctx.signal,
      onOutput: (type, data) => ctx.onOutput(type, data),
      maxOutputChars: ctx.maxOutputChars,
      extraPipe: true,
    });
    const who = `nodejs action "${ctx.action.ref}"`;
    const fd3 = proc.child?.stdio[3] as (Readable & Writable) | undefined | null;
    let final: ChildMessage | undefined;
    let channel: JsonChannel | undefined;
    if (fd3) {
      channel = serveJsonChannel(fd3, {
        who,
        onMessage: (msg: ChildMessage) => {
          if (msg.type === 'result') {
            final = msg;
            return;
          }
          if (msg.type !== 'rpc') return false;
          return serveDatastoreCall(ctx.datastore, String(msg.method), msg.args).then(
            (result) => channel?.send({ type: 'rpc-result', id: msg.id, result: result ?? null }),
            (err: unknown) => channel?.send({ type: 'rpc-result', id: msg.id, error: errorMessage(err) }),
          );
        },
        onViolation: (reason) => {
          ctx.logger.warn({ execution: ctx.executionId, action: ctx.action.ref }, reason);
          proc.stop();
        },
        onError: (err) =>
          ctx.logger.warn(
            { execution: ctx.executionId, err: errorMessage(err) },
            'nodejs action channel error',
          ),
      });
      channel.send({
        type: 'run',
        entry,
        params,
        config: ctx.config,
        executionId: ctx.executionId,
        pack: ctx.action.pack,
        action: ctx.action.ref,
        // The child refuses a result over the channel's limit with the reason (the channel would drop it).
        maxResultBytes: MAX_CHANNEL_MESSAGE_BYTES,
      });
    }
    const outcome = await proc.done;

    const result: Record<string, unknown> = {
      result: final?.ok ? (final.result ?? null) : null,
      stdout: outcome.stdout,
      stderr: outcome.stderr,
    };
    let status: RunnerStatus;
    const violation = channel?.violation();
    if (violation !== undefined) {
      status = 'failed';
      result.error = violation;
    } else if (outcome.timedOut) {
      status = 'timeout';
      result.error = timeoutMessage(timeout);
    } else if (outcome.canceled) {
      status = 'canceled';
      result.error = CANCELED_MESSAGE;
    } else if (outcome.spawnError) {
      status = 'failed';
      result.error = `could not start the action process: ${outcome.spawnError.message}`;
    } else if (final?.ok === true && outcome.returnCode === 0) {
      status = 'succeeded';
    } else {
      status = outcome.returnCode === -15 ? 'abandoned' : 'failed';
      result.error =
        final?.ok === false
          ? final.error
          : `the action process exited with code ${outcome.returnCode} before returning a result`;
    }
    return { status, result };
  },
};
