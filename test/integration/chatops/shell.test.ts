import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShellAdapter, type ShellEvent } from '../../../adapters/shell/index.js';
import { chatopsSubsystem } from '../../../src/chatops/index.js';
import { notifierSubsystem } from '../../../src/notifier/index.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { PermissionError } from '../../../src/errors.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import type { Subsystem } from '../../../src/service/index.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, itWithServer } from '../../support/servers.js';
import { SSHD_PATH, startSshd, sshdAvailable, type TestSshd } from '../../support/sshd.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { saveTranscript } from '../../support/transcripts.js';
import { waitFor } from '../../support/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE_PACKS = path.join(here, 'fixtures', 'packs');

/** Stands in for the auth engineer's RBAC: denies everything to "mallory". */
function fakeRbacSubsystem(): Subsystem {
  return {
    name: 'fake-rbac',
    init(services) {
      services.rbac = {
        assertCan(user, permission) {
          if (user.name === 'mallory')
            throw new PermissionError(
              `User "${user.name}" doesn't have required permission "${permission}"`,
              {
                permission,
              },
            );
        },
      };
    },
  };
}

const alice = { id: 'U1', name: 'alice' };
const eve = { id: 'U666', name: 'eve' };

type Bot = Extract<ShellEvent, { type: 'message' }>;

