#!/usr/bin/env node
// Acceptance on real packs: installs every pack found in a directory of mirrors (StackStorm
// Exchange repositories, st2's contrib packs…) into a temporary Squall and prints, per pack, the
// install time, what was registered against the files on disk per kind, and for each Python
// action run with dummy required parameters whether it reached the pack's own code.
//
//   node scripts/exchange-acceptance.mjs --mirrors DIR [--packs a,b] [--json out.json] [--timeout 20]
//     [--sample N]   run at most N Python actions per pack, evenly spread over its sorted list
//                    (aws has 3,578); the row then says how many of how many were run
//
// DIR holds one folder per pack (its pack.yaml at the top). A folder's commit is read from its
// .git, or from a file named .commit in it. Each pack is installed with skip_dependencies (the
// mirrors are offline) and force. Needs the build (npm run build).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const out = { timeout: 20, concurrency: 3 };
  const setters = {
    '--mirrors': (v) => (out.mirrors = v),
    '--packs': (v) => (out.packs = v.split(',')),
    '--json': (v) => (out.json = v),
    '--timeout': (v) => (out.timeout = Number(v)),
    '--concurrency': (v) => (out.concurrency = Number(v)),
    '--sample': (v) => (out.sample = Number(v)),
  };
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '--keep') out.keep = true;
    else if (setters[argv[i]]) setters[argv[i]](argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!out.mirrors)
    throw new Error('usage: exchange-acceptance.mjs --mirrors DIR [--packs a,b] [--json FILE]');
  return out;
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function commitOf(dir) {
  if (existsSync(path.join(dir, '.commit'))) return readFileSync(path.join(dir, '.commit'), 'utf8').trim();
  const git = spawnSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  return git.status === 0 ? git.stdout.trim() : '';
}

/** Metadata files per kind, as st2's loaders read them: the top of each content folder. */
const KINDS = {
  actions: { dir: 'actions', api: 'actions' },
  aliases: { dir: 'aliases', api: 'actionalias' },
  rules: { dir: 'rules', api: 'rules' },
  sensors: { dir: 'sensors', api: 'sensortypes' },
  policies: { dir: 'policies', api: 'policies' },
  triggers: { dir: 'triggers', api: 'triggertypes' },
};

function metadataFiles(packDir, dir) {
  const full = path.join(packDir, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).filter(
    (f) => /\.(ya?ml|json)$/.test(f) && statSync(path.join(full, f)).isFile() && f !== 'requirements.yaml',
  );
}

/**
 * Trigger types a pack declares: triggers/ files and the trigger_types of its sensors (st2
 * registers both), counted once per name (two sensors may declare the same one, as in newrelic).
 */
function declaredTriggers(packDir) {
  const names = new Set();
  for (const f of metadataFiles(packDir, 'triggers')) {
    try {
      names.add(String(yaml.load(readFileSync(path.join(packDir, 'triggers', f), 'utf8'))?.name ?? f));
    } catch {
      names.add(f);
    }
  }
  for (const f of metadataFiles(packDir, 'sensors')) {
    try {
      const doc = yaml.load(readFileSync(path.join(packDir, 'sensors', f), 'utf8'));
      for (const t of Array.isArray(doc?.trigger_types) ? doc.trigger_types : []) names.add(String(t?.name));
    } catch {
      /* a broken sensor file is counted under sensors */
    }
  }
  return names.size;
}

