// Acceptance: StackStorm's post-install smoke test, st2-self-check (st2common/bin/st2-self-check),
// against an in-process Squall. As st2-self-check does, it puts st2tests' packs (tests, asserts,
// fixtures, webui) and st2's contrib/examples in the packs directory, registers them, and runs
// every action `tests.test_*` but the Windows ones with
// `st2 run TEST protocol=http token=$ST2_AUTH_TOKEN`, expecting `succeeded`. Prints a table.
//
//   node --import tsx scripts/st2-self-check/run.ts ST2_CHECKOUT ST2TESTS_CHECKOUT
//        [--only test_a,test_b] [-o] [--timeout SECONDS] [--mongo mongodb://HOST:PORT/DB] [--verbose]
//        [--set KEY=VALUE]…
//   (-o leaves out examples.orquesta-examples, which st2-self-check runs last unless given -o;
//   --verbose prints the parameters and result of each failed test's last failed task;
//   --set overrides one Squall setting, e.g. --set rules.store_unheard_actiontrigger=false;
//   --keep leaves Squall up after the tests, until Ctrl-C, and prints how to point st2 at it)
//
// ST2_CHECKOUT holds st2's contrib/examples, ST2TESTS_CHECKOUT st2tests' packs/ (e.g.
// `git --git-dir=<mirror> archive HEAD contrib/examples | tar -x -C DIR`).
//
// What the tests expect of the host, provided here as an st2 install provides it:
// - the st2 CLI on PATH inside actions: PyPI's st2client in .cache/st2client (as test/support/st2cli.ts);
// - the API on 127.0.0.1:9101 (the chains hard-code ST2_API_URL=http://127.0.0.1:9101, no /v1);
// - SSH to localhost:22 as the system user with its key (st2's stanley): when port 22 is free,
//   an sshd of our own listens on 127.0.0.1:22 accepting a key generated into the HOME Squall runs
//   with; otherwise the remote tests fail for want of it;
// - a virtualenv for each pack with a requirements.txt (.cache/st2-wiring/pack-venvs, shared
//   with scripts/st2-wiring).
// Not provided: GitHub (`st2 pack install` in test_packs_pack / test_pack_install_tool) and
// /opt/stackstorm/st2/bin/st2-pack-install or st2-run-pack-tests, which belong to st2's own
// Python install.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { RunningService } from '../../src/service/index.js';
import { sshdAvailable, startSshd as startTestSshd, type TestSshd } from '../../test/support/sshd.js';
import { copyPacks, portFree, startWithPacks } from '../lib/pack-server.js';
import { ensurePackVenvs, PACK_VENVS } from '../lib/pack-venvs.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ST2_VENV = path.join(ROOT, '.cache', 'st2client');
const ST2_BIN = path.join(ST2_VENV, 'bin', 'st2');
/** st2-self-check skips these unless given -w. */
const WINDOWS_TESTS = [
  'tests.test_windows_runners',
  'tests.test_winrm_runners',
  'tests.test_winrm_large_script',
];
// st2-self-check copies webui too, but it has no pack.yaml: st2 registers nothing from it.
const ST2TESTS_PACKS = ['tests', 'asserts', 'fixtures'];
const ST2_PORT = 9101;
const ORQUESTA_EXAMPLES = 'examples.orquesta-examples';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const [st2Checkout, st2testsCheckout] = args.filter(
  (a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'),
);
const only = opt('--only')
  ?.split(',')
  .map((t) => (t.includes('.') ? t : `tests.${t}`));
const timeoutSeconds = Number(opt('--timeout') ?? 600);
const mongoUrl = opt('--mongo');
/** `--set KEY=VALUE`, repeatable: true/false and numbers are read as such. */
const settings = Object.fromEntries(
  args
    .filter((_, i) => args[i - 1] === '--set')
    .map((kv) => {
      const at = kv.indexOf('=');
      const raw = kv.slice(at + 1);
      const value = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+$/.test(raw) ? Number(raw) : raw;
      return [kv.slice(0, at), value];
    }),
);
if (!st2Checkout || !st2testsCheckout) {
  process.stderr.write(
    'usage: node --import tsx scripts/st2-self-check/run.ts ST2_CHECKOUT ST2TESTS_CHECKOUT [--only a,b] [--timeout S] [--mongo URL] [--set KEY=VALUE]\n',
  );
  process.exit(2);
}
const examplesDir = path.join(st2Checkout, 'contrib', 'examples');
for (const p of [
  path.join(examplesDir, 'pack.yaml'),
  ...ST2TESTS_PACKS.map((r) => path.join(st2testsCheckout, 'packs', r, 'pack.yaml')),
]) {
  if (!existsSync(p)) {
    process.stderr.write(`st2-self-check: ${p} is missing\n`);
    process.exit(2);
  }
}

function ensureSt2Client(): void {
  const ok = () => existsSync(ST2_BIN) && spawnSync(ST2_BIN, ['--version'], { stdio: 'ignore' }).status === 0;
  if (ok()) return;
  const steps: Array<[string, string[]]> = [
    ['python3', ['-m', 'venv', '--clear', ST2_VENV]],
    [path.join(ST2_VENV, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', 'st2client==3.9.0']],
  ];
  for (const [cmd, a] of steps) {
    if (spawnSync(cmd, a, { stdio: 'inherit' }).status !== 0)
      throw new Error(`st2-self-check: ${cmd} ${a.join(' ')} failed`);
  }
}

/** An sshd on 127.0.0.1:22 accepting a key put in `home`, as st2's installer sets up stanley's. */
async function startSshd(home: string): Promise<TestSshd | undefined> {
  if (!sshdAvailable || !(await portFree(22))) return undefined;
  const sshd = await startTestSshd({ port: 22 });
  mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(home, '.ssh', 'id_ed25519'), sshd.privateKey, { mode: 0o600 });
  return sshd;
}

interface Outcome {
  test: string;
  status: string;
  seconds: number;
  error: string;
}

const TERMINAL = ['succeeded', 'failed', 'timeout', 'canceled', 'abandoned'];

/**
 * The first line that explains a failed execution: the error or stderr of its last failed task
 * (earlier failures may be ones the chain expects and handles), followed down nested workflows.
 */
async function firstError(api: string, headers: Record<string, string>, id: string): Promise<string> {
  const get = async (p: string): Promise<any> => (await fetch(`${api}${p}`, { headers })).json();
  let ex = await get(`/executions/${id}`);
  let task = '';
  for (let depth = 0; depth < 5; depth++) {
    const children: any[] = await get(`/executions/${ex.id}/children?depth=1`).catch(() => []);
    const failed = Array.isArray(children)
      ? children.findLast((c) => c.status !== 'succeeded' && TERMINAL.includes(c.status))
      : undefined;
    if (!failed) break;
    ex = await get(`/executions/${failed.id}`);
    task = `${ex.context?.chain?.name ?? ex.action?.ref}: `;
  }
  if (process.argv.includes('--verbose'))
    process.stderr.write(
      `${JSON.stringify({ task, parameters: ex.parameters, result: ex.result }, null, 1)}\n`,
    );
  const r = ex.result ?? {};
  const text =
    [r.error, r.stderr, r.result?.error, typeof r.stdout === 'string' ? r.stdout : undefined].find(
      (t) => typeof t === 'string' && t.trim() !== '',
    ) ??
    (Object.values(r).find((v: any) => v && typeof v === 'object' && (v.stderr || v.error)) as any)?.stderr ??
    JSON.stringify(r);
  const line = String(text)
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return `${task}${line ?? ''}`.slice(0, 160);
}

ensureSt2Client();
const packSources: Record<string, string> = { examples: examplesDir };
for (const r of ST2TESTS_PACKS) packSources[r] = path.join(st2testsCheckout, 'packs', r);
ensurePackVenvs(packSources, 'st2-self-check');
if (!(await portFree(ST2_PORT))) {
  process.stderr.write(`st2-self-check: port ${ST2_PORT} is taken; the tests' chains call the API there\n`);
  process.exit(2);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-self-check-'));
const home = path.join(dir, 'home');
mkdirSync(home);
const packsDir = path.join(dir, 'packs');
copyPacks(packSources, packsDir);
// st2-self-check runs `chmod -R 775` on st2tests' packs before copying them.
for (const r of ST2TESTS_PACKS) execFileSync('chmod', ['-R', '775', path.join(packsDir, r)]);
// st2's install layout, which the packs name: fixtures' scripts start with
// #!/opt/stackstorm/virtualenvs/fixtures/bin/python and the pack tests look in
// /opt/stackstorm/packs. Made of links to this run's directories when /opt/stackstorm is absent.
const OPT = '/opt/stackstorm';
const optMade = !existsSync(OPT);
if (optMade) {
  mkdirSync(OPT, { recursive: true });
  symlinkSync(packsDir, path.join(OPT, 'packs'));
  symlinkSync(PACK_VENVS, path.join(OPT, 'virtualenvs'));
} else process.stderr.write(`st2-self-check: ${OPT} exists; left as it is\n`);
// Tools of an st2 host this one may lack, on PATH only where missing: uuidgen (util-linux, the
// key tests' unique names) and sudo (core.local_sudo; Squall runs as root here, as st2's
// runners run sudo as root, so it only has to run the command).
const tools = path.join(dir, 'bin');
mkdirSync(tools);
const onPath = (cmd: string) =>
  spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (!onPath('uuidgen'))
  writeFileSync(
    path.join(tools, 'uuidgen'),
    "#!/bin/sh\nexec python3 -c 'import uuid; print(uuid.uuid4())'\n",
    {
      mode: 0o755,
    },
  );
// The remote tests reach this host over SSH, whose sessions get sshd's PATH, not this one: the
// sudo stand-in goes where sshd's PATH looks (and is removed at the end).
const SUDO = '/usr/local/bin/sudo';
const sudoMade = !onPath('sudo') && process.getuid?.() === 0 && !existsSync(SUDO);
if (sudoMade)
  writeFileSync(
    SUDO,
    '#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in --) shift; break;; -u|-g) shift 2;; -*) shift;; *) break;; esac; done\nexec "$@"\n',
    { mode: 0o755 },
  );
// st2's packages put the examples pack in /usr/share/doc/st2/examples; test_quickstart_rules
// creates a rule from there.
const DOC = '/usr/share/doc/st2';
const docMade = !existsSync(DOC);
if (docMade) {
  mkdirSync(DOC, { recursive: true });
  symlinkSync(path.join(packsDir, 'examples'), path.join(DOC, 'examples'));
}
const sshd = await startSshd(home).catch((err: Error) => {
  process.stderr.write(`st2-self-check: no sshd on localhost:22 (${err.message})\n`);
  return undefined;
});
if (!sshd)
  process.stderr.write('st2-self-check: port 22 is taken or sshd is missing; remote tests need it\n');
// Actions inherit PATH and HOME from the service: the st2 CLI and the system user's SSH key.
process.env.PATH = `${path.join(ST2_VENV, 'bin')}:${process.env.PATH}:${tools}`;
process.env.HOME = home;
const password = 'Ch4ngeMe-self-check';
let running: RunningService | undefined;
const stopAll = async (): Promise<void> => {
  await running?.stop();
  await sshd?.stop();
  if (optMade) rmSync(OPT, { recursive: true, force: true });
  if (docMade) rmSync(DOC, { recursive: true, force: true });
  if (sudoMade) rmSync(SUDO, { force: true });
  rmSync(dir, { recursive: true, force: true });
};
let code = 1;
try {
  running = await startWithPacks({
    label: 'st2-self-check',
    dir,
    packsDir,
    refs: Object.keys(packSources),
    mongoUrl,
    overrides: {
      'api.port': ST2_PORT,
      'auth.api_url': `http://127.0.0.1:${ST2_PORT}/`,
      'auth.admin_password': password,
      roles: ['api', 'runner', 'rules', 'timers', 'sensors', 'scheduler'],
      // As st2 does, an action trigger instance for every execution (test_quickstart_trace counts
      // them in a trace); Squall's default stores one only while a rule listens.
      'rules.store_unheard_actiontrigger': true,
      ...settings,
    },
  });

  const base = `http://127.0.0.1:${ST2_PORT}`;
  const login = await fetch(`${base}/auth/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`st2admin:${password}`).toString('base64')}` },
  });
  if (!login.ok) throw new Error(`st2-self-check: login failed: ${login.status} ${await login.text()}`);
  const token = ((await login.json()) as { token: string }).token;
  const headers = { 'x-auth-token': token };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    TERM: 'dumb',
    LANG: 'C.UTF-8',
    ST2_BASE_URL: base,
    ST2_API_URL: `${base}/v1`,
    ST2_AUTH_URL: `${base}/auth/v1`,
    ST2_STREAM_URL: `${base}/stream/v1`,
    ST2_AUTH_TOKEN: token,
  };

  // st2-self-check's list: `st2 action list --pack=tests` names starting tests.test_.
  const actionsDir = path.join(packsDir, 'tests', 'actions');
  const all = readdirSync(actionsDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => (parseYaml(readFileSync(path.join(actionsDir, f), 'utf8')) as { name?: string }).name)
    .filter((n): n is string => typeof n === 'string' && n.startsWith('test_'))
    .map((n) => `tests.${n}`)
    .sort();
  // After the tests, st2-self-check runs examples.orquesta-examples (unless given -o).
  if (!args.includes('-o')) all.push(ORQUESTA_EXAMPLES);
  const outcomes: Outcome[] = [];
  for (const test of all) {
    if (only && !only.includes(test)) continue;
    if (WINDOWS_TESTS.includes(test)) {
      outcomes.push({ test, status: 'skipped', seconds: 0, error: 'Windows (st2-self-check without -w)' });
      continue;
    }
    const started = Date.now();
    const out = await new Promise<string>((resolve) => {
      const runArgs = test === ORQUESTA_EXAMPLES ? [] : ['protocol=http', `token=${token}`];
      const child = spawn(ST2_BIN, ['run', test, ...runArgs], { env, cwd: home });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (text += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1000);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
    const seconds = Math.round((Date.now() - started) / 1000);
    const statusLine = out.split('\n').find((l) => /^status:/.test(l.trim()));
    const status =
      statusLine?.match(/status:\s*(\w+)/)?.[1] ?? (seconds >= timeoutSeconds ? 'timeout' : 'error');
    const id = out.match(/^id:\s*([0-9a-f]{24})/m)?.[1];
    const error =
      status === 'succeeded'
        ? ''
        : id
          ? await firstError(`${base}/api/v1`, headers, id)
          : (out.split('\n').find((l) => l.trim() !== '') ?? '').slice(0, 160);
    outcomes.push({ test, status, seconds, error });
    process.stderr.write(`${test}: ${status} (${seconds}s) ${error}\n`);
  }

  const width = Math.max(...outcomes.map((o) => o.test.length), 4);
  process.stdout.write(`\n| ${'test'.padEnd(width)} | status    | s    | first error line\n`);
  for (const o of outcomes)
    process.stdout.write(
      `| ${o.test.padEnd(width)} | ${o.status.padEnd(9)} | ${String(o.seconds).padEnd(4)} | ${o.error}\n`,
    );
  const ran = outcomes.filter((o) => o.status !== 'skipped');
  const passed = ran.filter((o) => o.status === 'succeeded').length;
  process.stdout.write(
    `st2-self-check on Squall: ${passed} passed of ${ran.length} run (${outcomes.length - ran.length} skipped)\n`,
  );
  code = passed === ran.length ? 0 : 1;
  if (args.includes('--keep')) {
    process.stderr.write(
      `st2-self-check: Squall stays up until Ctrl-C; try it with\n  export HOME=${home} PATH=${process.env.PATH} ST2_API_URL=${base} ST2_AUTH_TOKEN=${token}\n`,
    );
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
} finally {
  await stopAll();
}
process.exit(code);
