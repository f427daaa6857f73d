import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTestPack } from '../../support/packs.js';
import { pidIn, processExists } from '../../support/processes.js';
import { serviceWithTestPacks } from '../../support/test-pack-service.js';
import { waitFor } from '../../support/wait.js';

/** A sensor of each kind whose run() writes its pid, and whose cleanup() leaves `<name>.cleaned`. */
const PACK_FILES = {
  'sensors/py_sensor.yaml':
    'class_name: PySensor\nentry_point: py_sensor.py\ntrigger_types:\n  - name: py_event\n',
  'sensors/py_sensor.py': [
    'import os',
    'import threading',
    '',
    'from st2reactor.sensor.base import Sensor',
    '',
    'HERE = os.path.dirname(__file__)',
    '',
    '',
    'class PySensor(Sensor):',
    '    def setup(self):',
    '        pass',
    '',
    '    def run(self):',
    "        with open(os.path.join(HERE, 'py_sensor.pid'), 'w') as f:",
    '            f.write(str(os.getpid()))',
    '        threading.Event().wait()',
    '',
    '    def cleanup(self):',
    "        open(os.path.join(HERE, 'py_sensor.cleaned'), 'w').close()",
    '',
    '    def add_trigger(self, trigger):',
    '        pass',
    '',
    '    def update_trigger(self, trigger):',
    '        pass',
    '',
    '    def remove_trigger(self, trigger):',
    '        pass',
    '',
  ].join('\n'),
  'sensors/js_sensor.yaml':
    'class_name: JsSensor\nentry_point: js_sensor.mjs\ntrigger_types:\n  - name: js_event\n',
  'sensors/js_sensor.mjs': [
    "import { writeFileSync } from 'node:fs';",
    "import path from 'node:path';",
    'const here = import.meta.dirname;',
    'export default class JsSensor {',
    '  setup() {}',
    "  run() { writeFileSync(path.join(here, 'js_sensor.pid'), String(process.pid)); }",
    "  cleanup() { writeFileSync(path.join(here, 'js_sensor.cleaned'), ''); }",
    '}',
    '',
  ].join('\n'),
};

/**
 * Ctrl-C in the terminal of `squall start` sends SIGINT to every process of its foreground group:
 * the server and the sensors it started. The server stops its sensors itself, so a sensor must not
 * die of the signal first (no cleanup(), and a Python KeyboardInterrupt traceback in the log). The
 * store plays no part here: embedded only.
 */
describe('Ctrl-C of squall start with sensors running', () => {
  const service = serviceWithTestPacks();

  it("stops each sensor through its cleanup(), with no traceback in the server's log", async () => {
    const pack = writeTestPack(service.packsDir, 'ctrlctest', PACK_FILES);
    const svc = await service.start({ SQUALL_LOG_LEVEL: 'info' });
    const sensorPids = await waitFor(
      () => {
        const py = pidIn(path.join(pack, 'sensors', 'py_sensor.pid'));
        const js = pidIn(path.join(pack, 'sensors', 'js_sensor.pid'));
        return py && js ? [py, js] : null;
      },
      'both sensors to run',
      60_000,
      100,
    );
    service.pids.push(...sensorPids);
    // What the terminal does: the same signal to every process of the group, children first here.
    const exited = new Promise<number | null>((resolve) => svc.child.once('exit', (code) => resolve(code)));
    for (const pid of sensorPids) process.kill(pid, 'SIGINT');
    svc.child.kill('SIGINT');
    expect(await exited).toBe(0);

    expect(existsSync(path.join(pack, 'sensors', 'py_sensor.cleaned')), 'the Python sensor cleaned up').toBe(
      true,
    );
    expect(existsSync(path.join(pack, 'sensors', 'js_sensor.cleaned')), 'the JS sensor cleaned up').toBe(
      true,
    );
    expect(svc.output.join('\n')).not.toMatch(/KeyboardInterrupt|Traceback/);
    expect(sensorPids.filter(processExists)).toEqual([]);
  }, 120_000);
});
