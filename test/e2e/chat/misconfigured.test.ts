import { afterAll, beforeAll, expect, it } from 'vitest';
import { DiscordEmulator } from '../../emulators/discord/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { emulatedDiscordAdapter, startChatSquall, type ChatSquall } from './harness.js';

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
