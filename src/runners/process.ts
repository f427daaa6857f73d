import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { setLongTimeout, type LongTimeout } from '../long-timeout.js';
import { DEFAULT_MAX_OUTPUT_CHARS, OutputCapture } from './output-capture.js';
import {
  groupsCarryingToken,
  killFoundGroups,
  killGroup,
  newRunToken,
  noteRunEnded,
  noteRunStarted,
  RUN_TOKEN_VAR,
} from './run-token.js';
import { spawnViaSpawner, watchGroupViaSpawner, type SpawnEvents } from './spawner.js';
import type { OutputType } from './types.js';

/** How long a process group gets between SIGTERM and SIGKILL on timeout or cancel. */
export const KILL_GRACE_MS = 1000;
/** How long we wait for stdout/stderr to close once the main process has exited (orphans may hold them). */
const DRAIN_AFTER_EXIT_MS = 1000;

export interface ProcessSpec {
  /** Executable. */
  command: string;
  args: string[];
  cwd?: string;
  /**
   * `cwd` is this run's own scratch directory (RunnerContext.workDir): made before the start and
   * removed once the process has closed if the command left nothing in it.
   */
  scratchCwd?: boolean;
  env: Record<string, string>;
  /** Written to the child's stdin, which is then closed. */
  stdin?: string;
  /** Seconds; 0 or undefined means no limit. */
  timeoutSeconds?: number;
  signal: AbortSignal;
  onOutput(type: OutputType, data: string): void;
  /** Adds a bidirectional pipe on fd 3 (the channel of Python and Node.js actions: json-channel.ts). */
  extraPipe?: boolean;
  graceMs?: number;
  /** Characters kept per stream (see OutputCapture); default DEFAULT_MAX_OUTPUT_CHARS, 0: no limit. */
  maxOutputChars?: number;
}

export interface ProcessOutcome {
  /** Exit code, or minus the signal number when the process was killed (Python's convention). */
  returnCode: number;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  canceled: boolean;
  /** Set when the process could not be started at all (ENOENT, EACCES, ...). */
  spawnError?: Error;
  /** Set when the spawner died while the process ran: why its output and exit status are missing. */
  lost?: string;
}

export interface ManagedProcess {
  child?: ChildProcess;
  done: Promise<ProcessOutcome>;
  /** Stops the whole process group (SIGTERM, then SIGKILL after the grace period). */
  stop(): void;
}

export { killGroup };

/**
 * Starts a child in its own process group (detached), so that a timeout or a cancel can stop
 * everything it started, not only the direct child. Output is streamed through `onOutput` as it
 * arrives and also collected.
 *
 * A child without the extra pipe is started by the spawner process (spawner.ts), so that the fork
 * does not block this process's event loop; one with it (Python, Node.js actions, whose fd 3 this
 * process serves) is started here. Either way the process group, the timeout, the cancel, the output
 * limits and the outcome are handled here, identically.
 */
