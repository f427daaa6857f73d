import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { URL } from 'node:url';
import type { St2Client, St2EventSource, default as St2ClientFactory } from 'st2client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';

/**
 * st2chatops (Hubot + hubot-stackstorm) against `squall start`: the calls below are the ones
 * hubot-stackstorm (6cfc93b) makes through the real npm st2client 1.2.6, with its options:
 * log in at ST2_AUTH_URL, list the aliases, listen on the stream that st2client derives from
 * ST2_API_URL alone (/api/v1/stream), run a matched command with POST /aliasexecution and route
 * `hubot`, and post what arrives as `st2.announcement__chatops`.
 */

const PASSWORD = 'st2chatops-test-password';

const ALIAS_WITH_EXTRA = `---
name: say
pack: hubottest
description: Echo words back.
action_ref: core.echo
formats:
  - 'say {{message}}'
ack:
  enabled: false
result:
  format: 'said {{ execution.result.stdout }}'
  extra:
    slack:
      color: "{% if execution.status == 'succeeded' %}good{% else %}danger{% endif %}"
      fields: [{ title: words, value: '{{ execution.parameters.message }}' }]
`;

/** The payload of `st2.announcement__chatops`, which hubot-stackstorm hands to its chat adapter. */
type Announcement = Record<'channel' | 'user' | 'message', string> & { whisper: boolean } & Record<
    'context' | 'extra',
    Record<string, unknown>
  >;

const require = createRequire(import.meta.url);

/**
 * st2client keeps one stream per process (a bot talks to one server), so each server under test
 * gets its own copy of the library.
 */
function freshSt2client(): typeof St2ClientFactory {
  for (const file of Object.keys(require.cache))
    if (file.includes(`${path.sep}node_modules${path.sep}st2client${path.sep}`)) delete require.cache[file];
  return require('st2client') as typeof St2ClientFactory;
}

/** What hubot-stackstorm's parseUrl makes of an URL, as st2client options. */
function endpoint(url: string) {
  const u = new URL(url);
  return { protocol: u.protocol.slice(0, -1), host: u.hostname, port: Number(u.port), prefix: u.pathname };
}