class Api {
  constructor(base) {
    this.base = base;
  }
  async call(method, url, body) {
    const res = await fetch(this.base + url, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  }
  /** Every record of a list, following X-Total-Count pages (st2's API pages at 100). */
  async list(url) {
    const out = [];
    for (let offset = 0; ;) {
      const sep = url.includes('?') ? '&' : '?';
      const res = await this.call('GET', `${url}${sep}limit=100&offset=${offset}`);
      if (res.status !== 200 || !Array.isArray(res.body)) return out;
      out.push(...res.body);
      const total = Number(res.headers.get('x-total-count') ?? out.length);
      offset += res.body.length;
      if (res.body.length === 0 || offset >= total) return out;
    }
  }
}

function dummyValue(spec) {
  if (Array.isArray(spec.enum) && spec.enum.length) return spec.enum[0];
  switch (spec.type) {
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return false;
    case 'array':
      return [spec.items && typeof spec.items === 'object' ? dummyValue(spec.items) : 'dummy'];
    case 'object': {
      // An object whose schema names its properties gets its required ones (scalyr's queries
      // refuse any other); a free-form one gets a placeholder key.
      if (!spec.properties) return { dummy: 'dummy' };
      const listed = Array.isArray(spec.required) ? spec.required : [];
      return Object.fromEntries(
        Object.entries(spec.properties)
          .filter(([name, sub]) => listed.includes(name) || sub?.required === true)
          .map(([name, sub]) => [name, dummyValue(sub ?? {})]),
      );
    }
    default:
      return 'dummy';
  }
}

/** Modules st2 itself gives pack code (its virtualenv and st2common); missing ones are Squall's gap. */
const ST2_RUNTIME_MODULES =
  /^(st2common|st2client|st2reactor|st2actions|six|yaml|eventlet|greenlet|requests|urllib3|jinja2|dateutil|pytz|simplejson|git|oslo_config|paramiko|jsonschema|chardet|packaging)(\.|$)/;

/**
 * Did the action reach the pack's own code? Yes when it succeeded, timed out, or failed in its own
 * __init__/run (a config error, a refused connection…). No when st2's runtime was missing (an
 * ImportError of a module st2 provides), the class loader found nothing, Squall refused the
 * parameters, or the pack's own dependency is not installed.
 */
function classify(execution, packDir) {
  const status = execution.status;
  const result = execution.result ?? {};
  if (status === 'succeeded') return { reached: true, why: 'succeeded' };
  if (status === 'timeout') return { reached: true, why: 'timed out in its own code' };
  // run() returned (False, …): exit code 0 only comes from the action's own return.
  if (result.exit_code === 0) return { reached: true, why: 'returned failure' };
  const stderr = String(result.stderr ?? '');
  // Only the action's own sys.exit() ends the wrapper without a word: st2's loader errors print a traceback.
  if (!stderr.trim() && !String(result.stdout ?? '').trim() && result.exit_code > 0) {
    return { reached: true, why: `exited with code ${result.exit_code} (its own sys.exit)` };
  }
  const error = String(result.error ?? '');
  const last = stderr.trim().split('\n').pop() ?? '';
  const missing = /No module named '([^']+)'/.exec(last);
  if (missing) {
    return ST2_RUNTIME_MODULES.test(missing[1])
      ? { reached: false, why: `st2 runtime: ${last}` }
      : { reached: false, why: `pack dependency: ${last}` };
  }
  // keystoneauth's answer when the pack ran its OpenStack CLI without a pack config: a config error.
  if (/Missing value [\w-]+ required for auth plugin/.test(last))
    return { reached: true, why: `config error: ${last.slice(0, 140)}` };
  // st2's wrapper also calls run(**every declared parameter): a run() that does not take them is the pack's bug.
  if (
    /TypeError: \w+\.run\(\) (got an unexpected keyword argument|missing \d+ required positional)/.test(last)
  )
    return {
      reached: false,
      why: `the pack's run() does not match its metadata (st2 fails it too): ${last}`,
    };
  if (/Found no classes in plugin file|defines no subclass/.test(stderr))
    return { reached: false, why: `loader: ${last}` };
  if (/Squall does not give pack code/.test(stderr)) return { reached: false, why: `st2 machinery: ${last}` };
  // st2's own modules or settings that Squall's shim lacks: st2's runtime, not the pack, fell short.
  if (
    /module 'st2\w*(\.\w+)*' has no attribute|cannot import name '\w+' from 'st2|NoSuchOptError/.test(last)
  ) {
    return { reached: false, why: `st2 runtime: ${last}` };
  }
  if (!stderr && error) return { reached: false, why: `Squall: ${error.slice(0, 160)}` };
  // A traceback through the pack's files (beyond importing them) is the pack's own code running.
  const frames = [...stderr.matchAll(/File "([^"]+)", line \d+, in (\S+)/g)];
  const own = frames.some(([, file, fn]) => file.startsWith(packDir) && fn !== '<module>');
  const inRun = /in (run|instantiate|get_action_class_instance)\b/.test(stderr);
  if (own || inRun) return { reached: true, why: last.slice(0, 160) };
  if (frames.some(([, file]) => file.startsWith(packDir)))
    return { reached: true, why: `at import: ${last.slice(0, 140)}` };
  return {
    reached: false,
    why: (last || error || `${status}: ${JSON.stringify(result)}`).slice(0, 200),
  };
}

