// Acceptance: runs StackStorm's own orquesta wiring tests (st2tests/integration/orquesta/
// test_wiring*.py, unchanged) against an in-process Squall that has st2's `examples` pack
// (contrib/examples) registered over its bundled one, and prints "N passed of M".
//
//   node --import tsx scripts/st2-wiring/run.ts ST2_CHECKOUT [-k PATTERN]
//   node --import tsx scripts/st2-wiring/run.ts ST2_CHECKOUT --st2tests ST2TESTS_CHECKOUT
//     (also registers the `fixtures` pack of StackStorm/st2tests, which st2's launchdev.sh installs
//     beside `examples` for these tests: test_config_context_renders calls it)
//   node --import tsx scripts/st2-wiring/run.ts ST2_CHECKOUT ... --mongo mongodb://HOST:PORT/DB
//     (Squall on MongoDB or FerretDB instead of the embedded store; give a database of its own)
//   node --import tsx scripts/st2-wiring/run.ts ST2_CHECKOUT --show ACTION_REF ['{"param": 1}']
//     (runs one action on the same set-up and prints its status, result and tasks)
//
// ST2_CHECKOUT is a directory holding st2's contrib/examples and st2tests/integration/orquesta
// (e.g. `git --git-dir=<mirror> archive HEAD contrib/examples st2tests | tar -x -C DIR`).
// The tests talk to Squall through PyPI's st2client (in .cache/st2-wiring, created on first
// use, with pytest, which test_wiring_pause_and_resume imports); Squall's st2common shim
// (src/runners/python/shim) gives them the constants they import. Packs with a requirements.txt get
// a virtualenv in .cache/st2-wiring/pack-venvs, as st2's launchdev.sh sets them up.
//
// Every test runs, pause and resume, inquiries, cancel and re-run included. On StackStorm/st2@c2eaf56
// and StackStorm/st2tests@5260f0e, 2026-12-05: 81 passed of 81 (before: 53 of 53 with 20 of these
// left out by name and the 8 of test_wiring_pause_and_resume uncounted, as pytest was missing).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { copyPacks, portFree as isPortFree, startWithPacks } from '../lib/pack-server.js';
import { ensurePackVenvs } from '../lib/pack-venvs.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VENV = path.join(ROOT, '.cache', 'st2-wiring');
const PYTHON = path.join(VENV, 'bin', 'python');
const SHIM = path.join(ROOT, 'src', 'runners', 'python', 'shim');
const [checkout, ...rest] = process.argv.slice(2);
const kIdx = rest.indexOf('-k');
const filter = kIdx >= 0 ? rest[kIdx + 1] : undefined;
const st2testsIdx = rest.indexOf('--st2tests');
const fixturesDir = st2testsIdx >= 0 ? path.join(rest[st2testsIdx + 1], 'packs', 'fixtures') : undefined;
if (fixturesDir && !existsSync(path.join(fixturesDir, 'pack.yaml'))) {
  process.stderr.write(
    `st2-wiring: ${fixturesDir}/pack.yaml is missing: give a StackStorm/st2tests checkout\n`,
  );
  process.exit(2);
}
const mongoIdx = rest.indexOf('--mongo');
const mongoUrl = mongoIdx >= 0 ? rest[mongoIdx + 1] : undefined;
const showIdx = rest.indexOf('--show');
const show =
  showIdx >= 0 ? { ref: rest[showIdx + 1], params: JSON.parse(rest[showIdx + 2] ?? '{}') } : undefined;
if (!checkout) {
  process.stderr.write('usage: node --import tsx scripts/st2-wiring/run.ts ST2_CHECKOUT [-k PATTERN]\n');
  process.exit(2);
}
const testsDir = path.join(checkout, 'st2tests');
const examplesDir = path.join(checkout, 'contrib', 'examples');
for (const p of [path.join(testsDir, 'integration', 'orquesta'), path.join(examplesDir, 'pack.yaml')]) {
  if (!existsSync(p)) {
    process.stderr.write(
      `st2-wiring: ${p} is missing: give a directory with st2's contrib/examples and st2tests\n`,
    );
    process.exit(2);
  }
}

function ensureVenv(): void {
  const ok = (): boolean =>
    existsSync(PYTHON) &&
    spawnSync(PYTHON, ['-c', 'import st2client, retrying, six, eventlet, pytest'], { stdio: 'ignore' })
      .status === 0;
  if (ok()) return;
  rmSync(VENV, { recursive: true, force: true });
  const steps: Array<[string, string[]]> = [
    ['python3', ['-m', 'venv', VENV]],
    [PYTHON, ['-m', 'pip', 'install', '-q', 'st2client==3.9.0', 'retrying', 'six', 'eventlet', 'pytest']],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`st2-wiring: ${cmd} ${args.join(' ')} failed`);
  }
}

