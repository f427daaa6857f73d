import { describe, expect, it } from 'vitest';
import '../../../adapters/index.js';
import { chatTransports, configuredChatAdapters } from '../../../src/chatops/index.js';
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

  it('leaves a transport off, saying why: not enabled, or enabled without the token its mode needs', async () => {
    const { adapters, off } = await chatTransports(
      config({ slack: { enabled: true, bot_token: 'xoxb-test' }, discord: { token: 'discord-test' } }),
    );
    expect(adapters.map((a) => a.name)).toEqual(['shell']);
    expect(off).toEqual([
      {
        adapter: 'slack',
        reason: expect.stringContaining('chatops.slack.app_token is not set'),
        misconfigured: true,
      },
      {
        adapter: 'discord',
        reason: 'chatops.discord.token is set but chatops.discord.enabled is not true',
        misconfigured: false,
      },
    ]);
    expect(JSON.stringify(off)).not.toContain('xoxb-test');
    expect(JSON.stringify(off)).not.toContain('discord-test');
  });
});
