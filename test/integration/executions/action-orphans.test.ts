import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestPack } from '../../support/packs.js';
import { processExists } from '../../support/processes.js';
import { describeOnEachStore, freshMongoUrl, tempDir } from '../../support/servers.js';
import { FAST_RECOVERY, startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';

type Json = Record<string, any>;

/**
 * What a Python or Node.js action started (subprocess.Popen, child_process.spawn) must not outlive
 * the run: not its timeout or cancel, not the service killed with SIGKILL, and not the service
 * killed together with its spawner (then the next start kills them). Each action writes
 * "<its own pid> <the sleep's pid>" to <dir>/<name>.pids once the sleep runs, then waits: in a
 * Python call, on a promise, or in a loop that blocks Node's event loop (which then never sees its
 * channel to the service close).
 */
const PACK_FILES: Record<string, string> = {
  ...action('py_sleep', 'python-script', 'py_sleep.py'),
  'actions/py_sleep.py': [
    'import os',
    'import subprocess',
    'import time',
    '',
    'from st2common.runners.base_action import Action',
    '',
    '',
    'class Sleep(Action):',
    '    def run(self, dir, name):',
    "        child = subprocess.Popen(['sleep', '600'])",
    "        with open(os.path.join(dir, name + '.tmp'), 'w') as f:",
    "            f.write('%d %d' % (os.getpid(), child.pid))",
    "        os.rename(os.path.join(dir, name + '.tmp'), os.path.join(dir, name + '.pids'))",
    '        time.sleep(600)',
    '',
  ].join('\n'),
  ...action('js_sleep', 'nodejs', 'js_sleep.mjs'),
  'actions/js_sleep.mjs': [
    "import { spawn } from 'node:child_process';",
    "import { renameSync, writeFileSync } from 'node:fs';",
    'export default async function ({ dir, name }) {',
    "  const child = spawn('sleep', ['600'], { stdio: 'ignore' });",
    '  writeFileSync(`${dir}/${name}.tmp`, `${process.pid} ${child.pid}`);',
    '  renameSync(`${dir}/${name}.tmp`, `${dir}/${name}.pids`);',
    '  await new Promise((resolve) => setTimeout(resolve, 600_000));',
    '}',
    '',
  ].join('\n'),
  ...action('js_blocked', 'nodejs', 'js_blocked.mjs'),
  'actions/js_blocked.mjs': [
    "import { spawn } from 'node:child_process';",
    "import { renameSync, writeFileSync } from 'node:fs';",
    'export default function ({ dir, name }) {',
    "  const child = spawn('sleep', ['600'], { stdio: 'ignore' });",
    '  writeFileSync(`${dir}/${name}.tmp`, `${process.pid} ${child.pid}`);',
    '  renameSync(`${dir}/${name}.tmp`, `${dir}/${name}.pids`);',
    '  for (;;);',
    '}',
    '',
  ].join('\n'),
};

function action(name: string, runner: string, entry: string): Record<string, string> {
  return {
    [`actions/${name}.yaml`]: [
      `name: ${name}`,
      `runner_type: ${runner}`,
      `entry_point: ${entry}`,
      'parameters:',
      '  dir: {type: string, required: true}',
      '  name: {type: string, required: true}',
      '',
    ].join('\n'),
  };
}

/** A test's service processes and the pids its actions wrote, killed after it whatever happened. */
function harness(): {
  packs: string;
  data: string;
  pids: number[];
  start(env?: NodeJS.ProcessEnv): Promise<ServiceProcess>;
} {
  const data = tempDir();
  const packs = tempDir();
  const started: ServiceProcess[] = [];
  const pids: number[] = [];
  beforeAll(() => writeTestPack(packs.dir, 'orphans', PACK_FILES));
  afterAll(async () => {
    for (const svc of started) await svc.stop('SIGKILL');
    for (const pid of pids) if (processExists(pid)) process.kill(pid, 'SIGKILL');
    data.cleanup();
    packs.cleanup();
  });
  return {
    packs: packs.dir,
    data: data.dir,
    pids,
    async start(env = {}) {
      const svc = await startServiceProcess(
        [],
        {
          ...FAST_RECOVERY,
          SQUALL_CHATOPS_ENABLE: 'false',
          SQUALL_DATA_DIR: data.dir,
          SQUALL_PACKS_PATHS: packs.dir,
          ...env,
        },
        60_000,
      );
      started.push(svc);
      return svc;
    },
  };
}

async function api(svc: ServiceProcess, method: string, route: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${svc.url}${route}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  expect(res.status, `${method} ${route}: ${res.status}`).toBeLessThan(300);
  return (await res.json()) as Json;
}

/** Runs orphans.<name> and waits for its "<action pid> <sleep pid>"; both go in `pids` for cleanup. */
async function runUntilSleeping(
  svc: ServiceProcess,
  h: { data: string; pids: number[] },
  name: string,
  extra: Json = {},
): Promise<{ id: string; actionPid: number; sleepPid: number }> {
  const execution = await api(svc, 'POST', '/api/v1/executions', {
    action: `orphans.${name.replace(/-.*/, '')}`,
    parameters: { dir: h.data, name, ...extra },
  });
  const file = path.join(h.data, `${name}.pids`);
  const [actionPid, sleepPid] = await waitFor(
    () => (existsSync(file) ? readFileSync(file, 'utf8').split(' ').map(Number) : null),
    `${name} to start its sleep`,
    30_000,
    50,
  );
  h.pids.push(actionPid, sleepPid);
  expect(processExists(sleepPid)).toBe(true);
  return { id: execution.id as string, actionPid, sleepPid };
}

/** Waits until none of `named` runs; fails naming those still running. */
async function allGone(named: Record<string, number>, withinMs: number, after: string): Promise<void> {
  const alive = () =>
    Object.entries(named)
      .filter(([, pid]) => processExists(pid))
      .map(([name, pid]) => `${name} (pid ${pid})`);
  await waitFor(() => alive().length === 0, 'every process to be gone', withinMs, 100).catch(() =>
    expect(alive(), `still running ${after}`).toEqual([]),
  );
}

/** The spawner of a service process: its child running spawner/host.mjs. */
function spawnerOf(servicePid: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== servicePid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('spawner/host.mjs')) return Number(name);
    } catch {
      // gone since the listing
    }
  }
  return undefined;
}