export function startProcess(spec: ProcessSpec): ManagedProcess {
  const grace = spec.graceMs ?? KILL_GRACE_MS;
  let timedOut = false;
  let canceled = false;

  if (spec.signal.aborted) {
    return {
      done: Promise.resolve({
        returnCode: -15,
        exitCode: null,
        exitSignal: null,
        stdout: '',
        stderr: '',
        timedOut: false,
        canceled: true,
      }),
      stop: () => undefined,
    };
  }

  /**
   * Marks every process of the run (see run-token.ts). The spawner cannot report the pid before the
   * command runs: Node's spawn() returns once the child has exec'd, and a spawner killed between
   * that and its `pid` message leaves a command running whose pid nobody knows (`lost` below). A
   * wrapper that waits for the service's go-ahead before exec'ing would close that window, at the
   * cost of an exec and a round trip on every local command; a mark in the environment costs
   * nothing until a process dies, and also finds what the command started. A service killed
   * outright with its spawner leaves runs nobody knows the pid of either: the next start finds
   * them by the mark (killOrphans), among the runs noted in flight (noted before the start, so a
   * service that dies right after it still leaves the note).
   */
  const token = newRunToken();
  const env = { ...spec.env, [RUN_TOKEN_VAR]: token };
  noteRunStarted(token);
  let child: ChildProcess | undefined;
  if (spec.extraPipe) {
    // stdin is /dev/null unless we write to it: a socket there makes bash act as if run by sshd.
    const stdio: Array<'pipe' | 'ignore'> = [
      spec.stdin !== undefined ? 'pipe' : 'ignore',
      'pipe',
      'pipe',
      'pipe',
    ];
    try {
      if (spec.scratchCwd && spec.cwd) makeScratchDir(spec.cwd);
      child = spawn(spec.command, spec.args, { cwd: spec.cwd, env, detached: true, stdio });
    } catch (err) {
      noteRunEnded(token);
      const error = err instanceof Error ? err : new Error(String(err));
      return {
        done: Promise.resolve({
          returnCode: 127,
          exitCode: null,
          exitSignal: null,
          stdout: '',
          stderr: error.message,
          timedOut: false,
          canceled: false,
          spawnError: error,
        }),
        stop: () => undefined,
      };
    }
  }

  /** The group leader's pid, once known (the spawner reports it a moment after the request). */
  let pid: number | undefined;
  let stopRequested = false;
  const killNow = (): void => {
    killGroup(pid, 'SIGTERM');
    // Not cleared on exit: members of the group that ignore SIGTERM must still go.
    const killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), grace);
    killTimer.unref();
  };
  const stop = (): void => {
    if (stopRequested) return;
    stopRequested = true;
    if (pid !== undefined) killNow();
  };

  const onAbort = (): void => {
    canceled = true;
    stop();
  };
  spec.signal.addEventListener('abort', onAbort, { once: true });

  let timeoutTimer: LongTimeout | undefined;
  if (spec.timeoutSeconds && spec.timeoutSeconds > 0) {
    timeoutTimer = setLongTimeout(() => {
      timedOut = true;
      stop();
    }, spec.timeoutSeconds * 1000);
  }

  const limit = spec.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS;
  const emit = (type: OutputType, text: string): void => spec.onOutput(type, text);
  const captures = {
    stdout: new OutputCapture('stdout', limit, emit),
    stderr: new OutputCapture('stderr', limit, emit),
  };

  let resolveDone!: (outcome: ProcessOutcome) => void;
  const done = new Promise<ProcessOutcome>((resolve) => (resolveDone = resolve));
  let spawnError: Error | undefined;
  let lost: string | undefined;
  let settled = false;
  const finish = (code: number | null, sig: NodeJS.Signals | null): void => {
    if (settled) return;
    settled = true;
    noteRunEnded(token);
    timeoutTimer?.clear();
    spec.signal.removeEventListener('abort', onAbort);
    const returnCode = code ?? (sig ? -(osConstants.signals[sig] ?? 1) : spawnError ? 127 : -1);
    resolveDone({
      returnCode,
      exitCode: code,
      exitSignal: sig,
      stdout: captures.stdout.finish(),
      stderr: captures.stderr.finish() || (spawnError ? spawnError.message : ''),
      timedOut,
      canceled,
      spawnError,
      lost,
    });
  };

  const events: SpawnEvents = {
    started(childPid) {
      pid = childPid;
      // A cancel or a timeout that came before the spawner said which process it started.
      if (stopRequested) killNow();
    },
    output: (type, text) => captures[type].add(text),
    failed(err, final) {
      spawnError = err;
      if (final) finish(null, null);
    },
    closed: finish,
    lost(message) {
      stop();
      if (pid !== undefined) {
        lost = `${message}, and its process group was killed`;
        finish(null, null);
        return;
      }
      // The spawner died between starting the command and reporting its pid: its processes are
      // found by their mark and their groups killed, before the run is reported over.
      const notFound = (why: string): string =>
        `${message}; its process, never reported, could not be looked for (${why}): it may still run`;
      void killFoundGroups(() => groupsCarryingToken(token), grace).then(
        ({ unavailable }) => {
          lost = unavailable ? notFound(unavailable) : `${message}, and its process group was killed`;
          finish(null, null);
        },
        (err: unknown) => {
          lost = notFound((err as Error).message);
          finish(null, null);
        },
      );
    },
  };

  if (child) {
    // The spawner kills this group if the service dies while it runs (this process cannot then):
    // the wrapper of a Python action dies of PDEATHSIG and a Node.js host when fd 3 closes, but
    // not what they started, and a Node.js action blocked in a loop never sees fd 3 close.
    const unwatch = child.pid === undefined ? undefined : watchGroupViaSpawner(child.pid);
    if (unwatch) child.once('close', unwatch);
    attachChild(child, spec.stdin, events, spec.scratchCwd ? spec.cwd : undefined);
  } else {
    spawnViaSpawner(
      {
        command: spec.command,
        args: spec.args,
        cwd: spec.cwd,
        env,
        stdin: spec.stdin,
        ...(spec.scratchCwd ? { scratch: true } : {}),
      },
      events,
    );
  }

  return { child, done, stop };
}

