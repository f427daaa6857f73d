import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/servers.js';
import { ROOT, startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import { saveTranscript } from '../../support/transcripts.js';
import { waitFor } from '../../support/wait.js';

const ADMIN_PASSWORD = 'quickstart-admin-pw';

interface Cli {
  stdin: NodeJS.WritableStream;
  out: () => string;
  exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

/** `squall <args>` in a child process, its stdin left open for a conversation. */
function squall(args: string[], env: NodeJS.ProcessEnv): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    stdin: child.stdin,
    out: () => out,
    exited: new Promise((resolve) => child.on('close', (code) => resolve(code))),
    signal: (sig) => child.kill(sig),
  };
}

/**
 * The README's quick start on a fresh data directory, untouched config: `squall start`,
 * `squall login st2admin`, `squall chat`. Chat acts as the logged-in user, the README's commands
 * work without SSH, a failure says why, and /quit and Ctrl-C leave.
 */
describe('the quick start chat, as a new user tries it', () => {
  let svc: ServiceProcess;
  const data = tempDir();
  const home = tempDir();
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    svc = await startServiceProcess(['--data-dir', data.dir], {
      SQUALL_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      SQUALL_LOG_LEVEL: 'warn',
    });
    env = { SQUALL_API_URL: svc.url, XDG_CONFIG_HOME: home.dir, SQUALL_API_KEY: '', SQUALL_AUTH_TOKEN: '' };
    const login = squall(['login', 'st2admin', '-p', ADMIN_PASSWORD], env);
    expect(await login.exited, login.out()).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
    data.cleanup();
    home.cleanup();
  });

  it('runs the README commands as the logged-in user, and /quit leaves at once', async () => {
    const chat = squall(['chat'], env);
    await waitFor(() => chat.out().includes('Connected to'), `the chat to connect: ${chat.out()}`, 30_000);
    expect(chat.out()).toContain('as st2admin');
    chat.stdin.write('!help\n');
    await waitFor(() => chat.out().includes('Available commands'), 'the help', 20_000);
    expect(chat.out()).toContain('!sh <cmd>');
    expect(chat.out()).toContain('!run <cmd> on [hosts]');
    chat.stdin.write('!sh echo hello-from-chat\n');
    await waitFor(() => /exit 0/.test(chat.out()), `the result: ${chat.out()}`, 30_000);
    expect(chat.out()).toContain('hello-from-chat');
    // The alias's result template splits its header from the output with hubot's {~}.
    expect(chat.out()).not.toContain('{~}');
    expect(chat.out()).not.toMatch(/may not|not allowed/);
    chat.stdin.write('/quit\n');
    // stdin stays open: /quit alone must end the session.
    expect(await chat.exited).toBe(0);
    saveTranscript(
      'terminal-first-chat',
      'squall start, squall login st2admin, squall chat: !help, !sh echo hello-from-chat, /quit',
      chat.out().split('\n'),
    );
    const runs = await fetch(`${svc.url}/api/v1/executions?action=core.local`, {
      headers: { 'St2-Api-Key': '', 'X-Auth-Token': await token() },
    });
    const [run] = (await runs.json()) as Array<{ context: { user: string } }>;
    expect(run.context.user).toBe('st2admin');
  }, 90_000);

  it('asks for an approval in the thread with the bundled alias; the admin approves and the command runs', async () => {
    const chat = squall(['chat'], env);
    await waitFor(() => chat.out().includes('Connected to'), `the chat to connect: ${chat.out()}`, 30_000);
    chat.stdin.write('!ask to run echo approved-from-chat\n');
    await waitFor(
      () => /\[(\d+)\.1\] Approve/.test(chat.out()),
      `the approval prompt: ${chat.out()}`,
      30_000,
    );
    expect(chat.out()).toContain('Approval needed: Run `echo approved-from-chat`?');
    const [, message] = /\[(\d+)\.1\] Approve/.exec(chat.out()) ?? [];
    chat.stdin.write(`/${message}.1\n`);
    await waitFor(() => chat.out().includes('Approved by @st2admin'), `the answer: ${chat.out()}`, 30_000);
    await waitFor(
      () => /✅ examples\.orquesta-chat-approval/.test(chat.out()),
      `the workflow's card: ${chat.out()}`,
      30_000,
    );
    expect(chat.out()).toContain('approved-from-chat');
    expect(chat.out()).not.toMatch(/may not|not allowed|cannot approve/);
    chat.stdin.write('/quit\n');
    expect(await chat.exited).toBe(0);
  }, 90_000);

  it('Deny on the same prompt: the command does not run, and the run card says who denied it', async () => {
    const chat = squall(['chat'], env);
    await waitFor(() => chat.out().includes('Connected to'), `the chat to connect: ${chat.out()}`, 30_000);
    chat.stdin.write('!ask to run echo denied-from-chat\n');
    await waitFor(() => /\[(\d+)\.2\] Deny/.test(chat.out()), `the approval prompt: ${chat.out()}`, 30_000);
    const [, message] = /\[(\d+)\.2\] Deny/.exec(chat.out()) ?? [];
    chat.stdin.write(`/${message}.2\n`);
    // Deny asks first, as Slack's confirm dialog does.
    await waitFor(
      () => /\[(\d+)\.1\] Deny {2}\[\d+\.2\] Back/.test(chat.out()),
      `the confirmation: ${chat.out()}`,
      30_000,
    );
    const [, confirm] = /\[(\d+)\.1\] Deny {2}\[\d+\.2\] Back/.exec(chat.out()) ?? [];
    chat.stdin.write(`/${confirm}.1\n`);
    await waitFor(
      () => /❌ examples\.orquesta-chat-approval/.test(chat.out()),
      `the workflow's card: ${chat.out()}`,
      30_000,
    );
    expect(chat.out()).toMatch(
      /❌ Denied by @st2admin · \d\d:\d\d UTC \(the workflow then ended succeeded\)/,
    );
    // The command did not run: the workflow's output has no stdout.
    expect(chat.out()).toMatch(/approved: false\n\s*│\s*stdout: null/);
    chat.stdin.write('/quit\n');
    expect(await chat.exited).toBe(0);
  }, 90_000);

  it('a failed command says why in the thread, and Ctrl-C leaves', async () => {
    const chat = squall(['chat'], env);
    await waitFor(() => chat.out().includes('Connected to'), `the chat to connect: ${chat.out()}`, 30_000);
    // Nothing listens on this port: the SSH connection is refused.
    chat.stdin.write('!run uptime on 127.0.0.1:9\n');
    await waitFor(() => chat.out().includes('*127.0.0.1:9* (exit'), `the result: ${chat.out()}`, 30_000);
    const result = chat.out().slice(chat.out().indexOf('*127.0.0.1:9* (exit'));
    expect(result).toMatch(/ECONNREFUSED/);
    // Said once: the alias's template shows the host's error, so nothing is appended.
    expect(result.match(/ECONNREFUSED/g)).toHaveLength(1);
    chat.signal('SIGINT');
    expect(await chat.exited).toBe(130);
    saveTranscript(
      'terminal-failure-reason',
      '!run uptime on a host with no SSH: the result says why it failed; Ctrl-C leaves',
      chat.out().split('\n'),
    );
  }, 90_000);

  it('squall chat before squall login says how to log in, where the generated password is, and exits 1', async () => {
    const fresh = tempDir();
    try {
      const chat = squall(['chat'], { ...env, XDG_CONFIG_HOME: fresh.dir });
      chat.stdin.end();
      expect(await chat.exited).toBe(1);
      expect(chat.out()).toContain('One of Token or API key required');
      expect(chat.out()).toContain('hint: log in first: `squall login st2admin`');
      expect(chat.out()).toContain('<data_dir>/keys/initial-admin-password');
    } finally {
      fresh.cleanup();
    }
  }, 60_000);

  async function token(): Promise<string> {
    const res = await fetch(`${svc.url}/auth/v1/tokens`, {
      method: 'POST',
      headers: { Authorization: 'Basic ' + Buffer.from(`st2admin:${ADMIN_PASSWORD}`).toString('base64') },
    });
    return ((await res.json()) as { token: string }).token;
  }
});
