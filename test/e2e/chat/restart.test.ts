import { afterAll, beforeAll, expect, it } from 'vitest';
import { DiscordEmulator } from '../../emulators/discord/index.js';
import { SlackEmulator } from '../../emulators/slack/index.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { emulatedDiscordAdapter, socketSlackAdapter, startChatSquall, type ChatSquall } from './harness.js';

const USERS = { 'slack:U0ALICE': 'alice', 'discord:1200000000000000101': 'alice' };

const textOf = (m: { content: string; embeds: unknown[] }) =>
  `${m.content}\n${(m.embeds as Array<{ title?: string; description?: string }>)
    .map((e) => [e.title, e.description].filter(Boolean).join('\n'))
    .join('\n')}`;
const buttonsOf = (m: { components: unknown[] }) =>
  (m.components as Array<{ components?: Array<{ custom_id?: string; label?: string }> }>).flatMap(
    (r) => r.components ?? [],
  );

for (const target of STORE_TARGETS) {
  describeWithServer(
    `Chat buttons across a restart (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      const dir = tempDir();
      const store = target.kind === 'mongo' ? { mongoUrl: freshMongoUrl() } : { dataDir: dir.dir };
      const running: ChatSquall[] = [];
      /** Squall on the suite's store (the same one after each restart). */
      const start = async (adapter: Parameters<typeof startChatSquall>[0]) => {
        const squall = await startChatSquall(adapter, {
          mongo: target.kind === 'mongo',
          users: USERS,
          store,
        });
        running.push(squall);
        return squall;
      };
      const stop = async (squall: ChatSquall) => {
        running.splice(running.indexOf(squall), 1);
        await squall.svc.cleanup();
      };
      let slack: SlackEmulator;
      let discord: DiscordEmulator;
      const discordErrors: string[] = [];
      beforeAll(async () => {
        slack = await new SlackEmulator().start();
        discord = await new DiscordEmulator().start();
      });
      afterAll(async () => {
        for (const squall of running.splice(0)) await squall.svc.cleanup();
        await slack?.stop();
        await discord?.stop();
        dir.cleanup();
      });

      it('Slack: the buttons of an ambiguous command still run it after a restart, once; a stale press says to run it again', async () => {
        const before = await start(socketSlackAdapter(slack));
        const ts = await slack.userSays({ text: '!greet echo across' });
        const offer = await slack.waitForEphemeral((e) => e.thread_ts === ts, 15_000);
        expect(offer.text).toMatch(/matches more than one command/);
        await stop(before);

        const after = await start(socketSlackAdapter(slack));
        await slack.clickEphemeralButton({ ephemeral: offer, action_id: 'squall:0' });
        const post = await slack.waitForPost(
          (p) => p.thread_ts === ts && /Execution \w+/.test(p.text),
          15_000,
        );
        const card = () => slack.findMessage(post.channel, post.ts)!;
        await waitFor(() => /· succeeded ·/.test(card().text), 'the final card', 20_000);
        expect(card().text).toContain('said echo across');
        const run = (await after.svc.services.store.executions.get(/Execution (\w+)/.exec(card().text)![1]))!;
        expect(run.context).toMatchObject({ user: 'alice', action_alias_ref: 'e2echat.greet' });

        // Pressed again: nothing runs, and the presser is told plainly what to do.
        await slack.clickEphemeralButton({ ephemeral: offer, action_id: 'squall:1' });
        const stale = await slack.waitForEphemeral(
          (e) => e.thread_ts === ts && e.user === 'U0ALICE' && /expired/.test(e.text),
          15_000,
        );
        expect(stale.text).toBe(
          'This button has expired (or the choice was already made) — run the command again.',
        );
        const runs = await after.svc.services.store.executions.find({});
        expect(runs.filter((r) => r.context?.action_alias_ref === 'e2echat.greet')).toHaveLength(1);
        await stop(after);
      }, 90_000);

      it('Discord: a choice survives a restart; a form opened before it answers plainly that it expired', async () => {
        const before = await start(emulatedDiscordAdapter(discord, discordErrors));
        // A slash command: the choice is an ephemeral follow-up of its interaction.
        await discord.slashCommand({ name: 'squall', options: { command: 'greet echo restart' } });
        const root = await discord.waitForPost((p) => p.content.includes('ran /squall greet echo restart'));
        const offer = await discord.waitForEphemeral(
          (p) => /"greet echo restart" matches more than one command/.test(textOf(p)),
          15_000,
        );
        // "Fill in…" of a command missing a parameter, opened as a modal before the restart.
        await discord.slashCommand({ name: 'squall', options: { command: 'scale web' } });
        const fill = await discord.waitForEphemeral((p) =>
          /"scale web" is missing something/.test(textOf(p)),
        );
        await discord.clickButton({ message: fill, custom_id: buttonsOf(fill)[0].custom_id! });
        const modal = await discord.modals.waitFor(() => true, 10_000);
        await stop(before);

        const after = await start(emulatedDiscordAdapter(discord, discordErrors));
        await discord.clickButton({ message: offer, custom_id: buttonsOf(offer)[0].custom_id! });
        const card = await waitFor(
          () =>
            discord
              .channelMessages(root.id)
              .find((m) => m.author.id === discord.botUserId && /· succeeded ·/.test(textOf(m))),
          'the chosen command’s final card',
          30_000,
        );
        expect(textOf(card)).toContain('said echo restart');

        // The modal's context lived in the process that opened it: the submit is told to open it again.
        await discord.submitModal({ modal, values: { service: 'web', replicas: '3' } });
        const expired = await discord.waitForEphemeral((p) => /form has expired/.test(textOf(p)), 10_000);
        expect(textOf(expired).trim()).toBe(
          'This form has expired — press Fill in… or run the command again.',
        );
        expect(await after.svc.services.store.executions.count({ 'action.ref': 'e2echat.scale' })).toBe(0);
        await stop(after);
        expect(discordErrors).toEqual([]);
      }, 120_000);
    },
  );
}