/**
 * Reports what a child started in this process does, as the spawner reports its children's.
 * spawner/host.mjs does the same for those (decoding, stdin's EPIPE, the drain after exit): keep
 * the two in step. Not shared: the host is plain JavaScript run by `node` from the source tree, and
 * this module, compiled into dist/, cannot import it without a build step that copies it there
 * (bench/README, "Review findings of session 14").
 */
function attachChild(
  child: ChildProcess,
  stdin: string | undefined,
  events: SpawnEvents,
  scratchDir: string | undefined,
): void {
  if (child.pid !== undefined) events.started(child.pid);
  for (const type of ['stdout', 'stderr'] as const) {
    const stream = child[type];
    if (!stream) continue;
    const decoder = new StringDecoder('utf8');
    stream.on('data', (buf: Buffer) => {
      const text = decoder.write(buf);
      if (text) events.output(type, text);
    });
    stream.on('end', () => {
      const rest = decoder.end();
      if (rest) events.output(type, rest);
    });
  }

  if (child.stdin) {
    // A child that exits without reading its stdin makes our write fail with EPIPE; that is its choice.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  }

  let drainTimer: NodeJS.Timeout | undefined;
  // 'close' does not always follow a failed spawn.
  child.on('error', (err) => {
    const final = child.pid === undefined;
    if (final && scratchDir) removeScratchDir(scratchDir);
    events.failed(err, final);
  });
  child.on('exit', () => {
    drainTimer = setTimeout(() => {
      for (const stream of child.stdio.slice(1)) stream?.destroy();
    }, DRAIN_AFTER_EXIT_MS);
    drainTimer.unref();
  });
  child.on('close', (code, sig) => {
    if (drainTimer) clearTimeout(drainTimer);
    if (scratchDir) removeScratchDir(scratchDir);
    events.closed(code, sig);
  });
}

/**
 * Makes a run's scratch directory (spawner/host.mjs has the same for its children). Its parent, the
 * data directory's `work`, exists after the first run, and a plain mkdir costs a third of a
 * recursive one.
 */
function makeScratchDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') mkdirSync(dir, { recursive: true });
    else if (code !== 'EEXIST') throw err;
  }
}

/**
 * Removes a run's scratch directory once it has ended, if the command left nothing in it (what it
 * left stays for whoever wants to look). Before, every run kept its empty directory: one more entry
 * in the data directory's `work` per local command, for ever.
 */
function removeScratchDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return;
    // It stays, as every run's directory did before; the run's outcome does not depend on it.
    process.emitWarning(`could not remove the empty working directory ${dir}: ${(err as Error).message}`);
  }
}

/** st2's strip_shell_chars: drops one trailing newline and then one trailing carriage return. */
export function stripShellChars(text: string): string {
  let out = text.endsWith('\n') ? text.slice(0, -1) : text;
  out = out.endsWith('\r') ? out.slice(0, -1) : out;
  return out;
}

/** st2's jsonify.try_loads: the decoded value when the text is JSON, else the text itself. */
export function tryJsonDecode(text: string): unknown {
  if (!text) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