/**
 * Installs one pack as st2 does: the API answers `202 {execution_id}` and the packs.install
 * execution does the work. Answers `{status, body}` as the old synchronous answer read: the
 * execution's output on success, its error as `faultstring` on failure.
 */
async function installed(api, dir) {
  const res = await api.call('POST', '/api/v1/packs/install', {
    packs: [dir],
    force: true,
    skip_dependencies: true,
  });
  if (res.status >= 300 || !res.body?.execution_id) return res;
  for (;;) {
    const ex = (await api.call('GET', `/api/v1/executions/${res.body.execution_id}`)).body ?? {};
    if (['succeeded', 'failed', 'canceled', 'timeout', 'abandoned'].includes(ex.status)) {
      if (ex.status === 'succeeded') return { status: 200, body: ex.result?.output ?? {} };
      return { status: 500, body: { faultstring: ex.result?.error ?? JSON.stringify(ex.result) } };
    }
    await sleep(250);
  }
}

/** The package that failed and why, out of the install error (pip's whole output is long). */
function installFailure(text) {
  // Squall's own answer already names the package and why (pipFailure).
  const squall = /pip could not install (.+?) from requirements\.txt: (.+?); nothing was installed/.exec(
    text,
  );
  if (squall) return `pip: ${squall[1]}: ${squall[2]}`;
  const build = /Failed (?:to build|building wheel for) ([\w.-]+)/.exec(text);
  const clone = /git clone \S+ \S+ (https?:\/\/\S+?)(?:\.git)? /.exec(text);
  const cause =
    /(krb5-config: not found|[\w./-]+\.h: No such file or directory|Could not find function xmlCheckVersion[^|]*|error: [^|]{0,120})/.exec(
      text,
    );
  if (build) return `pip: ${build[1]} does not build${cause ? ` (${cause[1].trim()})` : ''}`;
  if (clone) return `pip: cannot clone ${clone[1]} (GitHub is not reachable from this machine)`;
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

async function runAction(api, action, packDir, timeout) {
  const parameters = {};
  for (const [name, spec] of Object.entries(action.parameters ?? {})) {
    if (spec && spec.required && spec.default === undefined && !spec.immutable)
      parameters[name] = dummyValue(spec);
  }
  parameters.timeout = timeout;
  const started = await api.call('POST', '/api/v1/executions', { action: action.ref, parameters });
  if (started.status >= 300) {
    return { reached: false, why: `Squall refused: ${JSON.stringify(started.body).slice(0, 160)}` };
  }
  const id = started.body.id;
  const deadline = Date.now() + (timeout + 30) * 1000;
  for (;;) {
    const res = await api.call('GET', `/api/v1/executions/${id}`);
    const done = ['succeeded', 'failed', 'timeout', 'canceled', 'abandoned'].includes(res.body?.status);
    if (done) return classify(res.body, packDir);
    if (Date.now() > deadline)
      return { reached: false, why: `still ${res.body?.status} after ${timeout + 30}s` };
    await sleep(500);
  }
}

async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

async function main() {
  const args = parseArgs(process.argv);
  const mirrors = path.resolve(args.mirrors);
  const packDirs = readdirSync(mirrors)
    .filter((d) => existsSync(path.join(mirrors, d, 'pack.yaml')))
    .filter((d) => !args.packs || args.packs.includes(d))
    .sort();
  if (!existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('Squall is not built: run `npm run build` first');
  }

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'squall-acceptance-'));
  const port = await freePort();
  const configFile = path.join(dataDir, 'squall.yaml');
  writeFileSync(
    configFile,
    [`data_dir: ${JSON.stringify(dataDir)}`, 'api:', `  port: ${port}`, 'auth:', '  enable: false', ''].join(
      '\n',
    ),
  );
  const log = path.join(dataDir, 'squall.log');
  const server = spawn(process.execPath, [path.join(root, 'bin', 'squall.js'), 'start', '-c', configFile], {
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SQUALL_LOG_LEVEL: process.env.SQUALL_LOG_LEVEL ?? 'warn' },
  });
  const logLines = [];
  server.stdout.on('data', (d) => logLines.push(String(d)));
  server.stderr.on('data', (d) => logLines.push(String(d)));
  const api = new Api(`http://127.0.0.1:${port}`);
  const stop = () => {
    if (server.exitCode === null) server.kill('SIGTERM');
  };
  process.on('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      stop();
      process.exit(130);
    });
  }
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await api.call('GET', '/api/v1/health')).status === 200) break;
      } catch {
        /* not listening yet */
      }
      if (server.exitCode !== null || i > 240) throw new Error(`Squall did not start:\n${logLines.join('')}`);
      await sleep(500);
    }

    const rows = [];
    for (const name of packDirs) {
      const dir = path.join(mirrors, name);
      const row = { pack: name, commit: commitOf(dir).slice(0, 7), kinds: {}, python: [], notes: [] };
      const t0 = Date.now();
      const res = await installed(api, dir);
      row.installSeconds = (Date.now() - t0) / 1000;
      if (res.status >= 300) {
        row.installError = installFailure(res.body?.faultstring ?? JSON.stringify(res.body));
        rows.push(row);
        process.stderr.write(`${name}: install failed: ${row.installError}\n`);
        continue;
      }
      const report = res.body.installed?.[0] ?? {};
      const ref = report.ref ?? name;
      row.ref = ref;
      const packRecord = (await api.call('GET', `/api/v1/packs/${ref}`)).body ?? {};
      const activePath = String(packRecord.path ?? packRecord.pack_dir ?? '');
      if (activePath && !activePath.startsWith(dataDir))
        row.notes.push(`active copy is ${activePath}, not the installed one`);
      const problems = (res.body.problems ?? []).filter((p) => p.pack === ref);
      row.problems = problems.map((p) => (typeof p === 'string' ? p : JSON.stringify(p)));
      const installedDir = report.dir ?? dir;
      for (const [kind, { dir: sub, api: endpoint }] of Object.entries(KINDS)) {
        const files =
          kind === 'triggers' ? declaredTriggers(installedDir) : metadataFiles(installedDir, sub).length;
        const registered = (await api.list(`/api/v1/${endpoint}?pack=${ref}`)).length;
        row.kinds[kind] = { files, registered };
      }
      const actions = (await api.list(`/api/v1/actions?pack=${ref}`)).filter(
        (a) => a.runner_type === 'python-script',
      );
      let run = actions;
      if (args.sample && actions.length > args.sample) {
        const sorted = [...actions].sort((a, b) => a.ref.localeCompare(b.ref));
        run = Array.from(
          { length: args.sample },
          (_, i) => sorted[Math.floor((i * sorted.length) / args.sample)],
        );
        row.notes.push(`python: a sample of ${run.length} of ${actions.length}`);
      }
      row.python = await pool(run, args.concurrency, async (a) => ({
        ref: a.ref,
        ...(await runAction(api, a, activePath || installedDir, args.timeout)),
      }));
      rows.push(row);
      const reached = row.python.filter((p) => p.reached).length;
      process.stderr.write(
        `${name}: installed in ${row.installSeconds.toFixed(1)} s, python ${reached}/${row.python.length} reached\n`,
      );
    }
    printTable(rows);
    if (args.json) writeFileSync(args.json, JSON.stringify(rows, null, 2));
  } finally {
    stop();
    await sleep(500);
    if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dataDir} (log ${log})\n`);
  }
}

function cell({ files, registered }) {
  if (files === 0 && registered === 0) return '–';
  return registered === files ? `${registered}/${files}` : `**${registered}/${files}**`;
}

function printTable(rows) {
  const head = ['pack', 'commit', 'install s', ...Object.keys(KINDS), 'python reached', 'not reached'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    if (r.installError) {
      lines.push(
        `| ${r.pack} | ${r.commit} | ${r.installSeconds.toFixed(1)} | install failed: ${r.installError.replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 200)} |`,
      );
      continue;
    }
    const reached = r.python.filter((p) => p.reached).length;
    const failures = r.python.filter((p) => !p.reached);
    const why = failures
      .map((p) => `${p.ref.split('.').slice(1).join('.')}: ${p.why}`)
      .join('; ')
      .replace(/\|/g, '/')
      .slice(0, 300);
    lines.push(
      `| ${r.pack} | ${r.commit} | ${r.installSeconds.toFixed(1)} | ${Object.values(r.kinds).map(cell).join(' | ')} | ${r.python.length ? `${reached}/${r.python.length}` : '–'} | ${[...r.notes, why].filter(Boolean).join('; ') || ''} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
