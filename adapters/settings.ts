/**
 * The chat transports' config sections and whether each is configured, without their SDKs: the
 * registry (adapters/index.ts) reads them before deciding to load an SDK at all.
 */
/** chatops.slack as the Slack transport reads it. */
export interface SlackConfigSection {
  enabled?: boolean;
  mode?: 'socket' | 'http';
  bot_token?: string;
  app_token?: string;
  signing_secret?: string;
  slash_command?: string;
  api_url?: string;
  events_path?: string;
  port?: number;
}

/**
 * Why the Slack transport is not started, or undefined when it is configured: not enabled, or
 * enabled without a token or secret its mode needs. Names settings, never their values.
 */
export function slackOff(
  c: SlackConfigSection | undefined,
): { off: string; misconfigured?: boolean } | undefined {
  if (!c?.enabled)
    return {
      off: c?.bot_token
        ? 'chatops.slack.bot_token is set but chatops.slack.enabled is not true'
        : 'not enabled (chatops.slack.enabled)',
    };
  const missing = (setting: string, why: string) => ({
    off: `chatops.slack.enabled is true but chatops.slack.${setting} is not set (or SQUALL_CHATOPS_SLACK_${setting.toUpperCase()}): ${why}`,
    misconfigured: true,
  });
  if (!c.bot_token) return missing('bot_token', 'the Bot User OAuth Token (xoxb-…)');
  const mode = c.mode ?? 'socket';
  if (mode === 'socket' && !c.app_token)
    return missing('app_token', 'Socket Mode needs an app-level token (xapp-…) with connections:write');
  if (mode === 'http' && !c.signing_secret)
    return missing('signing_secret', 'HTTP mode verifies requests with it');
  return undefined;
}

/** chatops.discord as the Discord transport reads it. */
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

/**
 * Why the Discord transport is not started, or undefined when it is configured: not enabled, or
 * enabled without its token. Names settings, never their values.
 */
export function discordOff(
  c: DiscordConfigSection | undefined,
): { off: string; misconfigured?: boolean } | undefined {
  if (!c?.enabled)
    return {
      off: c?.token
        ? 'chatops.discord.token is set but chatops.discord.enabled is not true'
        : 'not enabled (chatops.discord.enabled)',
    };
  if (!c.token)
    return {
      off: 'chatops.discord.enabled is true but chatops.discord.token is not set (or SQUALL_CHATOPS_DISCORD_TOKEN): the bot token from the Developer Portal → your app → Bot',
      misconfigured: true,
    };
  return undefined;
}
