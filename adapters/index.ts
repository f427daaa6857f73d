/**
 * Registers every chat transport with src/chatops. Imported for its effect by the entry points
 * only (bin/squall.js, src/cli/run.ts): the domain never imports adapters. Slack's and Discord's
 * SDKs are loaded only when their transport is enabled: together they are ~50 MB of an idle
 * server's memory.
 */
import { registerChatAdapter } from '../src/chatops/index.js';
import { ShellAdapter } from './shell/index.js';

registerChatAdapter('shell', () => new ShellAdapter());
registerChatAdapter('slack', async (config) =>
  config.chatops.slack?.enabled ? (await import('./slack/index.js')).slackFromConfig(config) : undefined,
);
registerChatAdapter('discord', async (config) =>
  config.chatops.discord?.enabled
    ? (await import('./discord/index.js')).discordFromConfig(config)
    : undefined,
);
