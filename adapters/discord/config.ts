import { SquallError, type ChatAdapter } from '../../src/chatops/index.js';
import { DiscordAdapter } from './adapter.js';
import { discordOff, type DiscordConfigSection } from '../settings.js';

export type { DiscordConfigSection };

/** A DiscordAdapter when chatops.discord is enabled with its token, undefined when not enabled; throws without the token. */
export function discordFromConfig(config: {
  chatops: { discord?: DiscordConfigSection };
}): ChatAdapter | undefined {
  const c = config.chatops.discord;
  const off = discordOff(c);
  if (off?.misconfigured) throw new SquallError('CHAT_CONFIG_INVALID', off.off, { adapter: 'discord' });
  if (off || !c?.token) return undefined;
  return new DiscordAdapter({
    token: c.token,
    ...(c.api_url ? { apiUrl: c.api_url } : {}),
    ...(c.guild_id ? { guildId: c.guild_id } : {}),
    ...(c.prefix ? { prefix: c.prefix } : {}),
    slashCommand: c.slash_command ?? 'squall',
    messageContent: c.message_content ?? true,
  });
}
