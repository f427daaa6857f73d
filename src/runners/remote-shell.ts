import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { setLongTimeout } from '../long-timeout.js';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { SquallError, errorMessage } from '../errors.js';
import { CANCELED_MESSAGE, timeoutMessage, timeoutSeconds } from './common.js';
import { resolveEntryPoint } from './paths.js';
import { DEFAULT_MAX_OUTPUT_CHARS, OutputCapture } from './output-capture.js';
import { stripShellChars, tryJsonDecode } from './process.js';
import { assertArgumentSize, buildScriptArguments, shellQuote } from './shell-args.js';
import { systemUser } from './system-user.js';
import type { OutputType, Runner, RunnerContext, RunnerResult, RunnerStatus } from './types.js';

type SshClient = Client;
/** ssh2 (~12 MB with its WebAssembly ciphers), only once a process runs a remote action. */
const newClient = async (): Promise<SshClient> => new (await import('ssh2')).default.Client();

const DEFAULT_TIMEOUT = 60;
const DEFAULT_PORT = 22;
/** Longest we wait for the SSH handshake, whatever the action's timeout. */
const MAX_CONNECT_MS = 20_000;

export interface HostTarget {
  /** The entry as written in `hosts`: the key of its result. */
  label: string;
  host: string;
  port: number;
}

export interface HostResult {
  succeeded: boolean;
  failed: boolean;
  return_code: number;
  stdout: unknown;
  stderr: unknown;
  error?: string;
  traceback?: string;
  timeout?: boolean;
}

/** Splits st2's `hosts` (comma separated, `host:port` and `[v6]:port` allowed); duplicates run once. */
export function parseHosts(hosts: string, defaultPort: number): HostTarget[] {
  const seen = new Set<string>();
  const out: HostTarget[] = [];
  for (const raw of hosts.split(',')) {
    const label = raw.trim();
    if (!label || seen.has(label)) continue;
    seen.add(label);
    let host = label;
    let port = defaultPort;
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(label);
    if (v6) {
      host = v6[1];
      if (v6[2]) port = Number(v6[2]);
    } else if (/^[^:]+:\d+$/.test(label)) {
      const i = label.lastIndexOf(':');
      host = label.slice(0, i);
      port = Number(label.slice(i + 1));
    }
    out.push({ label, host, port });
  }
  return out;
}

interface AuthOptions {
  username: string;
  privateKey?: string;
  passphrase?: string;
  password?: string;
}

function authOptions(ctx: RunnerContext): AuthOptions {
  const rp = ctx.runnerParameters;
  const system = systemUser(ctx);
  const username = (typeof rp.username === 'string' && rp.username) || system.user;
  const auth: AuthOptions = { username };
  if (typeof rp.password === 'string' && rp.password !== '') auth.password = rp.password;
  if (typeof rp.passphrase === 'string' && rp.passphrase !== '') auth.passphrase = rp.passphrase;
  const key = rp.private_key;
  if (typeof key === 'string' && key.trim() !== '') {
    if (key.includes('PRIVATE KEY-----')) {
      auth.privateKey = key;
    } else {
      if (!existsSync(key)) {
        throw new SquallError(
          'RUNNER_PRIVATE_KEY_NOT_FOUND',
          `runner parameter "private_key" of action "${ctx.action.ref}" is neither key material nor an existing file (${key})`,
          {
            action: ctx.action.ref,
            parameter: 'private_key',
            path: key,
          },
        );
      }
      auth.privateKey = readFileSync(key, 'utf8');
    }
  } else if (!auth.password) {
    if (system.ssh_key_file) auth.privateKey = readFileSync(system.ssh_key_file, 'utf8');
  }
  return auth;
}

function connect(config: ConnectConfig, client: SshClient): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      client.removeListener('ready', onReady);
      client.removeListener('close', onClose);
      reject(err);
    };
    // Closed before ready without an error: ended by a cancel.
    const onClose = (): void => onError(new Error('connection closed before it was ready'));
    const onReady = (): void => {
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      // Later errors (a reset connection) surface through the channel; never crash the service.
      client.on('error', () => undefined);
      resolve();
    };
    client.once('error', onError);
    client.once('ready', onReady);
    client.once('close', onClose);
    client.connect(config);
  });
}

function execOnce(client: SshClient, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel))),
  );
}

async function runQuiet(client: SshClient, command: string): Promise<{ code: number; stderr: string }> {
  const channel = await execOnce(client, command);
  return new Promise((resolve) => {
    let stderr = '';
    channel.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    channel.on('data', () => undefined);
    channel.on('close', (code: number | null) => resolve({ code: code ?? -1, stderr }));
  });
}

