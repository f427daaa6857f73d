export { DiscordAdapter, type DiscordAdapterOptions } from './adapter.js';
export { discordFromConfig } from './config.js';
