import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordAdapter } from '../../../adapters/discord/index.js';
import type { IncomingMessage } from '../../../src/chatops/index.js';
import type { DiscordEmulator, DiscordEmulatorOptions } from '../../emulators/discord/index.js';
import { adapterOnEmulator, refusalOf } from '../../support/chat-emulators.js';

/**
 * What a newcomer's Discord app gets wrong, as Discord answers it (the emulator: gateway close
 * 4014 for a privileged intent the app has not switched on, 401 / 4004 for a wrong token, message
 * text blanked without the Message Content intent), and Squall's answer: what to change, where.
 */
describe('Discord adapter: a misconfigured app says what to fix', () => {
  let discord: DiscordEmulator | undefined;
  let adapter: DiscordAdapter | undefined;
  const warnings: string[] = [];

  afterEach(async () => {
    await adapter?.disconnect();
    await discord?.stop();
    adapter = undefined;
    discord = undefined;
    warnings.length = 0;
  });

  const setUp = async (
    options: DiscordEmulatorOptions,
    adapterOptions: { token?: string; messageContent?: boolean } = {},
  ) => {
    ({ emulator: discord, adapter } = await adapterOnEmulator('discord', {
      emulator: options,
      adapter: {
        ...adapterOptions,
        logger: { info: () => undefined, error: () => undefined, warn: (_o, msg) => void warnings.push(msg) },
      },
    }));
    return adapter;
  };

  it('the Message Content intent not switched on for the app: 4014, and the two ways out', async () => {
    const a = await setUp({ messageContentIntent: false });
    const err = await refusalOf(a.connect());
    // The emulator (Discord) closed the gateway with 4014.
    await expect
      .poll(() => discord!.gateway.items.some((g) => g.kind === 'close' && 'code' in g && g.code === 4014))
      .toBe(true);
    expect(err.code).toBe('CHAT_CONNECT_FAILED');
    expect(err.message).toContain('Discord refused the Message Content intent (gateway close 4014');
    expect(err.message).toContain('Bot → Privileged Gateway Intents');
    expect(err.message).toContain('chatops.discord.message_content: false');
    expect(err.context).toMatchObject({ setting: 'chatops.discord.message_content' });
  });

  it('a wrong token: where to get the right one', async () => {
    const a = await setUp({}, { token: 'MTIz.not.the-token' });
    const err = await refusalOf(a.connect());
    expect(err.message).toContain('Discord refused chatops.discord.token');
    expect(err.message).toContain('Reset Token');
    expect(err.message).not.toContain('MTIz.not.the-token');
  });

  it('without the intent: mentions are read; other messages arrive blank, and the adapter says why', async () => {
    const a = await setUp({ messageContentIntent: false }, { messageContent: false });
    const seen: IncomingMessage[] = [];
    a.onMessage((m) => void seen.push(m));
    await a.connect();
    expect(a.notes()).toEqual([expect.stringContaining('the Message Content intent is off')]);
    discord!.userSays({ content: '!help' });
    discord!.userSays({ content: 'status', mention: true });
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toMatchObject({ text: 'status', mentionsBot: true });
    expect(a.notes()[0]).toContain('1 message(s) since connecting arrived without their text');
    expect(a.notes()[0]).toContain('Privileged Gateway Intents');
    expect(warnings).toEqual([expect.stringContaining('a Discord message arrived without its text')]);
  });
});
