import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { chatPackApi } from '../../support/chat-api.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The bundled chatops pack's actions st2's has (chatops.match, match_and_execute,
 * format_execution_result, run), run through the API as Exchange content calls them.
 */
for (const target of STORE_TARGETS) {
  describeWithServer(
    `the chatops pack's actions (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      const { api, botSaid, run, announced } = chatPackApi(
        path.join(here, 'fixtures', 'chatpack-packs'),
        target.kind === 'mongo',
        { workflows: true },
      );
      /** Runs `action`, expects it to succeed and returns what it returned (st2's result.result). */
      const returned = async (action: string, parameters: Record<string, unknown>) => {
        const done = await run(action, parameters);
        expect(done.status, JSON.stringify(done.result)).toBe('succeeded');
        return done.result.result;
      };
      const execution = async (id: string) => (await api().request('get', `/api/v1/executions/${id}`)).body;

      it('chatops.match returns the alias a text means and the representation it matched', async () => {
        expect(await returned('chatops.match', { text: 'say hi there' })).toEqual({
          alias: { name: 'say', pack: 'chatpacktest', action_ref: 'core.echo' },
          representation: 'say {{message}}',
        });

        const none = await run('chatops.match', { text: 'sing a song' });
        expect(none.status).toBe('failed');
        expect(none.result.error).toContain('sing a song');
      });

      it('chatops.match_and_execute runs the alias as the chat user and returns the finished execution', async () => {
        const id = await returned('chatops.match_and_execute', {
          text: 'say from the pack',
          source_channel: 'ops',
          user: 'chatty',
        });
        expect(typeof id).toBe('string');
        const echoed = await execution(id);
        expect(echoed).toMatchObject({
          status: 'succeeded',
          action: { ref: 'core.echo' },
          parameters: { message: 'from the pack' },
          context: { action_alias_ref: 'chatpacktest.say', api_user: 'chatty', source_channel: 'ops' },
        });
        expect(echoed.result.stdout).toBe('from the pack');
        // As st2's: the command's execution notifies no chat route; its caller (chatops.run) posts.
        expect(echoed.liveaction.notify).toBeUndefined();
        const viaApi = await api().request('post', '/api/v1/aliasexecution', {
          body: { name: 'chatpacktest.say', command: 'say notified', source_channel: 'ops' },
        });
        expect(viaApi.body.execution.liveaction.notify).toMatchObject({
          'on-complete': { routes: ['chat'] },
        });
      });

      it("chatops.format_execution_result returns st2's {enabled, message, extra}", async () => {
        const said = await returned('chatops.match_and_execute', { text: 'say formatted' });
        expect(await returned('chatops.format_execution_result', { execution_id: said })).toEqual({
          enabled: true,
          message: 'echoed: formatted',
          extra: { slack: { color: 'good' } },
        });

        const muted = await returned('chatops.match_and_execute', { text: 'mute quiet' });
        const off = await returned('chatops.format_execution_result', { execution_id: muted });
        expect(off.enabled).toBe(false);
        expect(off.extra).toBeUndefined();
        expect(off.message).toContain('quiet');

        // An action run without an alias gets st2's default template, as st2 prints it.
        const plain = await run('core.echo', { message: 'no alias' });
        const layout = await returned('chatops.format_execution_result', { execution_id: plain.id });
        expect(layout.message).toMatch(st2Layout(plain, 'stdout : no alias\n'));
      });

      /** st2's default message: header, web URL, time taken (when any), then the result's lines. */
      const st2Layout = (
        execution: { id: string; action: { ref: string }; status: string },
        result: string,
      ) =>
        new RegExp(
          `^\\nAction ${execution.action.ref.replace('.', '\\.')} completed\\.\\nstatus : ${execution.status}\\n` +
            `execution: ${execution.id}\\n\\nweb_url: http\\S+/#/history/${execution.id}/general\\n\\n` +
            `(Took \\S+ to complete\\.\\n)?\\nresult :\\n--------\\n${result.replace(/[()[\]]/g, '\\$&')}\\n$`,
        );

      it("chatops.format_execution_result of a failed command, a dict result and a workflow prints them as st2's template", async () => {
        const failed = await run('core.local', {
          cmd: 'echo partial; ls /no-such-dir-for-chat3 >&2; exit 3',
        });
        expect(failed.status).toBe('failed');
        const failedText = (await returned('chatops.format_execution_result', { execution_id: failed.id }))
          .message;
        expect(failedText).toMatch(
          st2Layout(
            failed,
            // As st2's local runner, Squall's result has return_code before stdout and stderr.
            "return_code : 3\nstdout : partial\nstderr : ls: cannot access '/no-such-dir-for-chat3': No such file or directory\n",
          ),
        );

        const noop = await run('core.noop', {});
        const noopText = (await returned('chatops.format_execution_result', { execution_id: noop.id }))
          .message;
        expect(noopText).toMatch(st2Layout(noop, 'failed : False\nsucceeded : True\nreturn_code : 0\n'));

        const flow = await run('examples.orquesta-sequential', { name: 'Ada' });
        expect(flow.status, JSON.stringify(flow.result)).toBe('succeeded');
        const flowText = (await returned('chatops.format_execution_result', { execution_id: flow.id }))
          .message;
        expect(flowText).toMatch(st2Layout(flow, `output : \n  greeting : ${flow.result.output.greeting}\n`));
      });

      it('chatops.run runs a chat command and posts its formatted result in the channel, as st2 action chain', async () => {
        const done = await run('chatops.run', {
          text: 'say ran by chatops.run',
          channel: 'ops',
          user: 'chatty',
        });
        expect(done.status, JSON.stringify(done.result)).toBe('succeeded');
        const published = done.result.published;
        // As in st2, a chain publishes rendered text: extra is the dict as Python prints it.
        expect(published).toMatchObject({
          message: 'echoed: ran by chatops.run',
          extra: "{'slack': {'color': 'good'}}",
        });
        expect(await execution(published.execution_id)).toMatchObject({
          status: 'succeeded',
          action: { ref: 'core.echo' },
          parameters: { message: 'ran by chatops.run' },
          context: { api_user: 'chatty', source_channel: 'ops' },
        });
        // st2's chain: one child execution per task, as `st2 execution get` lists them.
        const children = (await api().request('get', `/api/v1/executions?parent=${done.id}`)).body as Array<{
          action: { ref: string };
          status: string;
        }>;
        expect(children.map((c) => [c.action.ref, c.status]).sort()).toEqual([
          ['chatops.format_execution_result', 'succeeded'],
          ['chatops.match_and_execute', 'succeeded'],
          ['chatops.post_message', 'succeeded'],
        ]);
        expect(botSaid('ops').filter((t) => t.includes('ran by chatops.run'))).toEqual([
          '@chatty: echoed: ran by chatops.run',
        ]);
      });

      it("chatops.post_message to a channel no route names announces it on the stream, as st2's does", async () => {
        const events = await announced(async () => {
          const posted = await returned('chatops.post_message', {
            channel: 'stackstorm',
            message: 'Bandwidth Updated',
            context: { source: 'vadc' },
          });
          expect(posted).toMatchObject({ channel: 'stackstorm' });
        });
        expect(events).toEqual([
          {
            event: 'st2.announcement__chatops',
            data: {
              payload: {
                channel: 'stackstorm',
                user: null,
                whisper: false,
                message: 'Bandwidth Updated',
                context: { source: 'vadc' },
                extra: {},
              },
            },
          },
        ]);
        // A configured route still posts in its chat channel, with no announcement.
        const quiet = await announced(() =>
          returned('chatops.post_message', { channel: 'ops', message: 'to ops' }),
        );
        expect(quiet).toEqual([]);
        expect(botSaid('ops')).toContain('to ops');
      });

      it('chatops.run from a room Squall has no route for (cisco_spark) announces the formatted result', async () => {
        const events = await announced(() =>
          returned('chatops.run', { text: 'say from a spark room', channel: 'Y2lzY29zcGFyazovL3Vz' }),
        );
        expect(events).toEqual([
          {
            event: 'st2.announcement__chatops',
            data: {
              payload: {
                channel: 'Y2lzY29zcGFyazovL3Vz',
                user: null,
                whisper: false,
                message: 'echoed: from a spark room',
                context: {},
                extra: { slack: { color: 'good' } },
              },
            },
          },
        ]);
      });

      it("chatops.post_result to a bot's channel announces the result, and nothing when the alias turns it off", async () => {
        const said = await returned('chatops.match_and_execute', { text: 'say a result' });
        const muted = await returned('chatops.match_and_execute', { text: 'mute a result' });
        const events = await announced(async () => {
          await returned('chatops.post_result', {
            execution_id: said,
            channel: 'general',
            user: 'chatty',
            context: { room: 'general' },
          });
          await returned('chatops.post_result', { execution_id: muted, channel: 'general' });
        });
        expect(events).toEqual([
          {
            event: 'st2.announcement__chatops',
            data: {
              payload: {
                channel: 'general',
                user: 'chatty',
                whisper: false,
                message: 'echoed: a result',
                context: { room: 'general' },
                extra: { slack: { color: 'good' } },
              },
            },
          },
        ]);
      });
    },
  );
}