for (const target of STORE_TARGETS) {
  describeWithServer(
    `chat over the shell adapter (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let svc: Awaited<ReturnType<typeof startTestService>>;
      let shell: ShellAdapter;
      let sshd: TestSshd | undefined;
      let receiver: http.Server;
      const received: Array<Record<string, unknown>> = [];

      const botSaid = (channel: string, thread?: string) =>
        shell
          .transcript(channel)
          .filter(
            (e): e is Bot =>
              e.type === 'message' && e.from === 'squall' && (thread === undefined || e.thread === thread),
          );

      const postJson = (route: string, body: unknown) =>
        fetch(`${svc.url}${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });

      /** The card in `thread` as it reads now (its post, with the latest edit applied). */
      const cardIn = (channel: string, thread: string) => {
        const post = botSaid(channel, thread).find((m) => m.card);
        if (!post) return undefined;
        const edits = shell
          .transcript(channel)
          .filter(
            (e): e is Extract<ShellEvent, { type: 'update' }> => e.type === 'update' && e.id === post.id,
          );
        const last = edits.at(-1) ?? post;
        return { id: post.id, card: last.card!, text: last.text, first: post.card! };
      };
      const finalCard = (channel: string, thread: string, what: string) =>
        waitFor(
          () => {
            const c = cardIn(channel, thread);
            return c && c.card.emoji !== '⏳' ? c : undefined;
          },
          what,
          30_000,
        );

      beforeAll(async () => {
        receiver = http.createServer((req, res) => {
          let body = '';
          req.on('data', (c: Buffer) => (body += c.toString()));
          req.on('end', () => {
            received.push({ path: req.url, headers: req.headers, body: JSON.parse(body) as unknown });
            res.writeHead(204).end();
          });
        });
        await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
        const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
        if (sshdAvailable) sshd = await startSshd();
        shell = new ShellAdapter();
        const executions = executionsSubsystem();
        const chatops = chatopsSubsystem(() => executions.service(), { adapters: [shell] });
        svc = await startTestService({
          subsystems: [
            testSecretsSubsystem(),
            fakeRbacSubsystem(),
            // As squall start wires it: an alias changed through the API is re-read before the answer.
            contentSubsystem({ aliasChanged: () => chatops.pipeline().reloadAliases() }),
            executions,
            chatops,
            notifierSubsystem(
              () => executions.service(),
              () => chatops.notifier(),
            ),
          ],
          mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
          config: {
            'auth.enable': false,
            'packs.paths': [FIXTURE_PACKS],
            'chatops.users': { 'shell:U1': 'alice', 'shell:U666': 'mallory' },
            'chatops.routes': {
              ops: [
                { adapter: 'shell', channel: 'ops' },
                { webhook: hookUrl, headers: { 'x-squall-test': 'yes' } },
              ],
            },
          },
        });
      }, 60_000);
      afterAll(async () => {
        await svc?.cleanup();
        await sshd?.stop();
        await new Promise((r) => receiver?.close(r));
      });

      itWithServer(
        'runs the examples pack "run {{cmd}} on {{hosts=localhost}}" alias: ack, then the per-host result in the same thread',
        `${SSHD_PATH} (openssh-server)`,
        sshdAvailable,
        async () => {
          const hosts = `127.0.0.1:${sshd!.port}`;
          // The run lasts a second: one that ends within 300 ms has its card posted final, and
          // then the ack note (what this checks) is never shown.
          const messageId = await shell.say(
            alice,
            `!run "sleep 1; echo chat-ok" on ${hosts} username=${sshd!.username} private_key=${sshd!.privateKeyPath}`,
            { channel: 'dev' },
          );
          // The ack is the card: the alias's ack.format is its note while it runs.
          const ack = cardIn('dev', messageId)!;
          expect(ack.first.note).toContain(`Running \`sleep 1; echo chat-ok\` on ${hosts}`);
          expect(ack.first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#\/history\/[0-9a-f]{24}\/general$/);
          const result = await finalCard('dev', messageId, 'the result on the card');
          expect(result.card.emoji).toBe('✅');
          expect(result.card.note).toContain(`*${hosts}* (exit 0)`);
          expect(result.text).toContain('chat-ok');
          expect(botSaid('dev', messageId)).toHaveLength(1);
          const id = result.card.executionId;
          const execution = (await svc.services.store.executions.get(id))!;
          expect(execution.context).toMatchObject({
            api_user: 'alice',
            user: 'alice',
            source_channel: 'dev',
            action_alias_ref: 'examples.remote_shell_cmd',
            chat: { adapter: 'shell', channel: 'dev', thread: messageId },
          });
        },
        40_000,
      );

      it('posts a custom result.format in the thread of a command typed inside a thread', async () => {
        await shell.say(alice, '!hello bob', { channel: 'dev', thread: 'T-42' });
        const said = await finalCard('dev', 'T-42', 'the hello result');
        expect(said.card).toMatchObject({ action: 'chattest.hello', note: 'said: hello bob' });
        expect(botSaid('dev', 'T-42')).toHaveLength(1);
      });

      it('answers an alias created through the API at once, and forgets it once deleted', async () => {
        const made = await postJson('/api/v1/actionalias', {
          name: 'greet',
          pack: 'chattest',
          action_ref: 'chattest.hello',
          formats: ['greet {{who}}'],
          result: { format: 'greeted: {{ execution.result.stdout }}' },
        });
        expect(made.status).toBe(201);
        const id = await shell.say(alice, '!greet carol', { channel: 'dev' });
        const said = await finalCard('dev', id, 'the greet result');
        expect(said.card).toMatchObject({ action: 'chattest.hello', note: 'greeted: hello carol' });
        const gone = await fetch(`${svc.url}/api/v1/actionalias/chattest.greet`, { method: 'DELETE' });
        expect(gone.status).toBe(204);
        const again = await shell.say(alice, '!greet carol', { channel: 'dev' });
        expect(botSaid('dev', again)[0].text).toContain(`I don't know "greet carol"`);
      });

      it("names the action once when the action refuses the request: 'core.local did not start: 'cmd' is a required property'", async () => {
        // A missing parameter, and one the action's schema refuses (PARAM_REQUIRED, PARAM_INVALID).
        const cases = [
          ['bare_local', 'core.local', 'bare local', '!bare local', "'cmd' is a required property"],
          [
            'fetch_method',
            'core.http',
            'fetch {{url}} by {{method}}',
            '!fetch http://127.0.0.1:9/ by FETCH',
            'Parameter "method": value is not one of',
          ],
        ];
        for (const [name, ref, format, said, reason] of cases) {
          const made = await postJson('/api/v1/actionalias', {
            name,
            pack: 'chattest',
            action_ref: ref,
            formats: [format],
          });
          expect(made.status).toBe(201);
          const reply = botSaid('dev', await shell.say(alice, said, { channel: 'dev' }))[0];
          expect(reply.text).toContain(`${ref} did not start: ${reason}`);
          expect(reply.text).not.toContain(`${ref}: `);
          expect(reply.whisperTo).toBe(alice.id);
          const gone = await fetch(`${svc.url}/api/v1/actionalias/chattest.${name}`, { method: 'DELETE' });
          expect(gone.status).toBe(204);
        }
      });

      it('answers an unknown command with the closest aliases and the help hint', async () => {
        const id = await shell.say(alice, '!helo bob', { channel: 'dev' });
        const reply = botSaid('dev', id)[0];
        expect(reply.text).toContain(`I don't know "helo bob"`);
        expect(reply.text).toContain('!hello <who>');
        expect(reply.text).toContain('!help');
        // Only the asker sees it.
        expect(reply.whisperTo).toBe(alice.id);
      });

      it('answers a command that leaves out its parameters with the usage, privately', async () => {
        const id = await shell.say(alice, '!hello', { channel: 'dev' });
        const reply = botSaid('dev', id)[0];
        expect(reply.text).toContain('"hello" is missing something. Usage:\n  !hello <who>');
        expect(reply.text).not.toContain("I don't know");
        expect(reply.whisperTo).toBe(alice.id);
      });

      it("keeps quotes inside a value: !sh echo 'a b' runs echo 'a b'", async () => {
        const id = await shell.say(alice, "!sh echo 'a  b'", { channel: 'dev' });
        const result = await finalCard('dev', id, 'the result');
        expect(result.card.note).toMatch(/^exit 0/);
        // The shell got both quotes, so the two spaces survive.
        expect(result.text).toContain('a  b');
      });

      it('answers every mistake privately, saying what to do (transcript)', async () => {
        const said: string[] = [];
        for (const [who, text] of [
          [alice, '!helo bob'],
          [alice, '!hello'],
          [alice, '!restart web1'],
          [eve, '!hello world'],
          [alice, '!repeat hello to bob many times'],
        ] as const)
          said.push(await shell.say(who, text, { channel: 'mistakes' }));
        const events = shell.transcript('mistakes');
        // Four replies and, for the ambiguous one, a question with a button per candidate.
        const answers = events.filter(
          (e) => (e.type === 'message' && e.from === 'squall') || e.type === 'ask',
        );
        expect(answers.map((e) => e.type)).toEqual(['message', 'message', 'ask', 'message', 'message']);
        for (const e of answers) expect(e.type !== 'upload' && 'whisperTo' in e && e.whisperTo).toBeTruthy();
        // A bad parameter says which and how to say it.
        const last = answers.at(-1)!;
        expect(last.type === 'message' ? last.text : '').toMatch(
          /I couldn't use those parameters: Parameter "times" must be an integer[\s\S]*Usage: !repeat hello to <who> <times> times/,
        );
        if (target.kind === 'embedded')
          saveTranscript(
            'private-errors',
            'no match, missing parameters, ambiguous, not permitted, a bad parameter: each answered only to the asker',
            events.map((e) =>
              e.type === 'message'
                ? { from: e.from, to: e.whisperTo ?? 'channel', text: e.text }
                : e.type === 'ask'
                  ? {
                      from: 'squall',
                      to: e.whisperTo ?? 'channel',
                      text: e.question,
                      buttons: e.choices.map((c) => c.label),
                    }
                  : e,
            ),
          );
      });

      it('offers the candidates of an ambiguous command as buttons to the asker; her press runs that alias', async () => {
        const id = await shell.say(alice, '!restart web1', { channel: 'dev' });
        expect(botSaid('dev', id)).toEqual([]);
        const asked = shell
          .transcript('dev')
          .filter((e): e is Extract<ShellEvent, { type: 'ask' }> => e.type === 'ask' && e.thread === id);
        expect(asked).toHaveLength(1);
        expect(asked[0].question).toContain('matches more than one command');
        expect(asked[0].whisperTo).toBe(alice.id);
        expect(asked[0].choices.map((c) => c.label)).toEqual(['!restart <host>', '!restart <service>']);

        // Someone else's press is refused privately and runs nothing.
        const before = await svc.services.store.executions.count({ 'action.ref': 'chattest.restart' });
        await shell.press(eve, asked[0].id, 2);
        expect(botSaid('dev', id).map((m) => [m.whisperTo, m.text])).toEqual([
          [eve.id, 'Only alice can choose here; say the command yourself to run it.'],
        ]);
        expect(await svc.services.store.executions.count({ 'action.ref': 'chattest.restart' })).toBe(before);

        await shell.press(alice, asked[0].id, 2);
        const runs = await svc.services.store.executions.find({ 'action.ref': 'chattest.restart' });
        expect(runs).toHaveLength(before + 1);
        const run = runs.find((r) => r.context?.action_alias_ref === 'chattest.restart_service')!;
        expect(run.parameters).toEqual({ service: 'web1' });
        expect(run.context?.user).toBe('alice');
      });

      it('asks the presser before Cancel and Re-run count: backing out does nothing, confirming does it once', async () => {
        const id = await shell.say(alice, '!sh sleep 30', { channel: 'dev' });
        const running = await waitFor(
          () => {
            const c = cardIn('dev', id);
            return c?.card.buttons?.choices.some((b) => b.value === 'cancel') ? c : undefined;
          },
          'a Cancel button on the card',
          30_000,
        );
        const executionId = running.card.executionId;
        const cancelAt = running.card.buttons!.choices.findIndex((b) => b.value === 'cancel') + 1;
        const confirmations = () =>
          shell
            .transcript('dev')
            .filter(
              (e): e is Extract<ShellEvent, { type: 'ask' }> =>
                e.type === 'ask' && e.thread === id && e.whisperTo !== undefined,
            );

        await shell.press(alice, running.id, cancelAt);
        expect(confirmations()).toHaveLength(1);
        const [asked] = confirmations();
        expect(asked.whisperTo).toBe(alice.id);
        expect(asked.question).toBe(`Cancel this run? Cancel execution ${executionId} of core.local?`);
        expect(asked.choices.map((c) => c.label)).toEqual(['Cancel run', 'Keep running']);
        // Backing out: still running, and the question is gone.
        await shell.press(alice, asked.id, 2);
        expect((await svc.services.store.executions.get(executionId))!.status).toBe('running');
        await expect(shell.press(alice, asked.id, 1)).rejects.toMatchObject({ code: 'CHAT_NO_QUESTION' });

        await shell.press(alice, running.id, cancelAt);
        const again = confirmations().at(-1)!;
        expect(again.id).not.toBe(asked.id);
        // Only the presser may confirm.
        await expect(shell.press(eve, again.id, 1)).rejects.toMatchObject({ code: 'CHAT_NOT_YOUR_QUESTION' });
        await shell.press(alice, again.id, 1);
        await waitFor(
          async () =>
            (await svc.services.store.executions.get(executionId))!.status === 'canceled' || undefined,
          'the run canceled',
          30_000,
        );

        const done = await finalCard('dev', id, 'the canceled card');
        const rerunAt = done.card.buttons!.choices.findIndex((b) => b.value === 'rerun') + 1;
        expect(rerunAt).toBeGreaterThan(0);
        const runs = () => svc.services.store.executions.count({ 'action.ref': 'core.local' });
        const before = await runs();
        await shell.press(alice, done.id, rerunAt);
        const rerunAsk = confirmations().at(-1)!;
        expect(rerunAsk.choices.map((c) => c.label)).toEqual(['Re-run', 'Not now']);
        await shell.press(alice, rerunAsk.id, 2);
        expect(await runs()).toBe(before);
        await shell.press(alice, done.id, rerunAt);
        await shell.press(alice, confirmations().at(-1)!.id, 1);
        await waitFor(async () => ((await runs()) === before + 1 ? true : undefined), 'one re-run', 30_000);
        expect(await runs()).toBe(before + 1);
      }, 60_000);

      it('answers help natively, grouped by pack, and filters it', async () => {
        const id = await shell.say(alice, '!help hello', { channel: 'dev' });
        const reply = botSaid('dev', id)[0];
        expect(reply.text).toContain('[chattest]');
        expect(reply.text).toContain('!hello <who> - Say hello to someone.');
        expect(reply.whisperTo).toBeUndefined();
        expect(reply.text).not.toContain('[examples]');
      });

      it('ignores messages not addressed to the bot, and answers mentions and direct messages', async () => {
        const before = botSaid('dev').length;
        await shell.say(alice, 'hello bob', { channel: 'dev' });
        expect(botSaid('dev').length).toBe(before);
        const mention = await shell.say(alice, '@squall help hello', { channel: 'dev' });
        expect(botSaid('dev', mention)[0].text).toContain('!hello <who>');
        const dm = await shell.say(alice, 'help hello', { channel: 'dm-alice', isDirect: true });
        expect(botSaid('dm-alice', dm)[0].text).toContain('!hello <who>');
      });

      it('refuses a user without action_execute, runs nothing, and audits the refusal', async () => {
        const before = await svc.services.store.executions.count({ 'action.ref': 'chattest.hello' });
        const id = await shell.say(eve, '!hello world', { channel: 'dev' });
        const reply = botSaid('dev', id)[0];
        expect(reply.text).toBe(
          `You're not allowed to run chattest.hello: your Squall account "mallory" lacks "action_execute" on chattest.hello. Ask an admin to grant it to one of your roles.`,
        );
        expect(reply.whisperTo).toBe(eve.id);
        expect(await svc.services.store.executions.count({ 'action.ref': 'chattest.hello' })).toBe(before);
        const audit = await waitFor(
          () => svc.services.store.audit.findOne({ kind: 'chat.command', thread: id }),
          'the audit record',
        );
        expect(audit).toMatchObject({
          actor: 'mallory',
          adapter: 'shell',
          channel: 'dev',
          text: 'hello world',
          alias: 'chattest.hello',
          outcome: 'forbidden',
          execution_id: null,
        });
        const res = await fetch(`${svc.url}/api/v1/chatops/commands?outcome=forbidden`);
        const log = (await res.json()) as Array<Record<string, unknown>>;
        expect(log.some((r) => r.thread === id && r.actor === 'mallory')).toBe(true);
      });

      it('delivers an action notify on-complete to route ops: the terminal channel and the webhook', async () => {
        const id = await shell.say(alice, '!run-notify placeholder', { channel: 'dev' });
        expect(botSaid('dev', id)[0].text).toContain("I don't know");
        const res = await fetch(`${svc.url}/api/v1/executions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ action: 'chattest.notify_me', parameters: { word: 'ping' } }),
        });
        expect(res.status).toBe(201);
        const posted = await waitFor(
          () => botSaid('ops').find((m) => m.text.startsWith('notify_me said ping')),
          'the notification in #ops',
          20_000,
        );
        expect(posted.text).toBe('notify_me said ping for stanley');
        const hook = await waitFor(
          () => received.find((r) => r.path === '/hook'),
          'the webhook delivery',
          20_000,
        );
        expect((hook.headers as Record<string, string>)['x-squall-test']).toBe('yes');
        expect(hook.body).toMatchObject({
          message: 'notify_me said ping for stanley',
          data: { word: 'ping', route: 'ops', status: 'succeeded', action_ref: 'chattest.notify_me' },
        });
      });

      it('serves st2 alias endpoints: match, help and aliasexecution', async () => {
        const match = await fetch(`${svc.url}/api/v1/actionalias/match`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ command: 'hello world' }),
        });
        expect(match.status).toBe(200);
        expect(await match.json()).toMatchObject({
          actionalias: { ref: 'chattest.hello' },
          representation: 'hello {{who}}',
        });
        const none = await fetch(`${svc.url}/api/v1/actionalias/match`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ command: 'frobnicate' }),
        });
        expect(none.status).toBe(400);
        expect(((await none.json()) as { faultstring: string }).faultstring).toContain('matched no patterns');
        const help = (await (await fetch(`${svc.url}/api/v1/actionalias/help?filter=hello`)).json()) as {
          available: number;
          helpstrings: Array<{ display: string }>;
        };
        expect(help.helpstrings.map((h) => h.display)).toContain('hello {{who}}');
        const exec = await postJson('/api/v1/aliasexecution', {
          name: 'chattest.hello',
          format: 'hello {{who}}',
          command: 'hello api',
          user: 'carol',
          source_channel: 'x',
        });
        expect(exec.status).toBe(201);
        const body = (await exec.json()) as {
          execution: { id: string; parameters: Record<string, unknown>; context: Record<string, unknown> };
          message: string;
        };
        expect(body.execution.parameters.who).toBe('api');
        expect(body.execution.context).toMatchObject({
          api_user: 'carol',
          action_alias_ref: 'chattest.hello',
        });
        expect(body.message).toContain(body.execution.id);
      });

      it('runs built-in commands as the asker: executions lists only theirs', async () => {
        const id = await shell.say(alice, '!executions', { channel: 'dev' });
        const reply = botSaid('dev', id)[0];
        expect(reply.text).toContain('Latest executions by alice');
        expect(reply.text).toContain('chattest.hello');
        expect(reply.text).not.toContain('chattest.notify_me');
        const refused = await shell.say(eve, '!executions all', { channel: 'dev' });
        expect(botSaid('dev', refused)[0]).toMatchObject({
          text: `You're not allowed to do that: your Squall account "mallory" lacks "execution_list". Ask an admin to grant it to one of your roles.`,
          whisperTo: eve.id,
        });
      });
    },
  );
}
