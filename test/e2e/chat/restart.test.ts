import { afterAll, beforeAll, expect, it } from 'vitest';
import { DiscordEmulator } from '../../emulators/discord/index.js';
import { SlackEmulator } from '../../emulators/slack/index.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { answer, pressAsking } from './confirm.js';
import { emulatedDiscordAdapter, socketSlackAdapter, startChatSquall, type ChatSquall } from './harness.js';

const USERS = { 'slack:U0ALICE': 'alice', 'discord:1200000000000000101': 'alice' };

const textOf = (m: { content: string; embeds: unknown[] }) =>
  `${m.content}\n${(m.embeds as Array<{ title?: string; description?: string }>)
    .map((e) => [e.title, e.description].filter(Boolean).join('\n'))
    .join('\n')}`;
/** The chat platform an execution was started from. */
const chatOf = (r: { context?: Record<string, unknown> }) =>
  (r.context?.chat as { adapter?: string } | undefined)?.adapter;
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
      // Bots configured by token, as in production: each process leases its connection (connections.ts).
      const store =
        target.kind === 'mongo' && target.available ? { mongoUrl: freshMongoUrl() } : { dataDir: dir.dir };
      const running: ChatSquall[] = [];
      /** Squall on the suite's store (the same one after each restart). */
      const start = async (adapter: Parameters<typeof startChatSquall>[0]) => {
        const squall = await startChatSquall(adapter, {
          mongo: target.kind === 'mongo',
          users: USERS,
          store,
          config: {
            'chatops.slack.bot_token': slack.botToken,
            'chatops.discord.token': discord.botToken,
          },
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

      it('Slack: "Fill in…", an open modal and a card\'s Re-run pressed after a restart all work, each once', async () => {
        const before = await start(socketSlackAdapter(slack));
        const ts = await slack.userSays({ text: '!scale web' });
        const usage = await slack.waitForEphemeral(
          (e) => e.thread_ts === ts && /is missing something/.test(e.text),
        );
        await slack.clickEphemeralButton({ ephemeral: usage, action_id: 'squall:0' });
        const opened = await waitFor(
          () => [...slack.views.all.values()].find((v) => v.open && v.user === 'U0ALICE'),
          'the modal opened before the restart',
        );
        const echo = await slack.userSays({ text: '!echo slack before restart' });
        const cardPost = await slack.waitForPost((p) => p.thread_ts === echo && /Execution \w+/.test(p.text));
        const card = () => slack.findMessage(cardPost.channel, cardPost.ts)!;
        await waitFor(() => /· succeeded ·/.test(card().text), 'the echo card final', 20_000);
        await stop(before);

        const after = await start(socketSlackAdapter(slack));
        // The modal opened before the restart: its context travels in the view (private_metadata).
        await slack.submitView({ view_id: opened.id, values: { service: 'web', replicas: '2' } });
        expect(opened.open).toBe(false);
        const scaled = await slack.waitForPost(
          (p) => p.thread_ts === ts && /e2echat\.scale[\s\S]*Execution \w+/.test(p.text),
          15_000,
        );
        await waitFor(
          () => /· succeeded ·/.test(slack.findMessage(scaled.channel, scaled.ts)!.text),
          'the form run final',
          20_000,
        );
        // "Fill in…" pressed again after the restart opens a new form.
        const views = slack.views.all.size;
        await slack.clickEphemeralButton({ ephemeral: usage, action_id: 'squall:0' });
        await waitFor(() => slack.views.all.size > views, 'views.open after the restart');
        // Re-run of a card posted before the restart: one re-run, the button then disabled.
        await Promise.all([
          slack.clickButton({ message_ts: cardPost.ts, action_id: 'squall:0', confirm: true }),
          slack.clickButton({ message_ts: cardPost.ts, action_id: 'squall:0', confirm: true }),
        ]);
        await slack.waitForEphemeral((e) => /already re-run/.test(String(e.text)), 15_000);
        await waitFor(() => JSON.stringify(card().blocks).includes('Re-run by alice'), 'Re-run disabled');
        await waitFor(
          async () =>
            (await after.svc.services.store.executions.find({})).filter(
              (r) => r.parameters?.words === 'slack before restart',
            ).length === 2,
          'the re-run',
        );
        const runs = await after.svc.services.store.executions.find({});
        expect(runs.filter((r) => r.parameters?.words === 'slack before restart')).toHaveLength(2);
        expect(runs.filter((r) => r.action.ref === 'e2echat.scale' && chatOf(r) === 'slack')).toHaveLength(1);
        await stop(after);
      }, 120_000);

      it('Discord: a choice, "Fill in…" (a value too long for a custom_id), an open modal and a confirmation survive a restart', async () => {
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
        const scaleRoot = await discord.waitForPost((p) => p.content.includes('ran /squall scale web'));
        const fill = await discord.waitForEphemeral((p) =>
          /"scale web" is missing something/.test(textOf(p)),
        );
        const fillId = buttonsOf(fill)[0].custom_id!;
        // The form's context does not fit Discord's 100-character custom_id: it is kept under a key.
        expect(fillId).toMatch(/^sq\|~/);
        await discord.clickButton({ message: fill, custom_id: fillId });
        const modal = await discord.modals.waitFor(() => true, 10_000);
        // A finished card, whose Re-run asks first.
        const echo = discord.userSays({ content: '!echo discord before restart' });
        const echoCard = await discord.waitForPost(
          (p) => p.channel_id === echo && /Execution \w+/.test(textOf(p)),
          10_000,
        );
        await waitFor(
          () => /· succeeded ·/.test(textOf(discord.message(echoCard.id)!)),
          'the echo card final',
          20_000,
        );
        const rerun = buttonsOf(discord.message(echoCard.id)!)[0];
        expect(rerun.label).toBe('Re-run');
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

        // The modal opened before the restart runs once, as alice, in its command's thread.
        const submitted = await discord.submitModal({ modal, values: { service: 'web', replicas: '3' } });
        expect(submitted.type).not.toBe(4);
        const scaled = await waitFor(
          () =>
            discord
              .channelMessages(scaleRoot.id)
              .find((m) => m.author.id === discord.botUserId && /· succeeded ·/.test(textOf(m))),
          'the form run’s final card',
          30_000,
        );
        expect(textOf(scaled)).toContain('scaled web to 3');
        // "Fill in…" pressed after the restart still opens the form.
        const opened = await discord.clickButton({ message: fill, custom_id: fillId });
        expect(opened.type).toBe(9);

        // The Re-run's own "are you sure?" text, not a generic one; confirmed, it re-runs once.
        const ask = await pressAsking(discord, { message_id: echoCard.id, custom_id: rerun.custom_id! });
        expect(textOf(ask)).toContain('Run e2echat.echo again with the same parameters?');
        await answer(discord, ask, 'confirm');
        await waitFor(
          () => buttonsOf(discord.message(echoCard.id)!)[0].label === 'Re-run by alice',
          'the Re-run button greyed out',
          15_000,
        );
        const runs = await after.svc.services.store.executions.find({});
        expect(runs.filter((r) => r.action.ref === 'e2echat.scale' && chatOf(r) === 'discord')).toHaveLength(
          1,
        );
        await waitFor(
          async () =>
            (await after.svc.services.store.executions.find({})).filter(
              (r) => r.parameters?.words === 'discord before restart',
            ).length === 2,
          'the re-run',
        );
        await stop(after);
        expect(discordErrors).toEqual([]);
      }, 120_000);
    },
  );
}