describe.runIf(process.platform === 'linux')('the processes a Python or Node.js action started', () => {
  const h = harness();

  it('are killed with the action on timeout and on cancel', async () => {
    const svc = await h.start();
    const timedOut = await runUntilSleeping(svc, h, 'py_sleep-timeout', { timeout: 2 });
    const canceled = await runUntilSleeping(svc, h, 'js_sleep-cancel');
    await api(svc, 'DELETE', `/api/v1/executions/${canceled.id}`);
    for (const [id, status] of [
      [timedOut.id, 'timeout'],
      [canceled.id, 'canceled'],
    ])
      await waitFor(
        async () => (await api(svc, 'GET', `/api/v1/executions/${id}`)).status === status,
        `execution ${id} to be ${status}`,
        10_000,
      );
    await allGone(
      {
        'timed-out Python action': timedOut.actionPid,
        'its sleep': timedOut.sleepPid,
        'canceled Node.js action': canceled.actionPid,
        'its sleep ': canceled.sleepPid,
      },
      3_000,
      'after the timeout and the cancel',
    );
    await svc.stop('SIGKILL');
  }, 30_000);

  it('are killed within seconds when the service is SIGKILLed, a Node.js action blocked in a loop too', async () => {
    const svc = await h.start();
    const py = await runUntilSleeping(svc, h, 'py_sleep');
    const js = await runUntilSleeping(svc, h, 'js_sleep');
    const blocked = await runUntilSleeping(svc, h, 'js_blocked');
    await svc.stop('SIGKILL');
    await allGone(
      {
        'Python action': py.actionPid,
        "Python action's sleep": py.sleepPid,
        'Node.js action': js.actionPid,
        "Node.js action's sleep": js.sleepPid,
        'blocked Node.js action': blocked.actionPid,
        "blocked Node.js action's sleep": blocked.sleepPid,
      },
      // The spawner's SIGTERM, then its SIGKILL 2 s later for what ignores SIGTERM.
      5_000,
      "after the service's SIGKILL",
    );
  }, 30_000);

  it('are still killed when the service is SIGKILLed after the spawner watching them died and was replaced', async () => {
    const svc = await h.start();
    const py = await runUntilSleeping(svc, h, 'py_sleep-rewatch');
    const spawner = await waitFor(() => spawnerOf(svc.child.pid!) ?? null, 'the spawner', 5_000, 50);
    process.kill(spawner, 'SIGKILL');
    // The service starts another at once to watch the groups the dead one watched.
    const next = await waitFor(
      () => {
        const found = spawnerOf(svc.child.pid!);
        return found !== undefined && found !== spawner ? found : null;
      },
      'a new spawner',
      5_000,
      50,
    );
    h.pids.push(next);
    expect(processExists(py.sleepPid)).toBe(true);
    await svc.stop('SIGKILL');
    await allGone(
      { 'Python action': py.actionPid, "Python action's sleep": py.sleepPid },
      5_000,
      "after the service's SIGKILL",
    );
  }, 30_000);

  it('that outlive an action which ended (a daemon started with nohup) survive a SIGKILL and the next start', async () => {
    const svc = await h.start();
    const file = path.join(h.data, 'daemon.pid');
    const ran = await api(svc, 'POST', '/api/v1/executions', {
      action: 'core.local',
      parameters: { cmd: `nohup sleep 600 >/dev/null 2>&1 & echo $! > '${file}'` },
    });
    await waitFor(
      async () => (await api(svc, 'GET', `/api/v1/executions/${ran.id}`)).status === 'succeeded',
      'the action that starts the daemon to end',
      10_000,
    );
    const daemon = Number(readFileSync(file, 'utf8'));
    h.pids.push(daemon);
    await svc.stop('SIGKILL');
    const next = await h.start();
    // The start's kill is done by now (SIGTERM at once, SIGKILL 1 s later): the daemon is no orphan.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(processExists(daemon), 'the daemon after the restart').toBe(true);
    await next.stop('SIGKILL');
  }, 30_000);
});

