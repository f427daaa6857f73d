import { existsSync, statSync } from 'node:fs';
import { MAX_TIMEOUT_SECONDS } from './catalog.js';
import { SquallError } from '../errors.js';
import { stripShellChars, tryJsonDecode, type ProcessOutcome } from './process.js';
import type { RunnerContext, RunnerResult, RunnerStatus } from './types.js';

/**
 * Variables passed through from Squall's own environment. Everything else (database URLs, tokens,
 * cloud credentials the service was started with) stays out of actions on purpose; st2 copies
 * its whole environment, which is how secrets leak into `env` dumps.
 */
const INHERITED_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'SHELL',
  'TMPDIR',
  'TZ',
  'TERM',
];

function stringifyEnvValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The environment of an action process: inherited basics < ST2_ACTION_* (§1.2) < ctx.env < the `env` parameter. */
export function actionEnv(ctx: RunnerContext, userEnv: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED_ENV) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  env.ST2_ACTION_PACK_NAME = ctx.action.pack;
  env.ST2_ACTION_EXECUTION_ID = ctx.executionId;
  env.ST2_ACTION_API_URL = ctx.apiUrl;
  env.ST2_ACTION_AUTH_TOKEN = ctx.authToken;
  Object.assign(env, ctx.env);
  if (userEnv !== undefined && userEnv !== null) {
    if (typeof userEnv !== 'object' || Array.isArray(userEnv)) {
      throw new SquallError(
        'RUNNER_PARAMETER_INVALID',
        `runner parameter "env" of action "${ctx.action.ref}" must be an object of NAME: value`,
        {
          action: ctx.action.ref,
          parameter: 'env',
        },
      );
    }
    for (const [key, value] of Object.entries(userEnv as Record<string, unknown>))
      env[key] = stringifyEnvValue(value);
  }
  return env;
}

export function timeoutSeconds(ctx: RunnerContext, fallback: number): number {
  const raw = ctx.runnerParameters.timeout;
  if (raw === undefined || raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > MAX_TIMEOUT_SECONDS) {
    throw new SquallError(
      'RUNNER_PARAMETER_INVALID',
      `runner parameter "timeout" of action "${ctx.action.ref}" must be a number of seconds from 0 to ${MAX_TIMEOUT_SECONDS}, got ${JSON.stringify(raw)}`,
      {
        action: ctx.action.ref,
        parameter: 'timeout',
        value: raw,
      },
    );
  }
  return n;
}

/**
 * The working directory of a local process: `cwd` when given (it must exist), else the execution's
 * scratch directory (ctx.workDir), which startProcess makes (`scratchCwd`) and removes after the
 * run when the command left nothing in it.
 */
export function workingDirectory(ctx: RunnerContext): { cwd: string; scratchCwd: boolean } {
  const cwd = ctx.runnerParameters.cwd;
  if (typeof cwd === 'string' && cwd !== '') {
    if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
      throw new SquallError(
        'RUNNER_CWD_NOT_FOUND',
        `runner parameter "cwd" of action "${ctx.action.ref}" names ${cwd}, which is not a directory`,
        {
          action: ctx.action.ref,
          parameter: 'cwd',
          cwd,
        },
      );
    }
    return { cwd, scratchCwd: false };
  }
  return { cwd: ctx.workDir, scratchCwd: true };
}

export function requireString(ctx: RunnerContext, name: string): string {
  const value = ctx.runnerParameters[name];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SquallError(
      'RUNNER_PARAMETER_MISSING',
      `runner parameter "${name}" of action "${ctx.action.ref}" is required and must be a non-empty string`,
      {
        action: ctx.action.ref,
        parameter: name,
        runner: ctx.action.runner_type,
      },
    );
  }
  return value;
}

export function timeoutMessage(seconds: number): string {
  return `Action failed to complete in ${seconds} seconds`;
}

export const CANCELED_MESSAGE = 'Action was canceled';
const SUDO_BAD_PASSWORD = /incorrect password attempt|Sorry, try again/;

/** The local-shell result and status (§1.3): 0 succeeded, timeout, −15 abandoned, else failed. */
export function shellResult(
  outcome: ProcessOutcome,
  timeout: number,
  sudoWithPassword = false,
): RunnerResult {
  const result: Record<string, unknown> = {
    failed: outcome.returnCode !== 0,
    succeeded: outcome.returnCode === 0,
    return_code: outcome.returnCode,
    stdout: tryJsonDecode(stripShellChars(outcome.stdout)),
    stderr: tryJsonDecode(stripShellChars(outcome.stderr)),
  };
  let status: RunnerStatus = outcome.returnCode === 0 ? 'succeeded' : 'failed';
  if (outcome.timedOut) {
    status = 'timeout';
    // st2 reports the SIGKILL code whatever signal actually ended the process.
    Object.assign(result, {
      failed: true,
      succeeded: false,
      return_code: -9,
      error: timeoutMessage(timeout),
    });
  } else if (outcome.canceled) {
    status = 'canceled';
    Object.assign(result, { failed: true, succeeded: false, error: CANCELED_MESSAGE });
  } else if (outcome.lost) {
    // As when the service itself dies mid-run: the run is over, and nobody knows how it ended.
    status = 'abandoned';
    Object.assign(result, { failed: true, succeeded: false, error: outcome.lost });
  } else if (outcome.spawnError) {
    status = 'failed';
    result.error = `could not start the action process: ${outcome.spawnError.message}`;
  } else if (outcome.returnCode === -15) {
    status = 'abandoned';
  }
  if (sudoWithPassword && status === 'failed' && SUDO_BAD_PASSWORD.test(outcome.stderr)) {
    result.error = 'Invalid sudo password provided';
  }
  return { status, result };
}
