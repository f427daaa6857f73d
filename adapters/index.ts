/**
 * Registers every chat transport with src/chatops. Imported for its effect by the entry points
 * only (bin/squall.js, src/cli/run.ts): the domain never imports adapters. Slack's and Discord's
 * SDKs are loaded only when their transport is configured: together they are ~50 MB of an idle
 * server's memory. One not configured is left off, with why (not enabled, or a missing token),
 * and the service starts without it.
 */
import { registerChatAdapter } from '../src/chatops/index.js';
import { ShellAdapter } from './shell/index.js';
import { discordOff, slackOff } from './settings.js';

registerChatAdapter('shell', () => new ShellAdapter());
registerChatAdapter(
  'slack',
  async (config) =>
    slackOff(config.chatops.slack) ?? (await import('./slack/index.js')).slackFromConfig(config),
);
registerChatAdapter(
  'discord',
  async (config) =>
    discordOff(config.chatops.discord) ?? (await import('./discord/index.js')).discordFromConfig(config),
);
