import { afterAll, beforeAll, expect, it } from 'vitest';
import '../../../adapters/index.js';
import { chatTransports } from '../../../src/chatops/index.js';
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
    // Public: the bot's state, degraded, but neither the error nor the token.
    const text = await health.text();
    expect(JSON.parse(text)).toMatchObject({
      status: 'degraded',
      chat: [{ platform: 'discord', state: 'failed' }],
    });
    expect(text).not.toContain('4014');
    expect(text).not.toContain(discord.botToken);
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

/**
 * A newcomer's first start with nothing but the terminal configured, then with Slack switched on
 * and its token forgotten: the service starts either way, and says which bots are off and why.
 */
describeWithServer('Chat transports not configured (embedded)', 'embedded store', target.available, () => {
  const start = (config: Record<string, unknown>) =>
    startChatSquall((services) => chatTransports(services.config), { mongo: false, users: {}, config });
  const get = async (squall: ChatSquall, path: string) =>
    (await (await fetch(`${squall.svc.url}${path}`)).json()) as Record<string, any>;

  it('nothing configured: health is ok, the terminal connected, Slack and Discord off (not enabled)', async () => {
    const squall = await start({});
    try {
      expect(await get(squall, '/api/v1/health')).toMatchObject({
        status: 'ok',
        chat: [
          { platform: 'shell', state: 'connected' },
          { platform: 'slack', state: 'off' },
          { platform: 'discord', state: 'off' },
        ],
      });
      const list = (await get(squall, '/api/v1/chatops/adapters')) as unknown as Array<Record<string, any>>;
      expect(list.find((a) => a.adapter === 'slack')).toMatchObject({
        state: 'off',
        reason: 'not enabled (chatops.slack.enabled)',
      });
    } finally {
      await squall.svc.cleanup();
    }
  });

  it('Slack enabled without its token: the service starts; Slack failed (degraded, HTTP 200), naming the setting', async () => {
    const squall = await start({ 'chatops.slack.enabled': true });
    try {
      const health = await fetch(`${squall.svc.url}/api/v1/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        status: 'degraded',
        chat: expect.arrayContaining([{ platform: 'slack', state: 'failed' }]),
      });
      const list = (await get(squall, '/api/v1/chatops/adapters')) as unknown as Array<Record<string, any>>;
      const slack = list.find((a) => a.adapter === 'slack')!;
      expect(slack).toMatchObject({ state: 'failed', error: { code: 'CHAT_CONFIG_INVALID' } });
      expect(slack.error.message).toContain('chatops.slack.bot_token is not set');
      // The terminal still answers.
      expect(list.find((a) => a.adapter === 'shell')).toMatchObject({ state: 'connected' });
    } finally {
      await squall.svc.cleanup();
    }
  });
});
