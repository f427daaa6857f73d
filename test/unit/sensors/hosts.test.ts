import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  sensorJsHostPath,
  sensorPythonShimDirs,
  sensorPythonWrapperPath,
} from '../../../src/sensors/index.js';
import { tempDir } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';

type Msg = Record<string, any>;
const dirs: Array<{ cleanup: () => void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

/** A datastore and dispatch log standing in for the sensor host. */
function fakeParent() {
  const kv = new Map<string, string>();
  const calls: Msg[] = [];
  const answer = (m: Msg): unknown => {
    calls.push(m);
    const key = `${m.args.local ? 'L:' : ''}${m.args.name}`;
    if (m.method === 'get_value') return kv.get(key) ?? null;
    if (m.method === 'set_value') return kv.set(key, m.args.value) && true;
    if (m.method === 'dispatch') return { id: `ti-${calls.length}` };
    throw new Error(`unexpected ${m.method}`);
  };
  return { kv, calls, answer };
}

describe('Python sensor shim (st2reactor.sensor.base)', () => {
  it('runs an st2 PollingSensor: poll_interval from the host, dispatch with a {pack, name} trigger, local datastore, cleanup on stop', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const entry = path.join(dir.dir, 'poller.py');
    writeFileSync(
      entry,
      [
        'from st2reactor.sensor.base import PollingSensor',
        '',
        'class Poller(PollingSensor):',
        '    def setup(self):',
        '        self.seen = []',
        '    def add_trigger(self, trigger):',
        '        self.seen.append(trigger["parameters"]["tag"])',
        '    def poll(self):',
        '        n = int(self.sensor_service.get_value("n") or 0) + 1',
        '        self.sensor_service.set_value("n", n)',
        '        self.sensor_service.dispatch({"pack": "p", "name": "tick"}, {"n": n, "seen": self.seen, "every": self.get_poll_interval()}, trace_tag="t%d" % n)',
        '    def cleanup(self):',
        '        print("cleaned up")',
        '',
      ].join('\n'),
    );
    const child = spawn('python3', ['-u', sensorPythonWrapperPath()], {
      env: { ...process.env, PYTHONPATH: sensorPythonShimDirs().join(path.delimiter) },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += String(d)));
    const channel = child.stdio[3] as Readable & Writable;
    const parent = fakeParent();
    createInterface({ input: channel }).on('line', (line) => {
      const m = JSON.parse(line) as Msg;
      if (m.type === 'rpc')
        channel.write(`${JSON.stringify({ type: 'rpc-result', id: m.id, result: parent.answer(m) })}\n`);
    });
    child.stdin!.end(
      JSON.stringify({
        entry_point: entry,
        class_name: 'Poller',
        ref: 'p.Poller',
        poll_interval: 0.05,
        triggers: [{ ref: 'p.x', type: 'p.tick', parameters: { tag: 'blue' } }],
      }),
    );
    await waitFor(() => parent.calls.filter((c) => c.method === 'dispatch').length >= 2, 'two polls');
    const dispatches = parent.calls.filter((c) => c.method === 'dispatch');
    expect(dispatches[0].args).toEqual({
      trigger: 'p.tick',
      payload: { n: 1, seen: ['blue'], every: 0.05 },
      trace_tag: 't1',
    });
    expect(dispatches[1].args.payload.n).toBe(2);
    // set_value stringifies like st2 and keys are local to the sensor unless local=False
    expect(parent.kv.get('L:n')).toMatch(/^\d+$/);
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    channel.write(`${JSON.stringify({ type: 'stop' })}\n`);
    expect(await exit).toBe(0);
    expect(stdout).toContain('cleaned up');
  });
});

describe('JS sensor host', () => {
  it('runs a duck-typed polling sensor, delivers add_trigger, stops it with cleanup', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const entry = path.join(dir.dir, 'poller.mjs');
    writeFileSync(
      entry,
      `export default class Poller {
        constructor(sensorService, config) { this.s = sensorService; this.config = config; this.tags = []; }
        async add_trigger(t) { this.tags.push(t.parameters.tag); }
        async poll() { await this.s.dispatch({ pack: 'p', name: 'tick' }, { tags: this.tags, region: this.config.region }); }
        async cleanup() { process.stdout.write('cleaned up\\n'); }
      }`,
    );
    const child = spawn(process.execPath, [sensorJsHostPath()], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += String(d)));
    const parent = fakeParent();
    const channel = child.stdio[3] as Readable & Writable;
    const send = (m: Msg): boolean => channel.write(`${JSON.stringify(m)}\n`);
    createInterface({ input: channel }).on('line', (line) => {
      const m = JSON.parse(line) as Msg;
      if (m.type === 'rpc') send({ type: 'rpc-result', id: m.id, result: parent.answer(m) });
    });
    send({
      type: 'start',
      entry,
      className: 'Poller',
      ref: 'p.Poller',
      pack: 'p',
      config: { region: 'eu' },
      pollInterval: 0.05,
      triggers: [],
    });
    await waitFor(() => parent.calls.length >= 1, 'a first poll');
    send({ type: 'add_trigger', trigger: { ref: 'p.x', parameters: { tag: 'green' } } });
    const withTag = await waitFor(
      () => parent.calls.find((c) => c.args.payload.tags.includes('green')),
      'a poll after add_trigger',
    );
    expect(withTag.args).toMatchObject({ trigger: 'p.tick', payload: { region: 'eu' } });
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    send({ type: 'stop' });
    expect(await exit).toBe(0);
    expect(stdout).toContain('cleaned up');
  });
});
