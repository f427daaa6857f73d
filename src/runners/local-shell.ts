import { accessSync, constants as fsConstants, openSync, readSync, closeSync } from 'node:fs';
import { actionEnv, requireString, shellResult, timeoutSeconds, workingDirectory } from './common.js';
import { resolveEntryPoint } from './paths.js';
import { startProcess } from './process.js';
import { assertArgumentSize, buildScriptArguments, shellQuote } from './shell-args.js';
import type { Runner, RunnerContext, RunnerResult } from './types.js';

const DEFAULT_TIMEOUT = 60;

interface Invocation {
  command: string;
  args: string[];
  stdin?: string;
}

/**
 * Actions never run the service user's rc files: Debian's bash sources ~/.bashrc when its stdin
 * is a socket (Node's pipes are socketpairs), and a slow rc file (e.g. `pyenv init`) then delays
 * or hangs every action. st2 runs commands without them too.
 */
const NO_RC = ['--norc', '--noprofile'];

/** `sudo -E -- bash -c <command>` (st2 §1.2); with a password, sudo reads it from stdin (-S). */
function viaSudo(shellCommand: string, password: unknown): Invocation {
  const withPassword = typeof password === 'string' && password !== '';
  return {
    command: 'sudo',
    args: [...(withPassword ? ['-S', '-p', ''] : []), '-E', '--', 'bash', ...NO_RC, '-c', shellCommand],
    stdin: withPassword ? `${password}\n` : undefined,
  };
}

async function runInvocation(ctx: RunnerContext, inv: Invocation): Promise<RunnerResult> {
  const timeout = timeoutSeconds(ctx, DEFAULT_TIMEOUT);
  const proc = startProcess({
    command: inv.command,
    args: inv.args,
    stdin: inv.stdin,
    ...workingDirectory(ctx),
    env: actionEnv(ctx, ctx.runnerParameters.env),
    timeoutSeconds: timeout,
    signal: ctx.signal,
    onOutput: (type, data) => ctx.onOutput(type, data),
    maxOutputChars: ctx.maxOutputChars,
  });
  const outcome = await proc.done;
  return shellResult(outcome, timeout, inv.stdin !== undefined);
}

/** `local-shell-cmd`: a shell command, run by bash in its own process group. */
export const localShellCmdRunner: Runner = {
  name: 'local-shell-cmd',
  runsHere: true,
  async run(ctx) {
    const cmd = requireString(ctx, 'cmd');
    assertArgumentSize(cmd, 'cmd', ctx.action.ref);
    const inv =
      ctx.runnerParameters.sudo === true
        ? viaSudo(cmd, ctx.runnerParameters.sudo_password)
        : { command: 'bash', args: [...NO_RC, '-c', cmd] };
    return runInvocation(ctx, inv);
  },
};

/** The interpreter named by a script's `#!` line, for scripts shipped without the executable bit. */
function shebang(file: string): string[] | undefined {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const first = buf.subarray(0, n).toString('utf8').split('\n')[0];
    if (!first.startsWith('#!')) return undefined;
    const parts = first.slice(2).trim().split(/\s+/).filter(Boolean);
    return parts.length ? parts : undefined;
  } finally {
    closeSync(fd);
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isBashLike(file: string): boolean {
  const interp = shebang(file)?.join(' ') ?? '';
  return file.endsWith('.sh') || /\b(ba)?sh\b/.test(interp);
}

/**
 * `local-shell-script`: the entry point is spawned directly with its arguments (no shell parses
 * them), except with sudo, where st2's `sudo -E -- bash -c '<script> <args>'` form is kept.
 */
export const localShellScriptRunner: Runner = {
  name: 'local-shell-script',
  runsHere: true,
  async run(ctx) {
    const script = resolveEntryPoint(ctx.action.packDir, ctx.action.entry_point, ctx.action.ref);
    const kwargOp = typeof ctx.runnerParameters.kwarg_op === 'string' ? ctx.runnerParameters.kwarg_op : '--';
    const { all: args } = buildScriptArguments(ctx.action, ctx.actionParameters, kwargOp);
    const debug = ctx.runnerParameters.debug === true && isBashLike(script);

    let inv: Invocation;
    if (ctx.runnerParameters.sudo === true) {
      const line = [debug ? 'bash -x' : '', shellQuote(script), ...args.map(shellQuote)]
        .filter(Boolean)
        .join(' ');
      inv = viaSudo(line, ctx.runnerParameters.sudo_password);
    } else if (debug) {
      inv = { command: 'bash', args: [...NO_RC, '-x', script, ...args] };
    } else if (isExecutable(script)) {
      inv = { command: script, args };
    } else {
      const interp = shebang(script) ?? ['bash'];
      inv = { command: interp[0], args: [...interp.slice(1), script, ...args] };
    }
    return runInvocation(ctx, inv);
  },
};