function openSftp(client: SshClient): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

/**
 * Copies the script, and the `lib` directory beside it when there is one (as st2's remote script
 * runner does: scripts import their helpers from it), into the script's remote directory.
 */
async function upload(client: SshClient, localFile: string, remoteFile: string): Promise<void> {
  const sftp = await openSftp(client);
  const put = (from: string, to: string, mode: number): Promise<void> =>
    new Promise<void>((resolve, reject) =>
      sftp.fastPut(from, to, (err) => (err ? reject(err) : resolve())),
    ).then(
      () =>
        new Promise<void>((resolve, reject) =>
          sftp.chmod(to, mode, (err) => (err ? reject(err) : resolve())),
        ),
    );
  const putDir = async (from: string, to: string): Promise<void> => {
    await new Promise<void>((resolve, reject) => sftp.mkdir(to, (err) => (err ? reject(err) : resolve())));
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      const src = path.join(from, entry.name);
      const dest = path.posix.join(to, entry.name);
      if (entry.isDirectory()) await putDir(src, dest);
      else if (entry.isFile()) await put(src, dest, statSync(src).mode & 0o777);
    }
  };
  try {
    await put(localFile, remoteFile, 0o755);
    const lib = path.join(path.dirname(localFile), 'lib');
    if (existsSync(lib) && statSync(lib).isDirectory())
      await putDir(lib, path.posix.join(path.posix.dirname(remoteFile), 'lib'));
  } finally {
    sftp.end();
  }
}

