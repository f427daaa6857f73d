/**
 * Registers every chat transport with src/chatops. Imported for its effect by the entry points
 * only (bin/squall.js, src/cli/run.ts): the domain never imports adapters.
 */
import { registerChatAdapter } from '../src/chatops/index.js';
import { discordFromConfig } from './discord/index.js';
import { ShellAdapter } from './shell/index.js';
import { slackFromConfig } from './slack/index.js';

registerChatAdapter('shell', () => new ShellAdapter());
registerChatAdapter('slack', (config) => slackFromConfig(config));
registerChatAdapter('discord', (config) => discordFromConfig(config));
