import { SquallError, type ChatAdapter } from '../../src/chatops/index.js';
import { DiscordAdapter } from './adapter.js';

/** The subset of Squall's config this transport reads (chatops.discord). */
export interface DiscordConfigSection {
  enabled?: boolean;
  token?: string;
  application_id?: string;
  guild_id?: string;
  api_url?: string;
  gateway_url?: string;
  prefix?: string;
  slash_command?: string;
  message_content?: boolean;
}

/** The registry factory: a DiscordAdapter when chatops.discord.enabled, else undefined. */
export function discordFromConfig(config: {
  chatops: { discord?: DiscordConfigSection };
}): ChatAdapter | undefined {
  const c = config.chatops.discord;
  if (!c?.enabled) return undefined;
  if (!c.token)
    throw new SquallError(
      'CHAT_CONFIG_INVALID',
      'chatops.discord.token is required when chatops.discord.enabled is true (or set SQUALL_CHATOPS_DISCORD_TOKEN)',
      { adapter: 'discord' },
    );
  return new DiscordAdapter({
    token: c.token,
    ...(c.api_url ? { apiUrl: c.api_url } : {}),
    ...(c.guild_id ? { guildId: c.guild_id } : {}),
    ...(c.prefix ? { prefix: c.prefix } : {}),
    slashCommand: c.slash_command ?? 'squall',
    messageContent: c.message_content ?? true,
  });
}
