import { SquallError, type ChatAdapter } from '../../src/chatops/index.js';
import { SlackAdapter } from './adapter.js';
import { slackOff, type SlackConfigSection } from '../settings.js';

export type { SlackConfigSection };

/** A SlackAdapter when chatops.slack is enabled and complete, undefined when not enabled; throws when incomplete. */
export function slackFromConfig(config: {
  chatops: { slack?: SlackConfigSection };
}): ChatAdapter | undefined {
  const c = config.chatops.slack;
  const off = slackOff(c);
  if (off?.misconfigured) throw new SquallError('CHAT_CONFIG_INVALID', off.off, { adapter: 'slack' });
  if (off || !c?.bot_token) return undefined;
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