/**
 * The test ids to run: every test of st2's test_wiring*.py modules (pause and resume, inquiries,
 * cancel and re-run included). A module that does not import here is run by its name, so that
 * unittest reports it as an error rather than it going uncounted.
 */
function testIds(): string[] {
  const list = spawnSync(
    PYTHON,
    [
      '-c',
      `import os, sys, unittest, importlib
for f in sorted(os.listdir('integration/orquesta')):
    if f.startswith('test_wiring') and f.endswith('.py'):
        suite = unittest.defaultTestLoader.loadTestsFromName('integration.orquesta.' + f[:-3])
        stack = [suite]
        while stack:
            s = stack.pop()
            for t in s:
                if isinstance(t, unittest.TestSuite): stack.append(t)
                else: print(t.id())`,
    ],
    { cwd: testsDir, env: { ...process.env, PYTHONPATH: SHIM }, encoding: 'utf8' },
  );
  if (list.status !== 0) throw new Error(`st2-wiring: cannot list the tests:\n${list.stderr}`);
  const ids: string[] = [];
  for (const id of list.stdout.trim().split('\n').filter(Boolean).sort()) {
    const run = id.startsWith('integration.') ? id : `integration.orquesta.${id.split('.').pop()}`;
    if ((!filter || run.includes(filter)) && !ids.includes(run)) ids.push(run);
  }
  return ids;
}

ensureVenv();
const ids = testIds();
// st2's integration tests run st2 as st2.dev.conf configures it: the API on 127.0.0.1:9101 with
// `[auth] api_url = http://127.0.0.1:9101/` (test_st2_runtime_context expects that URL). Squall
// listens there too when the port is free.
const ST2_PORT = 9101;
const portFree = await isPortFree(ST2_PORT);
if (!portFree)
  process.stderr.write(
    `st2-wiring: port ${ST2_PORT} is taken; Squall listens elsewhere and test_st2_runtime_context cannot pass\n`,
  );
const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-st2-wiring-'));
const packsDir = path.join(dir, 'packs');
// st2's examples pack over the bundled one of the same ref, as a user's installed pack would be.
const packSources: Record<string, string> = fixturesDir
  ? { examples: examplesDir, fixtures: fixturesDir }
  : { examples: examplesDir };
copyPacks(packSources, packsDir);
ensurePackVenvs(packSources, 'st2-wiring');
const running = await startWithPacks({
  label: 'st2-wiring',
  dir,
  packsDir,
  refs: Object.keys(packSources),
  mongoUrl,
  overrides: {
    'api.port': portFree ? ST2_PORT : 0,
    'auth.api_url': portFree ? `http://127.0.0.1:${ST2_PORT}/` : undefined,
    'auth.enable': false,
    roles: ['api', 'runner', 'rules', 'timers'],
  },
}).catch((err: unknown) => {
  rmSync(dir, { recursive: true, force: true });
  throw err;
});
let code = 1;
try {
  const url = running.url.replace(/\/$/, '');
  if (show) {
    const post = await fetch(`${url}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: show.ref, parameters: show.params }),
    });
    const { id } = (await post.json()) as { id: string };
    let ex: { status: string; result?: unknown };
    do {
      await new Promise((r) => setTimeout(r, 200));
      ex = (await (await fetch(`${url}/api/v1/executions/${id}`)).json()) as typeof ex;
    } while (!['succeeded', 'failed', 'timeout', 'canceled', 'abandoned'].includes(ex.status));
    const children = (await (await fetch(`${url}/api/v1/executions/${id}/children`)).json()) as unknown[];
    process.stdout.write(
      `${JSON.stringify({ status: ex.status, result: ex.result, tasks: children }, null, 1)}\n`,
    );
    code = 0;
  } else {
    const child = spawn(PYTHON, ['-m', 'unittest', '-v', ...ids], {
      cwd: testsDir,
      env: {
        ...process.env,
        PYTHONPATH: SHIM,
        ST2_BASE_URL: url,
        ST2_API_URL: `${url}/api/v1`,
        ST2_AUTH_URL: `${url}/auth/v1`,
        ST2_STREAM_URL: `${url}/stream/v1`,
        PYTHONWARNINGS: 'ignore',
      },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let out = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      process.stderr.write(d);
    });
    await new Promise((resolve) => child.on('close', resolve));
    const verdicts = [...out.matchAll(/^(test_\w+) \(([\w.]+)\)[^\n]*? \.\.\. (ok|FAIL|ERROR|skipped.*)$/gm)];
    const passed = verdicts.filter((v) => v[3] === 'ok').length;
    const failed = verdicts.filter((v) => v[3] !== 'ok').map((v) => `${v[2]} ${v[3]}`);
    process.stdout.write('\n');
    for (const f of failed) process.stdout.write(`not passed: ${f}\n`);
    process.stdout.write(`st2 orquesta wiring tests on Squall: ${passed} passed of ${ids.length}\n`);
    code = passed === ids.length ? 0 : 1;
  }
} finally {
  await running.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
