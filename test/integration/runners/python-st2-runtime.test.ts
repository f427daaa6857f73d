import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestPack } from '../../support/packs.js';
import { tempDir } from '../../support/servers.js';
import { fixturePacksDir, startSt2PackService, type St2PackService } from '../../support/st2-pack-service.js';
import { waitFor } from '../../support/wait.js';

type Json = Record<string, any>;

/**
 * Issue 21: pack code gets what StackStorm's python runner and sensor container give it — st2's
 * libraries (six, yaml, eventlet…), st2common helpers, st2's class loader, None for unset
 * parameters — from a pack that lists none of it.
 */
describe('Python packs run with st2 runtime (issue 21)', () => {
  let svc: St2PackService['svc'];
  let api: St2PackService['api'];
  let run: St2PackService['run'];
  const packsDir = fixturePacksDir(['st2_runtime']);

  const virtualenvs = tempDir();

  beforeAll(async () => {
    // The pack's own virtualenv, as an install makes it: without it the action would run on the
    // machine's python3 and see whatever that has installed.
    execFileSync('python3', ['-m', 'venv', '--without-pip', path.join(virtualenvs.dir, 'st2_runtime')]);
    // A pack that pins requirements, put in place without `squall pack install`: no virtualenv.
    writeTestPack(packsDir.dir, 'needs_venv', {
      'requirements.txt': 'six==1.16.0\n',
      'actions/hello.yaml': 'name: hello\nrunner_type: python-script\nentry_point: hello.py\n',
      'actions/hello.py':
        'from st2common.runners.base_action import Action\n\n\nclass Hello(Action):\n    def run(self):\n        return "reached"\n',
      'sensors/idle.yaml':
        'class_name: IdleSensor\nentry_point: idle.py\ntrigger_types:\n  - name: idle_event\n',
      'sensors/idle.py':
        'from st2reactor.sensor.base import Sensor\n\n\nclass IdleSensor(Sensor):\n    def run(self):\n        pass\n',
    });
    ({ svc, api, run } = await startSt2PackService({
      packsDir: packsDir.dir,
      sensorPack: 'st2_runtime',
      config: { 'packs.virtualenvs_dir': virtualenvs.dir },
    }));
  });
  afterAll(async () => {
    await svc?.cleanup();
    packsDir.cleanup();
    virtualenvs.cleanup();
  });

  it("loads an action class whose base chain never reaches st2common's Action, as st2's loader does", async () => {
    const e = await run('st2_runtime.duck_typed', { key: 'ABC-1' });
    expect(e.result.stderr).toBe('');
    expect(e.status).toBe('succeeded');
    // GetThing, not Formatter (no run()) nor BaseClientAction (imported, not defined in the file).
    expect(e.result.result).toEqual({ key: '<ABC-1>', client: 'client for []', has_service: true });
  });

  it('imports six, yaml, eventlet, packaging and st2common.util / constants / content helpers the pack never lists', async () => {
    const e = await run('st2_runtime.uses_runtime', { text: "it's" });
    expect(e.result.stderr).toBe('');
    expect(e.status).toBe('succeeded');
    expect(e.result.result).toEqual({
      six_text: "it's",
      yaml: { a: [1, 2] },
      isotime: '2024-05-06T07:08:09+00:00',
      quoted: `'it'"'"'s'`,
      jinja: '{"k": "it\'s"}',
      human_time: '1m5s 1d1h1m1s 0s 0.25\u03bcs',
      separator: '=',
      packaging: true,
      core_is_system: true,
      pack_ref: 'st2_runtime',
      system_user: [userInfo().username, expect.any(String)],
    });
    // Squall's key when the service user has one, else st2's default path.
    const key = (e.result.result as { system_user: string[] }).system_user[1];
    const own = ['id_ed25519', 'id_ecdsa', 'id_rsa']
      .map((f) => path.join(homedir(), '.ssh', f))
      .find((f) => existsSync(f));
    expect(key).toBe(own ?? '/home/stanley/.ssh/stanley_rsa');
  });

  it('refuses, as st2 does, a pack with requirements.txt registered without its virtualenv, saying how to make it', async () => {
    const e = await run('needs_venv.hello');
    expect(e.status).toBe('failed');
    expect(e.result.error).toBe(
      `The virtual environment (${path.join(virtualenvs.dir, 'needs_venv')}) for pack "needs_venv" does not exist. ` +
        'Normally this is created when you install a pack using "squall pack install". If you installed your pack ' +
        'by some other means, you can create a new virtual environment using the commands: ' +
        `python3 -m venv ${path.join(virtualenvs.dir, 'needs_venv')} && ` +
        `${path.join(virtualenvs.dir, 'needs_venv', 'bin', 'pip')} install -r ${path.join(packsDir.dir, 'needs_venv', 'requirements.txt')}`,
    );
  });

  it("does not start that pack's Python sensor either, and says why in its status", async () => {
    const enabled = await api('PUT', '/api/v1/sensortypes/needs_venv.IdleSensor', { enabled: true });
    expect(enabled.status).toBe(200);
    const status = await waitFor(
      async () => {
        const s = (await api('GET', '/api/v1/sensortypes/needs_venv.IdleSensor/status')).body;
        return s.tail?.some((l: string) => l.includes('could not be started')) ? s : null;
      },
      'the sensor to be refused',
      20_000,
    );
    expect(status.pid ?? null).toBeNull();
    expect(status.tail.join('\n')).toContain(
      `could not be started: The virtual environment (${path.join(virtualenvs.dir, 'needs_venv')}) for pack "needs_venv" does not exist`,
    );
  });

  it('passes declared parameters that have no value as None', async () => {
    const e = await run('st2_runtime.optional_params');
    expect(e.result.stderr).toBe('');
    expect(e.status).toBe('succeeded');
    expect(e.result.result).toEqual({ cmd: null, hosts: null, count: 2 });
  });

  it("names the pack and the key when the action reads a config key the pack's config lacks", async () => {
    const e = await run('st2_runtime.missing_config');
    expect(e.status).toBe('failed');
    expect(e.result.stderr).toContain('ValueError: Config for pack "st2_runtime" is missing key "url"');
  });

  it('runs an eventlet monkey-patched sensor: it dispatches and keeps its datastore between polls', async () => {
    const second = await waitFor(
      async () => {
        const found = await svc.services.store.triggerInstances.find({ trigger: 'st2_runtime.green_event' });
        return found.find((i) => (i.payload as Json).polls === 2) ?? null;
      },
      'the second poll of the green sensor',
      30_000,
    );
    expect(second.payload).toEqual({ polls: 2, previous: '1', parsed: { x: 1 }, text: 'ok' });
  });
});
