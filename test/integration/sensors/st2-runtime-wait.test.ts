import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestPack } from '../../support/packs.js';
import { tempDir } from '../../support/servers.js';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';

type Json = Record<string, any>;

/**
 * The st2 runtime site (the Python libraries st2 lends its packs) is installed by pip on a
 * machine's first Python sensor or action. On a newcomer's first `npm start` that took 12 s before
 * the server answered, and without network pip retries for minutes. Here pip's index accepts the
 * connection and never answers: the server must still come up, serve, and run its other sensors,
 * while the Python sensor says what it waits for.
 */
describe('a first start on a machine without the st2 runtime site', () => {
  const data = tempDir();
  const packs = tempDir();
  const runtime = tempDir();
  const held: Socket[] = [];
  let index: Server;
  let svc: ServiceProcess;

  const status = async (ref: string): Promise<Json> =>
    (await (await fetch(`${svc.url}/api/v1/sensortypes/${ref}/status`)).json()) as Json;

  beforeAll(async () => {
    index = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => index.listen(0, '127.0.0.1', resolve));
    const port = (index.address() as { port: number }).port;
    writeTestPack(packs.dir, 'firststart', {
      'sensors/idle.yaml':
        'class_name: IdleSensor\nentry_point: idle.py\ntrigger_types:\n  - name: idle_event\n',
      'sensors/idle.py':
        'from st2reactor.sensor.base import Sensor\n\n\nclass IdleSensor(Sensor):\n    def run(self):\n        pass\n',
      'sensors/tick.yaml':
        'class_name: TickSensor\nentry_point: tick.mjs\npoll_interval: 0.2\ntrigger_types:\n  - name: tick\n',
      'sensors/tick.mjs': [
        `import { PollingSensor } from ${JSON.stringify(path.resolve('src/sensors/sdk.mjs'))};`,
        'export default class TickSensor extends PollingSensor {',
        "  async poll() { await this.sensorService.dispatch('firststart.tick', {}); }",
        '}',
        '',
      ].join('\n'),
    });
    svc = await startServiceProcess(
      [],
      {
        SQUALL_DATA_DIR: data.dir,
        SQUALL_PACKS_PATHS: packs.dir,
        SQUALL_AUTH_ENABLE: 'false',
        SQUALL_CHATOPS_ENABLE: 'false',
        SQUALL_ST2_RUNTIME_DIR: runtime.dir,
        PIP_INDEX_URL: `http://127.0.0.1:${port}/simple/`,
        PIP_NO_CACHE_DIR: '1',
      },
      60_000,
    );
  }, 90_000);

  afterAll(async () => {
    await svc?.stop('SIGKILL');
    for (const s of held) s.destroy();
    await new Promise((resolve) => index?.close(resolve));
    for (const d of [data, packs, runtime]) d.cleanup();
  });

  it('serves, runs its other sensors, and shows the Python sensor waiting for the site', async () => {
    expect((await fetch(`${svc.url}/api/v1/health`)).status).toBe(200);
    // pip reached the index and is waiting for it: the install is really under way.
    await waitFor(() => held.length > 0 || null, 'pip to connect to its index');
    const idle = await waitFor(async () => {
      const s = await status('firststart.IdleSensor');
      return s.tail?.some((l: string) => l.includes('waits for the st2 runtime site')) ? s : null;
    }, 'the Python sensor to say it waits for the st2 runtime site');
    expect(idle.state).toBe('starting');
    expect(idle.pid).toBeNull();
    await waitFor(async () => {
      const res = await fetch(`${svc.url}/api/v1/triggerinstances?trigger=firststart.tick&limit=1`);
      const list = (await res.json()) as Json[];
      return list.length > 0 || null;
    }, 'the JS sensor to dispatch while pip still runs');
    expect((await status('firststart.TickSensor')).state).toBe('running');
  }, 60_000);

  it('SIGTERM while pip runs stops pip too and leaves no half-built site behind', async () => {
    const pips = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(runtime.dir);
          } catch {
            return false; // exited while we looked
          }
        });
    await waitFor(() => pips().length > 0 || null, 'pip to be installing into the runtime directory');
    const started = Date.now();
    const { code } = await svc.stop('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    // Before, pip went on running, orphaned, and its staging directory stayed.
    await waitFor(() => pips().length === 0 || null, 'pip to be gone', 3_000);
    expect(readdirSync(runtime.dir).filter((d) => d.includes('.staging-'))).toEqual([]);
  }, 60_000);
});
