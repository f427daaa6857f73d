import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { writeTestPack } from '../../support/packs.js';
import { pidIn, processExists } from '../../support/processes.js';
import { describeOnEachStore, freshMongoUrl } from '../../support/servers.js';
import { serviceWithTestPacks } from '../../support/test-pack-service.js';
import { waitFor } from '../../support/wait.js';

/** Generous: the Python processes get SIGTERM, then at most a few seconds of cleanup. */
const GONE_WITHIN_MS = 20_000;

/**
 * A server killed with SIGKILL must not leave the processes it started running on their own: its
 * spawner kills the process groups of the shell commands still running when the server goes. The blocking sensor never reads its channel to the server: it blocks in a C call (libc sleep
 * through ctypes, which eventlet's monkey patching cannot make green, so the channel's green reader
 * never sees EOF); the stubborn one sees EOF but its cleanup() never ends; the action sleeps for ten
 * minutes.
 */
/** An st2 sensor `name` (a `<name>.py` and its metadata) that writes its pid to `<name>.pid`. */
function sensor(name: string, className: string, run: string[], cleanup: string[]): Record<string, string> {
  const method = (def: string, body: string[]) => [`    def ${def}:`, ...body.map((l) => `        ${l}`), ''];
  return {
    [`sensors/${name}.yaml`]: `class_name: ${className}\nentry_point: ${name}.py\ntrigger_types:\n  - name: ${name}\n`,
    [`sensors/${name}.py`]: [
      'import ctypes',
      'import os',
      'import threading',
      '',
      'from st2reactor.sensor.base import Sensor',
      '',
      '',
      `class ${className}(Sensor):`,
      ...method('setup(self)', ['pass']),
      ...method('run(self)', [
        `with open(os.path.join(os.path.dirname(__file__), '${name}.pid'), 'w') as f:`,
        '    f.write(str(os.getpid()))',
        ...run,
      ]),
      ...method('cleanup(self)', cleanup),
      ...['add_trigger', 'update_trigger', 'remove_trigger'].flatMap((m) =>
        method(`${m}(self, trigger)`, ['pass']),
      ),
    ].join('\n'),
  };
}

const PACK_FILES = {
  ...sensor(
    'blocking',
    'BlockingSensor',
    ['ctypes.CDLL(None).sleep(3600)'],
    ["open(os.path.join(os.path.dirname(__file__), 'blocking.cleaned'), 'w').close()"],
  ),
  // Its cleanup() never ends: the process must still go.
  ...sensor(
    'stubborn',
    'StubbornSensor',
    ['threading.Event().wait()'],
    ['while True:', '    ctypes.CDLL(None).sleep(3600)'],
  ),
  'actions/hang.yaml': 'name: hang\nrunner_type: python-script\nentry_point: hang.py\nparameters: {}\n',
  'actions/hang.py': [
    'import os',
    'import time',
    '',
    'from st2common.runners.base_action import Action',
    '',
    '',
    'class Hang(Action):',
    '    def run(self):',
    "        with open(os.path.join(os.path.dirname(__file__), 'action.pid'), 'w') as f:",
    '            f.write(str(os.getpid()))',
    '        time.sleep(600)',
    '',
  ].join('\n'),
};

describeOnEachStore('children of a server killed with SIGKILL', (target) => {
  const service = serviceWithTestPacks();
  const pids = service.pids;

  it('leaves none of its Python sensors (blocked, or stuck in cleanup), running Python action or shell command behind', async () => {
    const pack = writeTestPack(service.packsDir, 'orphantest', PACK_FILES);
    const svc = await service.start(target.kind === 'mongo' ? { SQUALL_STORE_URL: freshMongoUrl() } : {});
    const res = await fetch(`${svc.url}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'orphantest.hang', parameters: {} }),
    });
    expect(res.status, await res.text()).toBe(201);
    // A shell command (started by the spawner, in its own process group) and the child it starts.
    const shellPids = path.join(pack, 'shell.pids');
    const local = await fetch(`${svc.url}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        action: 'core.local',
        parameters: { cmd: `sleep 600 & echo "$! $$" > '${shellPids}'; wait`, timeout: 900 },
      }),
    });
    expect(local.status, await local.text()).toBe(201);

    const sensorPid = await waitFor(
      () => pidIn(path.join(pack, 'sensors', 'blocking.pid')),
      'the sensor to block in run()',
      60_000,
      100,
    );
    const stubbornPid = await waitFor(
      () => pidIn(path.join(pack, 'sensors', 'stubborn.pid')),
      'the stubborn sensor to wait in run()',
      60_000,
      100,
    );
    const actionPid = await waitFor(
      () => pidIn(path.join(pack, 'actions', 'action.pid')),
      'the action to start sleeping',
      60_000,
      100,
    );
    const [sleepPid, shellPid] = await waitFor(
      () => {
        const text = existsSync(shellPids) ? readFileSync(shellPids, 'utf8').trim() : '';
        return text.includes(' ') ? text.split(' ').map(Number) : null;
      },
      'the shell command to start its child',
      60_000,
      100,
    );
    const children = {
      blocking: sensorPid,
      stubborn: stubbornPid,
      action: actionPid,
      shell: shellPid,
      'shell child': sleepPid,
    };
    pids.push(...Object.values(children));
    expect(Object.values(children).every(processExists)).toBe(true);

    await svc.stop('SIGKILL');
    const alive = () =>
      Object.entries(children)
        .filter(([, pid]) => processExists(pid))
        .map(([name, pid]) => `${name} (pid ${pid})`);
    await waitFor(() => alive().length === 0, 'every child to be gone', GONE_WITHIN_MS, 200).catch(() =>
      expect(alive(), "children still running after their server's SIGKILL").toEqual([]),
    );
    // The blocked sensor still got its cleanup() on the way out.
    expect(existsSync(path.join(pack, 'sensors', 'blocking.cleaned'))).toBe(true);
  }, 180_000);
});
