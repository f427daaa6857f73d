import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { ShellEvent } from '../../../adapters/shell/index.js';
import { chatPackApi } from '../../support/chat-api.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { traceHolding } from '../../../src/traces/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

type Said = Extract<ShellEvent, { type: 'message' }>;

/**
 * The `announcement` runner with a chatops pack shaped as st2's own (contrib/chatops, whose
 * post_message is an announcement action), installed over Squall's bundled one.
 */
for (const target of STORE_TARGETS) {
  describeWithServer(
    `the announcement runner and st2's chatops.post_message (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      const { api, shell, botSaid, run, announced } = chatPackApi(
        path.join(here, 'fixtures', 'st2-chatops-packs'),
        target.kind === 'mongo',
        { workflows: true, rules: true },
      );

      it("replaces the bundled chatops pack, and st2's post_message is an announcement action", async () => {
        const action = (await api().request('get', '/api/v1/actions/chatops.post_message')).body;
        expect(action).toMatchObject({ runner_type: 'announcement' });
        // The bundled pack's Node actions are gone with it.
        expect((await api().request('get', '/api/v1/actions/chatops.run')).status).toBe(404);
        const runner = (await api().request('get', '/api/v1/runnertypes?name=announcement')).body;
        expect(runner[0]).toMatchObject({
          name: 'announcement',
          enabled: true,
          runner_parameters: { experimental: { type: 'boolean' }, route: { default: 'general' } },
        });
      });

      it('publishes the parameters on the stream as st2.announcement__chatops, and returns them', async () => {
        let done: { status: string; result: Record<string, unknown> } | undefined;
        const events = await announced(async () => {
          done = await run('chatops.post_message', {
            channel: 'C0BOT',
            message: 'Deployed web-1',
            user: 'alice',
            context: { room: 'C0BOT', user: { id: 'U1' } },
          });
        });
        const parameters = {
          channel: 'C0BOT',
          message: 'Deployed web-1',
          user: 'alice',
          whisper: false,
          context: { room: 'C0BOT', user: { id: 'U1' } },
        };
        expect(events).toEqual([
          {
            event: 'st2.announcement__chatops',
            data: { payload: parameters, trace_context: expect.anything() },
          },
        ]);
        expect(done).toMatchObject({ status: 'succeeded', result: { output: parameters, ...parameters } });
        expect(botSaid('C0BOT')).toEqual([]);
      });

      // st2's announcement runner dispatches with its execution's trace context.
      it("goes out in its execution's trace", async () => {
        let id = '';
        const events = await announced(async () => {
          const created = await api().request('post', '/api/v1/executions', {
            body: {
              action: 'chatops.post_message',
              parameters: { channel: 'C0BOT', message: 'traced' },
              trace_tag: 'release-7',
            },
          });
          expect(created.status, JSON.stringify(created.body)).toBe(201);
          id = created.body.id;
          await waitFor(
            async () => (await api().request('get', `/api/v1/executions/${id}`)).body.status === 'succeeded',
            `execution ${id} to succeed`,
          );
        });
        // (This service has no traces API: the trace is read as the API reads it.)
        const trace = await traceHolding(api().services, 'action_executions', id);
        expect(trace).toMatchObject({ trace_tag: 'release-7' });
        expect(events).toEqual([
          {
            event: 'st2.announcement__chatops',
            data: expect.objectContaining({ trace_context: { trace_id: trace!.id, trace_tag: 'release-7' } }),
          },
        ]);
      });

      it('publishes on the route the execution asks for', async () => {
        const events = await announced(() =>
          run('chatops.post_message', { channel: 'general', message: 'to errbot', route: 'errbot' }),
        );
        expect(events.map((e) => e.event)).toEqual(['st2.announcement__errbot']);
      });

      it('posts in the chat channel of a route the channel names, as a mention or a whisper', async () => {
        const events = await announced(async () => {
          expect(
            await run('chatops.post_message', { channel: 'ops', message: 'web-1 is up', user: 'alice' }),
          ).toMatchObject({ status: 'succeeded' });
          expect(
            await run('chatops.post_message', {
              channel: 'ops',
              message: 'only for you',
              user: 'alice',
              whisper: true,
            }),
          ).toMatchObject({ status: 'succeeded' });
        });
        expect(events).toEqual([]);
        expect(botSaid('ops')).toContain('@alice: web-1 is up');
        const whisper = shell()
          .transcript('ops')
          .find((e): e is Said => e.type === 'message' && e.text === 'only for you');
        expect(whisper).toMatchObject({ whisperTo: 'alice' });
      });

      it('posts a long message as a file, and a long whisper in several whispers, never a file', async () => {
        const long = Array.from({ length: 120 }, (_, i) => `line ${i} of a long result`).join('\n');
        expect(long.length).toBeGreaterThan(2000);
        await run('chatops.post_message', { channel: 'ops', message: `public ${long}` });
        const uploads = () =>
          shell()
            .transcript('ops')
            .filter((e) => e.type === 'upload');
        expect(uploads().map((u) => (u.type === 'upload' ? u.content : ''))).toEqual([`public ${long}`]);

        await run('chatops.post_message', {
          channel: 'ops',
          message: `secret ${long}`,
          user: 'bob',
          whisper: true,
        });
        expect(uploads()).toHaveLength(1);
        const whispers = shell()
          .transcript('ops')
          .filter((e): e is Said => e.type === 'message' && e.whisperTo === 'bob');
        expect(whispers.length).toBeGreaterThan(1);
        expect(whispers.map((w) => w.text).join('')).toBe(`secret ${long}`);
      });

      it('posts from a workflow task, as st2 post_result does', async () => {
        const done = await run('chatops.tell_ops', { channel: 'ops', note: 'from a workflow' });
        expect(done.status, JSON.stringify(done.result)).toBe('succeeded');
        expect(done.result.output).toEqual({ posted: 'note: from a workflow' });
        expect(botSaid('ops')).toContain('note: from a workflow');
      });

      // hubot-stackstorm's command: an alias execution on the API with the hubot route. st2's
      // chatops.notify rule (this pack's rules/notify_hubot.yaml) posts its result; Squall's own
      // announcement of the route then put it in the room a second time.
      it("leaves a hubot route's result to st2's chatops.notify rule when that pack is installed: announced once", async () => {
        const events = await announced(async () => {
          const res = await api().request('post', '/api/v1/aliasexecution', {
            body: {
              name: 'chatops.ping',
              format: 'ping {{message}}',
              command: 'ping from hubot',
              user: 'alice',
              source_channel: 'C0HUBOT',
              notification_route: 'hubot',
            },
          });
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          await waitFor(
            async () =>
              (await api().request('get', '/api/v1/executions?action=chatops.post_result')).body.find(
                (e: { status: string }) => e.status === 'succeeded',
              ),
            'the rule posted the result',
            20_000,
          );
          // Room for an announcement of the route that would come after the rule's.
          await new Promise((r) => setTimeout(r, 1500));
        });
        const toRoom = events.filter(
          (e) => (e.data as { payload?: { channel?: string } }).payload?.channel === 'C0HUBOT',
        );
        expect(toRoom.map((e) => (e.data as { payload: { message: string } }).payload.message)).toEqual([
          expect.stringMatching(/^posted by the rule: /),
        ]);
      }, 40_000);

      it('refuses an action without the experimental flag, and an immutable flag cannot be turned off', async () => {
        const events = await announced(async () => {
          const refused = await run('chatops.unflagged', { note: 'hello' });
          expect(refused.status).toBe('failed');
          expect(refused.result.error).toContain('Experimental flag is missing for action chatops.unflagged');
        });
        expect(events).toEqual([]);
        const overridden = await api().request('post', '/api/v1/executions', {
          body: {
            action: 'chatops.post_message',
            parameters: { channel: 'x', message: 'y', experimental: false },
          },
        });
        expect(overridden.status).toBe(400);
        expect(JSON.stringify(overridden.body)).toContain('experimental');
      });

      it('refuses a route that cannot name a stream event', async () => {
        const bad = await api().request('post', '/api/v1/executions', {
          body: { action: 'chatops.post_message', parameters: { channel: 'x', message: 'y', route: '' } },
        });
        // The runner's own limits (1..255 characters) are checked when the execution is asked for.
        expect(bad.status).toBe(400);
        expect(bad.body.faultstring).toContain('route');
        const spaced = await run('chatops.post_message', { channel: 'x', message: 'y', route: 'two words' });
        expect(spaced.status).toBe('failed');
        expect(spaced.result.error).toContain('runner parameter "route"');
      });
    },
  );
}
