import { afterAll, beforeAll, expect, it } from 'vitest';
import { DiscordEmulator } from '../../emulators/discord/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { BOT_SCOPES } from '../../emulators/slack/emulator.js';
import { emulatedDiscordAdapter, startChatSquall, useSlackSquall, type ChatSquall } from './harness.js';

const target = STORE_TARGETS[0]!;

/**
 * A newcomer's first start: the Discord app has not switched on the Message Content intent
 * (Discord closes the gateway with 4014). Squall stays up, and its chat status says what to change.
 */
describeWithServer('A misconfigured Discord bot (embedded)', 'embedded store', target.available, () => {
  let discord: DiscordEmulator;
  let squall: ChatSquall;
  const errors: string[] = [];

  beforeAll(async () => {
    discord = await new DiscordEmulator({ messageContentIntent: false }).start();
    // Configured by token, as in production (the connection is leased, connections.ts).
    squall = await startChatSquall(emulatedDiscordAdapter(discord, errors), {
      mongo: false,
      users: {},
      config: { 'chatops.discord.token': discord.botToken },
    });
  }, 60_000);

  afterAll(async () => {
    await squall?.svc.cleanup();
    await discord?.stop();
  });

  it('the service starts and answers; GET /api/v1/chatops/adapters says the bot failed, why, and the fix', async () => {
    const health = await fetch(`${squall.svc.url}/api/v1/health`);
    expect(health.status).toBe(200);
    const list = (await (await fetch(`${squall.svc.url}/api/v1/chatops/adapters`)).json()) as Array<
      Record<string, any>
    >;
    const bot = list.find((a) => a.adapter === 'discord')!;
    expect(bot).toMatchObject({
      state: 'failed',
      connected_here: false,
      error: { code: 'CHAT_CONNECT_FAILED', attempts: 1 },
    });
    expect(bot.error.message).toContain('gateway close 4014');
    expect(bot.error.message).toContain('Privileged Gateway Intents');
    expect(bot.error.message).not.toContain(discord.botToken);
    expect(Date.parse(bot.error.retry_at)).toBeGreaterThan(Date.parse(bot.error.at));
  });
});

describeWithServer('A Slack app without files:write (embedded)', 'embedded store', target.available, () => {
  const { slack } = useSlackSquall(
    target,
    { 'slack:U0ALICE': 'alice' },
    { botScopes: BOT_SCOPES.filter((s) => s !== 'files:write') },
  );

  it('a long output it cannot attach: the card says so, with the scope to add and where', async () => {
    const ts = await slack.userSays({ text: '!big output' });
    const card = await slack.waitForPost((p) => p.thread_ts === ts && /Execution \w+/.test(p.text), 10_000);
    const final = await waitFor(
      () => {
        const now = slack.findMessage(card.channel, card.ts)?.text ?? '';
        return now.includes('could not be attached') ? now : undefined;
      },
      'the card to say the output could not be attached',
      20_000,
    );
    expect(final).toContain('missing_scope (the Slack app lacks the files:write scope');
    expect(final).toContain('Bot Token Scopes and reinstall the app');
    expect(slack.uploads.items.filter((u) => u.completed)).toEqual([]);
  });
});