describeOnEachStore('the processes of actions whose service and spawner were both killed', (target) => {
  const h = harness();

  it('are killed at the next start, and their executions end abandoned', async () => {
    const env = target.kind === 'mongo' ? { SQUALL_STORE_URL: freshMongoUrl() } : {};
    const first = await h.start(env);
    // A shell command first: the spawner runs whether or not it watches the actions' groups.
    const shell = await api(first, 'POST', '/api/v1/executions', {
      action: 'core.local',
      parameters: { cmd: 'true' },
    });
    await waitFor(
      async () => (await api(first, 'GET', `/api/v1/executions/${shell.id}`)).status === 'succeeded',
      'the shell command to run',
      10_000,
    );
    const py = await runUntilSleeping(first, h, 'py_sleep');
    const blocked = await runUntilSleeping(first, h, 'js_blocked');
    const spawner = spawnerOf(first.child.pid!);
    expect(spawner, 'the spawner').toBeDefined();
    // Stopped first, so it cannot kill the groups when the service goes: both die at once.
    process.kill(spawner!, 'SIGSTOP');
    await first.stop('SIGKILL');
    process.kill(spawner!, 'SIGKILL');
    // The Python action dies of PDEATHSIG; its sleep and the blocked Node.js action run on.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(processExists(py.sleepPid) && processExists(blocked.actionPid), 'orphans before the restart').toBe(
      true,
    );

    const second = await h.start(env);
    await allGone(
      {
        "Python action's sleep": py.sleepPid,
        'blocked Node.js action': blocked.actionPid,
        "blocked Node.js action's sleep": blocked.sleepPid,
      },
      5_000,
      'after the restart',
    );
    for (const id of [py.id, blocked.id]) {
      const done = await waitFor(
        async () => {
          const e = await api(second, 'GET', `/api/v1/executions/${id}`);
          return ['running'].includes(e.status) ? null : e;
        },
        `execution ${id} to be recovered`,
        10_000,
      );
      expect(done.status).toBe('abandoned');
    }
  }, 60_000);
});
