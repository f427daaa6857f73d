import { SquallError, type ChatAdapter } from '../../src/chatops/index.js';
import { SlackAdapter } from './adapter.js';

/** The subset of Squall's config this transport reads (chatops.slack). */
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

/** The registry factory: a SlackAdapter when chatops.slack.enabled, else undefined. */
export function slackFromConfig(config: {
  chatops: { slack?: SlackConfigSection };
}): ChatAdapter | undefined {
  const c = config.chatops.slack;
  if (!c?.enabled) return undefined;
  if (!c.bot_token)
    throw new SquallError(
      'CHAT_CONFIG_INVALID',
      'chatops.slack.bot_token is required when chatops.slack.enabled is true (or set SQUALL_CHATOPS_SLACK_BOT_TOKEN)',
      { adapter: 'slack' },
    );
  return new SlackAdapter({
    mode: c.mode ?? 'socket',
    botToken: c.bot_token,
    ...(c.app_token ? { appToken: c.app_token } : {}),
    ...(c.signing_secret ? { signingSecret: c.signing_secret } : {}),
    slashCommand: c.slash_command ?? '/squall',
    ...(c.api_url ? { apiUrl: c.api_url } : {}),
    eventsPath: c.events_path ?? '/slack/events',
    port: c.port ?? 3000,
  });
}
