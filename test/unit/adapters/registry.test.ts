import { describe, expect, it } from 'vitest';
import '../../../adapters/index.js';
import { configuredChatAdapters } from '../../../src/chatops/index.js';
import type { SquallConfig } from '../../../src/config/index.js';

const config = (chatops: Record<string, unknown>) => ({ chatops }) as unknown as SquallConfig;

describe('the chat transports registered by adapters/', () => {
  it('makes the Slack and Discord adapters when they are enabled (their SDKs load on demand)', async () => {
    const made = await configuredChatAdapters(
      config({
        slack: { enabled: true, bot_token: 'xoxb-test', app_token: 'xapp-test' },
        discord: { enabled: true, token: 'discord-test' },
      }),
    );
    expect(made.map((a) => a.name).sort()).toEqual(expect.arrayContaining(['discord', 'slack']));
  });

  it('makes neither when they are not enabled', async () => {
    const made = await configuredChatAdapters(config({ slack: { enabled: false } }));
    expect(made.map((a) => a.name)).not.toContain('slack');
    expect(made.map((a) => a.name)).not.toContain('discord');
  });

  it('still refuses an enabled transport without its token', async () => {
    await expect(configuredChatAdapters(config({ slack: { enabled: true } }))).rejects.toMatchObject({
      code: 'CHAT_CONFIG_INVALID',
    });
  });
});
