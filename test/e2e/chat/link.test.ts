import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChatAdapter } from '../../../src/chatops/index.js';
import { DiscordEmulator } from '../../emulators/discord/index.js';
import { SlackEmulator } from '../../emulators/slack/index.js';
import type { TestApi } from '../../support/api.js';
import { startChatApi } from '../../support/chat-api.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl } from '../../support/servers.js';
import { saveTranscript } from '../../support/transcripts.js';
import { waitFor } from '../../support/wait.js';
import { FIXTURE_PACKS, emulatedDiscordAdapter, socketSlackAdapter } from './harness.js';

/** One chat platform as the link test drives it: two people, what they say, what only they see. */
interface Platform {
  name: 'slack' | 'discord';
  alice: string;
  bob: string;
  start(): Promise<ChatAdapter>;
  stop(): Promise<void>;
  says(user: string, text: string): Promise<string>;
  /** Every private reply to `user` so far, oldest first, as text. */
  privateTo(user: string): string[];
  /** The execution id on the card in the thread of command `id`. */
  cardExecution(id: string): Promise<string>;
}

function slackPlatform(): Platform {
  let slack: SlackEmulator;
  return {
    name: 'slack',
    alice: 'U0ALICE',
    bob: 'U0BOB',
    async start() {
      slack = await new SlackEmulator().start();
      return socketSlackAdapter(slack);
    },
    stop: async () => slack?.stop(),
    says: (user, text) => slack.userSays({ text, user }),
    privateTo: (user) => slack.ephemerals.items.filter((e) => e.user === user).map((e) => e.text),
    async cardExecution(ts) {
      const post = await slack.waitForPost((p) => p.thread_ts === ts && /Execution \w+/.test(p.text), 10_000);
      return /Execution (\w+)/.exec(post.text)![1];
    },
  };
}

function discordPlatform(): Platform {
  let discord: DiscordEmulator;
  const errors: string[] = [];
  const textOf = (m: { content: string; embeds: unknown[] }) =>
    `${m.content}\n${(m.embeds as Array<{ title?: string; description?: string }>)
      .map((e) => [e.title, e.description].filter(Boolean).join('\n'))
      .join('\n')}`;
  return {
    name: 'discord',
    alice: '1200000000000000101',
    bob: '1200000000000000102',
    async start() {
      discord = await new DiscordEmulator().start();
      return emulatedDiscordAdapter(discord, errors);
    },
    async stop() {
      await discord?.stop();
      expect(discord?.errors ?? []).toEqual([]);
      expect(errors).toEqual([]);
    },
    says: async (user, content) => discord.userSays({ content, user }),
    privateTo(user) {
      // A message command has no ephemeral reply on Discord: private answers come by DM.
      const dm = discord.dmChannel(user).id;
      return discord.posts.items.filter((p) => p.channel_id === dm).map(textOf);
    },
    async cardExecution(id) {
      const post = await discord.waitForPost(
        (p) => p.channel_id === id && /Execution \w+/.test(textOf(p)),
        10_000,
      );
      return /Execution (\w+)/.exec(textOf(post))![1];
    },
  };
}

const NOT_LINKED = /You're not linked to a Squall account — say `!link`/;