for (const target of STORE_TARGETS) {
  describeWithServer(
    `st2chatops (hubot-stackstorm's st2client calls) against squall start (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let svc: ServiceProcess;
      let cleanup: () => void;
      let api: St2Client;
      let stream: St2EventSource;
      const announced: Announcement[] = [];

      /** The bot's side of `!<command>`: the alias hubot matched, run as hubot-stackstorm does. */
      const execute = (name: string, format: string, command: string) =>
        api.aliasExecution.create({
          name,
          format,
          command,
          user: 'alice',
          source_channel: 'C0OPS',
          source_context: { user: { id: 'U1', name: 'alice' }, room: 'C0OPS', id: 'm1' },
          notification_route: 'hubot',
        });

      beforeAll(async () => {
        const temp = tempDir('squall-st2chatops-');
        cleanup = temp.cleanup;
        // An alias with st2's result.extra (what hubot-stackstorm's Slack adapter reads).
        const pack = path.join(temp.dir, 'packs', 'hubottest');
        mkdirSync(path.join(pack, 'aliases'), { recursive: true });
        writeFileSync(
          path.join(pack, 'pack.yaml'),
          'ref: hubottest\nname: hubottest\ndescription: st2chatops test.\nversion: 0.1.0\nauthor: t\nemail: t@t.t\n',
        );
        writeFileSync(path.join(pack, 'aliases', 'say.yaml'), ALIAS_WITH_EXTRA);
        svc = await startServiceProcess(
          ['--data-dir', path.join(temp.dir, 'data')],
          {
            SQUALL_AUTH_ADMIN_PASSWORD: PASSWORD,
            SQUALL_PACKS_PATHS: path.join(temp.dir, 'packs'),
            ...(target.kind === 'mongo' ? { SQUALL_MONGO_URL: freshMongoUrl() } : {}),
          },
          60_000,
        );
        // ST2_API_URL=<squall>, ST2_AUTH_URL=<squall>/auth/v1, ST2_AUTH_USERNAME/PASSWORD.
        const st2client = freshSt2client();
        api = st2client({ ...endpoint(svc.url), rejectUnauthorized: false });
        const auth = st2client({ auth: endpoint(`${svc.url}/auth/v1`) });
        const token = await auth.authenticate('st2admin', PASSWORD);
        auth.close();
        api.setToken(token);
        stream = await api.stream.listen();
        stream.addEventListener('st2.announcement__chatops', (e) => {
          announced.push((JSON.parse(e.data) as { payload: Announcement }).payload);
        });
        await waitFor(() => stream.readyState === 1, 'the bot to connect to /api/v1/stream', 30_000);
      }, 120_000);

      afterAll(async () => {
        stream?.close();
        await svc?.stop();
        cleanup?.();
      });

      it('loads the aliases at start as hubot-stackstorm does (limit -1), with their formats', async () => {
        const aliases = (await api.actionAlias.list({ limit: -1 })) as Array<{
          name: string;
          enabled: boolean;
          formats: unknown[];
        }>;
        const sh = aliases.find((a) => a.name === 'local_shell_cmd');
        expect(sh).toMatchObject({ enabled: true, formats: ['sh {{cmd}}'] });
      });

      it('runs a command with a parameter, acks it, and announces the result to the channel', async () => {
        const res = (await execute('local_shell_cmd', 'sh {{cmd}}', 'sh echo hello-from-hubot')) as {
          execution: { id: string; web_url: string; parameters: Record<string, unknown> };
          message: string;
        };
        expect(res.execution.parameters).toEqual({ cmd: 'echo hello-from-hubot' });
        // Hubot posts message + " (details available at <web_url>)": the link must not be there twice.
        expect(res.message).toBe('Running `echo hello-from-hubot` here');
        expect(res.execution.web_url).toContain(res.execution.id);
        const post = await waitFor(
          () => announced.find((a) => a.message.includes('hello-from-hubot')),
          'the result announcement',
          30_000,
        );
        // The alias's result.format, with hubot's {~} pretext delimiter left for the bot to split.
        expect(post).toEqual({
          channel: 'C0OPS',
          user: 'alice',
          whisper: false,
          message: 'exit 0{~}```\nhello-from-hubot\n```',
          context: { user: { id: 'U1', name: 'alice' }, room: 'C0OPS', id: 'm1' },
          extra: {},
        });
      });

      it('announces a failed execution with its status and error output', async () => {
        await execute('local_shell_cmd', 'sh {{cmd}}', 'sh ls /no-such-dir-for-hubot');
        const post = await waitFor(
          () => announced.find((a) => a.message.includes('no-such-dir-for-hubot')),
          'the failure announcement',
          30_000,
        );
        expect(post.message).toMatch(/^failed \(exit 2\)\{~\}/);
        expect(post.message).toContain('No such file or directory');
      });

      it("renders the alias's result.extra into the announcement's extra", async () => {
        const res = (await execute('say', 'say {{message}}', 'say hello extra')) as { message?: string };
        // ack.enabled false: hubot-stackstorm posts no ack.
        expect(res).toMatchObject({ actionalias: { ack: { enabled: false } } });
        const post = await waitFor(
          () => announced.find((a) => a.message === 'said hello extra'),
          'the announcement with extra',
          30_000,
        );
        expect(post.extra).toEqual({
          slack: { color: 'good', fields: [{ title: 'words', value: 'hello extra' }] },
        });
      });

      it("answers a Squall built-in (!pack list) in the ack's message, with no link and no announcement", async () => {
        const before = announced.length;
        const res = (await execute('pack_list', 'pack list', 'pack list')) as {
          message: string;
          actionalias: { ack: { append_url: boolean } };
        };
        expect(res.message).toContain('hubottest');
        expect(res.message).toContain('chatops');
        expect(res.actionalias.ack.append_url).toBe(false);
        // !link's one-time token must not go to a channel through another client.
        const link = (await execute('link', 'link', 'link')) as { message: string };
        expect(link.message).toMatch(/linking works only from a chat conversation/);
        // What did arrive meanwhile is the earlier tests' results only.
        await execute('local_shell_cmd', 'sh {{cmd}}', 'sh echo after-builtins');
        await waitFor(
          () => announced.find((a) => a.message.includes('after-builtins')),
          'the next result',
          30_000,
        );
        expect(announced.slice(before).map((a) => a.message)).toEqual([
          expect.stringContaining('after-builtins'),
        ]);
      });

      it('refuses an alias that does not exist with the APIError hubot-stackstorm reports', async () => {
        const err = (await execute('no_such_alias', 'frobnicate', 'frobnicate now').then(
          () => null,
          (e: unknown) => e,
        )) as { name: string; status: number; message: string } | null;
        expect(err).toMatchObject({ name: 'APIError', status: 404 });
        expect(err!.message).toContain('no_such_alias');
      });
    },
  );
}
