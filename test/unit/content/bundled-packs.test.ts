import { once } from 'node:events';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUNDLED_PACKS_DIR,
  bundledPackDirs,
  loadPacks,
  validatePackDir,
} from '../../../src/content/index.js';

describe('bundled packs', () => {
  it.each(['core', 'chatops', 'linux', 'examples'])(
    'packs/%s validates with no problems at all',
    async (name) => {
      expect(await validatePackDir(join(BUNDLED_PACKS_DIR, name))).toEqual([]);
    },
  );

  it('load together and provide the st2 core actions and the examples scenarios', async () => {
    const r = await loadPacks(await bundledPackDirs());
    expect(r.problems).toEqual([]);
    const byRef = new Map(r.packs.flatMap((p) => p.actions).map((a) => [a.ref, a]));
    for (const ref of [
      'core.local',
      'core.local_sudo',
      'core.remote',
      'core.remote_sudo',
      'core.http',
      'core.echo',
      'core.noop',
      'core.error',
      'core.ask',
      'core.inject_trigger',
      'core.pause',
      'core.uuid',
      'core.sendmail',
    ]) {
      expect(byRef.has(ref), ref).toBe(true);
    }
    expect(byRef.get('core.local_sudo')!.merged_parameters.sudo).toMatchObject({
      default: true,
      immutable: true,
    });
    expect(byRef.get('chatops.post_message')!.runner_type).toBe('nodejs');
    const examples = r.packs.find((p) => p.ref === 'examples')!;
    const webhook = examples.rules.find((x) => x.name === 'sample_rule_with_webhook')!;
    expect(webhook).toMatchObject({
      enabled: true,
      trigger: { type: 'core.st2.webhook', parameters: { url: 'ineat' } },
      criteria: { 'trigger.body.name': { type: 'equals', pattern: 'test' } },
      action: { ref: 'core.local' },
    });
    expect(examples.rules.find((x) => x.name === 'sample_rule_with_cron')).toMatchObject({
      enabled: false,
      trigger: { type: 'core.st2.IntervalTimer', parameters: { unit: 'seconds', delta: 5 } },
    });
    expect(examples.aliases.find((a) => a.name === 'remote_shell_cmd')).toMatchObject({
      action_ref: 'core.remote',
      formats: ['run {{cmd}} on {{hosts=localhost}}'],
    });
    const wf = await readFile(
      join(BUNDLED_PACKS_DIR, 'examples/actions/workflows/orquesta-sequential.yaml'),
      'utf8',
    );
    expect(wf).toContain('    action: core.echo message=<% ctx().name %>\n');
    expect(wf).toContain('          - greeting: <% ctx("greeting") %>, <% result().stdout %>\n');
    expect(examples.sensors.map((s) => s.ref).sort()).toEqual([
      'examples.SamplePollingSensor',
      'examples.SampleSensor',
    ]);
  });
});

describe('core.sendmail speaks SMTP to the configured server', () => {
  it('delivers a message with the envelope and headers a mail server needs', async () => {
    const received: string[] = [];
    let data = '';
    const server = net.createServer((sock) => {
      sock.setEncoding('utf8');
      sock.write('220 test ESMTP\r\n');
      let inData = false;
      let buf = '';
      sock.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\r\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (inData) {
            if (line === '.') {
              inData = false;
              sock.write('250 2.0.0 queued as 42\r\n');
            } else data += line + '\n';
            continue;
          }
          received.push(line);
          if (line.startsWith('EHLO')) sock.write('250-test\r\n250 AUTH PLAIN\r\n');
          else if (line === 'DATA') {
            inData = true;
            sock.write('354 go ahead\r\n');
          } else if (line === 'QUIT') sock.end('221 bye\r\n');
          else if (line.startsWith('AUTH PLAIN')) sock.write('235 ok\r\n');
          else sock.write('250 ok\r\n');
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    try {
      const mod = (await import(join(BUNDLED_PACKS_DIR, 'core/actions/sendmail.mjs'))) as {
        default: (p: unknown, sdk: unknown) => Promise<Record<string, unknown>>;
      };
      const result = await mod.default(
        {
          to: 'ops@example.com, Boss <boss@example.com>',
          subject: 'Disk full',
          body: 'sda1 at 99%\n.hidden line',
          content_type: 'text/plain',
        },
        {
          config: {
            smtp_host: '127.0.0.1',
            smtp_port: port,
            from: 'squall@example.com',
            smtp_username: 'u',
            smtp_password: 'p',
          },
        },
      );
      expect(result).toMatchObject({ sent: true, response: '2.0.0 queued as 42' });
      expect(received).toContain('MAIL FROM:<squall@example.com>');
      expect(received).toContain('RCPT TO:<ops@example.com>');
      expect(received).toContain('RCPT TO:<boss@example.com>');
      expect(received).toContain(`AUTH PLAIN ${Buffer.from('\0u\0p').toString('base64')}`);
      expect(data).toContain('Subject: Disk full\n');
      expect(data).toContain('Content-Type: text/plain; charset=UTF-8\n');
      const b64 = data.split('\n\n')[1].replace(/\n/g, '');
      expect(Buffer.from(b64, 'base64').toString('utf8')).toBe('sda1 at 99%\n.hidden line');
    } finally {
      server.close();
    }
  });

  it('fails with a message naming the server when it cannot connect', async () => {
    const mod = (await import(join(BUNDLED_PACKS_DIR, 'core/actions/sendmail.mjs'))) as {
      default: (p: unknown, sdk: unknown) => Promise<unknown>;
    };
    await expect(
      mod.default(
        { to: 'a@b.c', subject: 's', body: 'b' },
        { config: { smtp_host: '127.0.0.1', smtp_port: 1 } },
      ),
    ).rejects.toThrow(/cannot connect to SMTP server 127\.0\.0\.1:1/);
  });
});

describe('linux.FileWatchSensor', () => {
  it('dispatches linux.file_watch.line for each line appended after the trigger is added', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'squall-watch-'));
    const file = join(dir, 'app.log');
    await writeFile(file, 'old line\n');
    const dispatched: Array<[string, Record<string, unknown>]> = [];
    let notify: () => void = () => undefined;
    const sensorService = {
      dispatch: (ref: string, payload: Record<string, unknown>) => {
        dispatched.push([ref, payload]);
        notify();
      },
    };
    const { default: FileWatchSensor } = (await import(
      join(BUNDLED_PACKS_DIR, 'linux/sensors/file_watch_sensor.mjs')
    )) as { default: new (s: unknown, c: unknown) => Record<string, (...a: unknown[]) => Promise<void>> };
    const sensor = new FileWatchSensor(sensorService, { file_watch_poll_ms: 50 });
    await sensor.setup();
    await sensor.run();
    await sensor.add_trigger({ id: 't1', type: 'linux.file_watch.line', parameters: { file_path: file } });
    const twoLines = new Promise<void>((res) => {
      notify = () => {
        if (dispatched.length >= 2) res();
      };
    });
    await appendFile(file, 'first\nsecond\n');
    await twoLines;
    await sensor.cleanup();
    expect(dispatched).toEqual([
      ['linux.file_watch.line', { file_path: file, file_name: 'app.log', line: 'first' }],
      ['linux.file_watch.line', { file_path: file, file_name: 'app.log', line: 'second' }],
    ]);
  });
});