for (const target of STORE_TARGETS) {
  for (const platform of [slackPlatform(), discordPlatform()]) {
    describeWithServer(
      `Linked chat identities on ${platform.name} (${target.kind})`,
      'MongoDB (SQUALL_TEST_MONGO_URL)',
      target.available,
      () => {
        let api: TestApi;
        let otto: string;
        let olga: string;

        beforeAll(async () => {
          api = await startChatApi([await platform.start()], {
            mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
            overrides: { 'packs.paths': [FIXTURE_PACKS] },
          });
          otto = await api.tokenFor('otto', ['operator']);
          olga = await api.tokenFor('olga', ['observer']);
        }, 60_000);
        afterAll(async () => {
          await api?.stop();
          await platform.stop();
        });

        /** Says `text` as `user` and returns the private reply it got. */
        async function privately(user: string, text: string): Promise<string> {
          const before = platform.privateTo(user).length;
          await platform.says(user, text);
          return waitFor(() => platform.privateTo(user)[before], `a private reply to "${text}"`, 10_000);
        }

        /** Says `!link` as `user` and returns the token of the link they were sent privately. */
        async function link(user: string): Promise<{ token: string; text: string }> {
          const text = await privately(user, '!link');
          return { token: /#\/chat-link\/([0-9a-f]+)/.exec(text)![1], text };
        }

        it('link, run as the linked user (an observer link is refused), revoke, refused again', async () => {
          const store = api.services.store;
          // Unlinked: the default chat user may not run anything; the reply says how to fix it.
          const before = await privately(platform.alice, '!echo before linking');
          expect(before).toMatch(NOT_LINKED);

          const sent = await link(platform.alice);
          expect(sent.text).toContain(`${api.url}/#/chat-link/`);
          // The token is a secret: the chat log records that a link was sent, never the link.
          const audit = await waitFor(
            () => store.audit.findOne({ kind: 'chat.command', text: 'link' }),
            'the audit of !link',
          );
          expect(JSON.stringify(audit)).not.toContain(sent.token);
          const preview = await api.request('post', '/api/v1/chatops/links/preview', {
            token: otto,
            body: { token: sent.token },
          });
          expect(preview.status).toBe(200);
          expect(preview.body).toMatchObject({ platform: platform.name, chat_user: { id: platform.alice } });
          const confirmed = await api.request('post', '/api/v1/chatops/links', {
            token: otto,
            body: { token: sent.token },
          });
          expect(confirmed.status).toBe(201);
          expect(confirmed.body).toMatchObject({ user: 'otto', platform: platform.name });
          expect(JSON.stringify(confirmed.body)).not.toContain(sent.token);
          // One use only.
          const again = await api.request('post', '/api/v1/chatops/links', {
            token: olga,
            body: { token: sent.token },
          });
          expect(again.status).toBe(404);

          // Linked: the command runs as otto, with otto's RBAC.
          const run = await platform.says(platform.alice, '!echo as otto');
          const id = await platform.cardExecution(run);
          const execution = await waitFor(() => store.executions.get(id), 'the execution');
          expect(execution.context).toMatchObject({ user: 'otto' });

          // Bob links to an observer: RBAC of that user applies, so action_execute is refused.
          const bobs = await link(platform.bob);
          expect(
            (await api.request('post', '/api/v1/chatops/links', { token: olga, body: { token: bobs.token } }))
              .status,
          ).toBe(201);
          const observerRefusal = await privately(platform.bob, '!echo as olga');
          expect(observerRefusal).toContain('your Squall account "olga" lacks "action_execute"');

          // Each user sees their own links; an observer may not revoke someone else's.
          const ottos = await api.request('get', '/api/v1/chatops/links', { token: otto });
          expect(ottos.body).toEqual([expect.objectContaining({ user: 'otto' })]);
          const linkId = (ottos.body as Array<{ id: string }>)[0].id;
          const all = await api.request('get', '/api/v1/chatops/links');
          expect((all.body as Array<{ user: string }>).map((l) => l.user).sort()).toEqual(['olga', 'otto']);
          const path = `/api/v1/chatops/links/${encodeURIComponent(linkId)}`;
          expect((await api.request('delete', path, { token: olga })).status).toBe(403);
          expect((await api.request('delete', path, { token: otto })).status).toBe(204);

          // Revoked: back to the default user, refused, told to link.
          const after = await privately(platform.alice, '!echo after revoking');
          expect(after).toMatch(NOT_LINKED);
          expect(await store.executions.find({ 'context.user': 'otto' })).toHaveLength(1);
          if (target.kind === 'embedded')
            saveTranscript(
              `${platform.name}-link`,
              `Linking a ${platform.name} user to a Squall account with !link, using it, revoking it`,
              [
                { alice: '!echo before linking' },
                { squall: 'to alice only', text: before },
                { alice: '!link' },
                { squall: 'to alice only', text: sent.text.replace(sent.token, '<one-time token>') },
                {
                  web: 'otto opens the link, logs in and confirms',
                  link: { ...(confirmed.body as object), created_at: '<timestamp>' },
                },
                { alice: '!echo as otto' },
                { squall: 'posts the card; the execution runs as', user: execution.context?.user },
                { bob: '!link (confirmed by olga, an observer)' },
                { bob: '!echo as olga' },
                { squall: 'to bob only', text: observerRefusal },
                { web: 'otto revokes the link (DELETE /api/v1/chatops/links/<id>)' },
                { alice: '!echo after revoking' },
                { squall: 'to alice only', text: after },
              ],
            );
        }, 60_000);
      },
    );
  }
}