interface PreparedRun {
  /** The shell line run on each host. */
  command: string;
  /** For scripts: the local file, copied to `remoteDir` before the run and removed after it. */
  script?: { local: string; remoteDir: string; remotePath: string };
  sudoPassword?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function prepare(ctx: RunnerContext, kind: 'cmd' | 'script'): PreparedRun {
  const rp = ctx.runnerParameters;
  let body: string;
  let script: PreparedRun['script'];
  if (kind === 'cmd') {
    if (typeof rp.cmd !== 'string' || rp.cmd.trim() === '') {
      throw new SquallError(
        'RUNNER_PARAMETER_MISSING',
        `runner parameter "cmd" of action "${ctx.action.ref}" is required`,
        { action: ctx.action.ref, parameter: 'cmd' },
      );
    }
    assertArgumentSize(rp.cmd, 'cmd', ctx.action.ref);
    body = rp.cmd;
  } else {
    const local = resolveEntryPoint(ctx.action.packDir, ctx.action.entry_point, ctx.action.ref);
    const kwargOp = typeof rp.kwarg_op === 'string' ? rp.kwarg_op : '--';
    const args = buildScriptArguments(ctx.action, ctx.actionParameters, kwargOp).all;
    // st2 copies into <dir>/<execution id>/ so concurrent runs of one script never collide.
    const remoteDir = path.posix.join(
      typeof rp.dir === 'string' && rp.dir ? rp.dir : '/tmp',
      ctx.executionId,
    );
    const remotePath = path.posix.join(remoteDir, path.basename(local));
    script = { local, remoteDir, remotePath };
    body = [shellQuote(remotePath), ...args.map(shellQuote)].join(' ');
  }

  const env: Record<string, string> = {
    ST2_ACTION_PACK_NAME: ctx.action.pack,
    ST2_ACTION_EXECUTION_ID: ctx.executionId,
    ST2_ACTION_API_URL: ctx.apiUrl,
    ST2_ACTION_AUTH_TOKEN: ctx.authToken,
    ...ctx.env,
  };
  if (rp.env && typeof rp.env === 'object') {
    for (const [k, v] of Object.entries(rp.env as Record<string, unknown>))
      env[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const exports: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      throw new SquallError(
        'RUNNER_PARAMETER_INVALID',
        `environment variable name "${name}" of action "${ctx.action.ref}" is not a valid shell name`,
        {
          action: ctx.action.ref,
          parameter: 'env',
          name,
        },
      );
    }
    exports.push(`${name}=${shellQuote(value)}`);
  }

  let sudoPassword: string | undefined;
  if (rp.sudo === true) {
    sudoPassword =
      typeof rp.sudo_password === 'string' && rp.sudo_password !== '' ? rp.sudo_password : undefined;
    body = `sudo ${sudoPassword ? "-S -p '' " : ''}-E -- bash -c ${shellQuote(body)}`;
  }
  const cwd = typeof rp.cwd === 'string' && rp.cwd ? rp.cwd : '/tmp';
  const command = `cd ${shellQuote(cwd)} && ${exports.length ? `export ${exports.join(' ')} && ` : ''}${body}`;
  return { command, script, sudoPassword };
}

interface RunState {
  canceled: boolean;
  live: Set<{ client: SshClient; channel?: ClientChannel }>;
}

function errorResult(message: string, err?: unknown, returnCode = 255): HostResult {
  return {
    succeeded: false,
    failed: true,
    return_code: returnCode,
    stdout: '',
    stderr: '',
    error: message,
    traceback: err instanceof Error && err.stack ? err.stack : undefined,
  };
}

async function runOnHost(
  ctx: RunnerContext,
  target: HostTarget,
  prepared: PreparedRun,
  auth: AuthOptions,
  timeout: number,
  state: RunState,
  bastion?: SshClient,
): Promise<HostResult> {
  if (state.canceled) return { ...errorResult(CANCELED_MESSAGE, undefined, -15) };
  const client = await newClient();
  const entry: { client: SshClient; channel?: ClientChannel } = { client };
  state.live.add(entry);
  const deadline = timeout > 0 ? Date.now() + timeout * 1000 : Infinity;
  try {
    let sock: Duplex | undefined;
    if (bastion) {
      sock = await new Promise<Duplex>((resolve, reject) =>
        bastion.forwardOut('127.0.0.1', 0, target.host, target.port, (err, stream) =>
          err ? reject(err) : resolve(stream),
        ),
      );
    }
    try {
      await connect(
        {
          host: target.host,
          port: target.port,
          sock,
          username: auth.username,
          password: auth.password,
          privateKey: auth.privateKey,
          passphrase: auth.passphrase,
          readyTimeout: Math.min(
            MAX_CONNECT_MS,
            Number.isFinite(deadline) ? Math.max(1000, deadline - Date.now()) : MAX_CONNECT_MS,
          ),
        },
        client,
      );
    } catch (err) {
      return errorResult(
        `Failed to connect to ${target.label} as ${auth.username}: ${errorMessage(err)}`,
        err,
      );
    }

    if (prepared.script) {
      const { remoteDir, remotePath, local } = prepared.script;
      try {
        const made = await runQuiet(client, `mkdir -p ${shellQuote(remoteDir)}`);
        if (made.code !== 0) throw new Error(`mkdir ${remoteDir} failed: ${made.stderr.trim()}`);
        await upload(client, local, remotePath);
      } catch (err) {
        return errorResult(
          `Failed to copy ${path.basename(local)} to ${target.label}:${remotePath}: ${errorMessage(err)}`,
          err,
        );
      }
    }

    const channel = await execOnce(client, prepared.command);
    entry.channel = channel;
    const outcome = await new Promise<{
      code: number | null;
      signal?: string;
      stdout: string;
      stderr: string;
      timedOut: boolean;
    }>((resolve) => {
      const limit = ctx.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS;
      const emit = (type: OutputType, text: string): void => ctx.onOutput(type, text);
      const stdout = new OutputCapture('stdout', limit, emit);
      const stderr = new OutputCapture('stderr', limit, emit);
      let timedOut = false;
      let settled = false;
      const settle = (code: number | null, signal?: string): void => {
        if (settled) return;
        settled = true;
        timer?.clear();
        resolve({ code, signal, stdout: stdout.finish(), stderr: stderr.finish(), timedOut });
      };
      const timer = Number.isFinite(deadline)
        ? setLongTimeout(
            () => {
              timedOut = true;
              channel.signal('KILL');
              channel.close();
              // sshd keeps the channel until the command ends; closing the connection is what frees us.
              client.end();
            },
            Math.max(0, deadline - Date.now()),
          )
        : undefined;
      client.once('close', () => settle(null));
      channel.on('data', (c: Buffer) => {
        stdout.add(c.toString('utf8'));
      });
      channel.stderr.on('data', (c: Buffer) => {
        stderr.add(c.toString('utf8'));
      });
      channel.on('close', (code: number | null, signal?: string) => settle(code, signal));
      if (prepared.sudoPassword) channel.write(`${prepared.sudoPassword}\n`);
      channel.end();
    });

    if (prepared.script) {
      // Best effort: a failed cleanup must not change the action's result, but it is reported.
      await runQuiet(client, `rm -rf ${shellQuote(prepared.script.remoteDir)}`).catch((err: unknown) =>
        ctx.logger.warn(
          { execution: ctx.executionId, host: target.label, err: errorMessage(err) },
          'could not remove the remote script directory',
        ),
      );
    }

    const returnCode = outcome.code ?? (outcome.timedOut ? -9 : state.canceled ? -15 : -1);
    const result: HostResult = {
      succeeded: returnCode === 0,
      failed: returnCode !== 0,
      return_code: returnCode,
      stdout: tryJsonDecode(stripShellChars(outcome.stdout)),
      stderr: tryJsonDecode(stripShellChars(outcome.stderr)),
    };
    if (outcome.timedOut)
      Object.assign(result, {
        succeeded: false,
        failed: true,
        return_code: -9,
        timeout: true,
        error: timeoutMessage(timeout),
      });
    else if (state.canceled)
      Object.assign(result, { succeeded: false, failed: true, error: CANCELED_MESSAGE });
    else if (
      prepared.sudoPassword &&
      returnCode !== 0 &&
      /incorrect password attempt|Sorry, try again/.test(outcome.stderr)
    ) {
      result.error = 'Invalid sudo password provided';
    }
    return result;
  } catch (err) {
    return errorResult(
      state.canceled ? CANCELED_MESSAGE : `Remote execution on ${target.label} failed: ${errorMessage(err)}`,
      err,
    );
  } finally {
    state.live.delete(entry);
    client.end();
  }
}

async function runRemote(ctx: RunnerContext, kind: 'cmd' | 'script'): Promise<RunnerResult> {
  const rp = ctx.runnerParameters;
  if (typeof rp.hosts !== 'string' || rp.hosts.trim() === '') {
    throw new SquallError(
      'RUNNER_PARAMETER_MISSING',
      `runner parameter "hosts" of action "${ctx.action.ref}" is required (comma separated, host:port allowed)`,
      {
        action: ctx.action.ref,
        parameter: 'hosts',
      },
    );
  }
  const defaultPort = rp.port === undefined || rp.port === null ? DEFAULT_PORT : Number(rp.port);
  const targets = parseHosts(rp.hosts, defaultPort);
  if (targets.length === 0) {
    throw new SquallError(
      'RUNNER_PARAMETER_INVALID',
      `runner parameter "hosts" of action "${ctx.action.ref}" names no host`,
      { action: ctx.action.ref, hosts: rp.hosts },
    );
  }
  const timeout = timeoutSeconds(ctx, DEFAULT_TIMEOUT);
  const prepared = prepare(ctx, kind);
  const auth = authOptions(ctx);
  const state: RunState = { canceled: false, live: new Set() };
  const onAbort = (): void => {
    state.canceled = true;
    for (const { client, channel } of state.live) {
      channel?.signal('KILL');
      channel?.close();
      client.end();
    }
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();

  let bastion: SshClient | undefined;
  try {
    if (typeof rp.bastion_host === 'string' && rp.bastion_host.trim() !== '') {
      const [b] = parseHosts(rp.bastion_host, DEFAULT_PORT);
      bastion = await newClient();
      try {
        await connect(
          {
            host: b.host,
            port: b.port,
            username: auth.username,
            password: auth.password,
            privateKey: auth.privateKey,
            passphrase: auth.passphrase,
            readyTimeout: MAX_CONNECT_MS,
          },
          bastion,
        );
      } catch (err) {
        // A whole-run failure has st2's top-level shape (§1.3).
        return {
          status: 'failed',
          result: {
            error: `Failed to connect to bastion host ${b.label}: ${errorMessage(err)}`,
            traceback: err instanceof Error ? err.stack : undefined,
            failed: true,
            succeeded: false,
            return_code: 255,
          },
        };
      }
    }

    const results: Record<string, HostResult> = {};
    const one = async (t: HostTarget): Promise<void> => {
      results[t.label] = await runOnHost(ctx, t, prepared, auth, timeout, state, bastion);
    };
    if (rp.parallel === true) await Promise.all(targets.map(one));
    else for (const t of targets) await one(t);

    const ordered: Record<string, HostResult> = {};
    for (const t of targets) ordered[t.label] = results[t.label];
    const values = Object.values(ordered);
    let status: RunnerStatus;
    if (state.canceled) status = 'canceled';
    else if (values.every((r) => r.succeeded)) status = 'succeeded';
    else if (values.every((r) => r.timeout)) status = 'timeout';
    else status = 'failed';
    return { status, result: ordered };
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    bastion?.end();
  }
}

/** `remote-shell-cmd`: a command on each host over SSH; result keyed by host (§1.3). */
export const remoteShellCmdRunner: Runner = {
  name: 'remote-shell-cmd',
  run: (ctx) => runRemote(ctx, 'cmd'),
};

/** `remote-shell-script`: the entry point is copied by SFTP to `<dir>/<execution id>/` and run on each host. */
export const remoteShellScriptRunner: Runner = {
  name: 'remote-shell-script',
  run: (ctx) => runRemote(ctx, 'script'),
};
