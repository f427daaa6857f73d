import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShellAdapter } from '../../../adapters/shell/index.js';
import { chatopsSubsystem } from '../../../src/chatops/index.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { runCli } from '../../support/cli.js';
import { waitFor } from '../../support/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const FIXTURE_PACKS = path.join(here, 'fixtures', 'packs');

/**
 * Offline commands, awaited: eight CLI runs in a row under spawnSync held the vitest fork for
 * over 10 s under load, and a fork blocked for 60 s fails the run ("Timeout calling onTaskUpdate").
 */
const squall = (args: string[]) => runCli(args, 'http://127.0.0.1:9');

/** Async, so the in-process server of the test can answer the CLI. */
function squallAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], {
      cwd: root,
      env: { ...process.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('squall alias parse (offline)', () => {
  it.each([
    ['deploy {{app}} to {{env=staging}}', 'deploy web to prod', { app: 'web', env: 'prod' }],
    ['deploy {{app}} to {{ env = staging }}', 'deploy web to', { app: 'web', env: 'staging' }],
    [
      'say {{message}} to {{who}}',
      `say "hello there" to 'ops team'`,
      { message: 'hello there', who: 'ops team' },
    ],
    [
      'run {{cmd}} on {{hosts}}',
      'run date on localhost timeout=120',
      { cmd: 'date', hosts: 'localhost', timeout: '120' },
    ],
    [
      '(run|execute) {{cmd}}( on {{hosts=localhost}})?[!.]?',
      'execute uptime on web1!',
      { cmd: 'uptime', hosts: 'web1' },
    ],
    ['close (?P<issue>[A-Z]+-[0-9]+)', 'close OPS-42', { issue: 'OPS-42' }],
  ])('parses with --format "%s" the command "%s"', async (format, command, expected) => {
    const r = await squall(['alias', 'parse', '--format', format, command]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it("exits 1 with st2's message when the command does not fit", async () => {
    const r = await squall(['alias', 'parse', '--format', 'deploy {{app}}', 'destroy web']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Command "destroy web" doesn't match format string "deploy {{app}}"`);
  });

  it("exits 1 with st2's message when nothing is supplied and nothing has a default", async () => {
    const r = await squall(['alias', 'parse', '--format', '(now)?', '']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No value supplied and no default value found.');
  });
});

describe('squall chat and squall alias against a running Squall', () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    const executions = executionsSubsystem();
    svc = await startTestService({
      subsystems: [
        testSecretsSubsystem(),
        contentSubsystem(),
        executions,
        chatopsSubsystem(() => executions.service(), { adapters: [new ShellAdapter()] }),
      ],
      config: {
        'auth.enable': false,
        'packs.paths': [FIXTURE_PACKS],
        'chatops.users': { 'shell:alice': 'alice' },
      },
    });
  }, 60_000);
  afterAll(async () => svc?.cleanup());

  it('chats from a script: the ack and the result in one thread, a suggestion for a typo', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/run.ts',
        'chat',
        '--url',
        svc.url,
        '--user',
        'alice',
        '--channel',
        'dev',
        '--wait',
        '500',
      ],
      { cwd: root, env: { ...process.env }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    await waitFor(() => out.includes('Connected to'), `the REPL to connect (stderr: ${err})`, 20_000);
    child.stdin.write('!hello repl\n');
    await waitFor(() => out.includes('said: hello repl'), 'the result', 20_000);
    child.stdin.write('!helo there\n');
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(out).toContain('as alice in #dev');
    const lines = out.split('\n');
    // Not a terminal: the card is printed when it appears and, if it was still running, once
    // more in its final state; never for each edit.
    const cards = lines.filter((l) => /^ {4}\[thread 1\] #1 . chattest\.hello · alice$/.test(l));
    expect([[false], [true, false]], out).toContainEqual(cards.map((l) => l.includes('⏳')));
    const result = lines.findIndex((l) => l.includes('said: hello repl'));
    expect(lines[result]).toBe('      said: hello repl');
    expect(lines.lastIndexOf(cards.at(-1)!)).toBeLessThan(result);
    expect(lines[result + 1]).toMatch(/^ {6}\[1\.1\] Re-run {2}\[1\.2\] Open http/);
    expect(out).toContain(`[thread 2] squall (to you only): I don't know "helo there". Did you mean:`);
    expect(out).toContain('!hello <who>');
  }, 60_000);

  it('squall alias match asks the server which alias a text means', async () => {
    const r = await squallAsync(['alias', 'match', 'hello world', '--url', svc.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('alias: chattest.hello');
    expect(r.stdout).toContain('parameters: {"who":"world"}');
  });

  it('squall alias list and get show the registered aliases', async () => {
    const list = await squallAsync(['alias', 'list', '--pack', 'chattest', '--json', '--url', svc.url]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ ref: string }>).map((a) => a.ref).sort()).toEqual([
      'chattest.hello',
      'chattest.repeat',
      'chattest.restart_host',
      'chattest.restart_service',
    ]);
    const get = await squallAsync(['alias', 'get', 'chatops.help', '--json', '--url', svc.url]);
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({
      ref: 'chatops.help',
      extra: { squall: { builtin: 'help' } },
    });
  });
});
