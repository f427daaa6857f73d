/**
 * Why a chat transport does not start, as an operator reads it in the health route and the log:
 * each names the setting (and its environment variable) and never a value.
 */
import { describe, expect, it } from 'vitest';
import { discordOff, slackOff } from '../../../adapters/settings.js';

describe('a chat transport that is not started says why', () => {
  it('Slack: not enabled, a token set without enabling it, and each setting its mode needs', () => {
    expect(slackOff(undefined)).toEqual({ off: 'not enabled (chatops.slack.enabled)' });
    expect(slackOff({ bot_token: 'xoxb-secret' })).toEqual({
      off: 'chatops.slack.bot_token is set but chatops.slack.enabled is not true',
    });
    expect(slackOff({ enabled: true })).toEqual({
      off: 'chatops.slack.enabled is true but chatops.slack.bot_token is not set (or SQUALL_CHATOPS_SLACK_BOT_TOKEN): the Bot User OAuth Token (xoxb-…)',
      misconfigured: true,
    });
    expect(slackOff({ enabled: true, bot_token: 'xoxb-secret' })?.off).toContain(
      'chatops.slack.app_token is not set (or SQUALL_CHATOPS_SLACK_APP_TOKEN): Socket Mode needs',
    );
    expect(slackOff({ enabled: true, bot_token: 'xoxb-secret', mode: 'http' })?.off).toContain(
      'chatops.slack.signing_secret is not set (or SQUALL_CHATOPS_SLACK_SIGNING_SECRET): HTTP mode',
    );
    expect(slackOff({ enabled: true, bot_token: 'xoxb-secret', app_token: 'xapp-secret' })).toBeUndefined();
    expect(
      slackOff({ enabled: true, bot_token: 'xoxb-secret', mode: 'http', signing_secret: 's3cret' }),
    ).toBeUndefined();
  });

  it('Discord: not enabled, a token set without enabling it, and the token missing', () => {
    expect(discordOff({})).toEqual({ off: 'not enabled (chatops.discord.enabled)' });
    expect(discordOff({ token: 'secret' })).toEqual({
      off: 'chatops.discord.token is set but chatops.discord.enabled is not true',
    });
    expect(discordOff({ enabled: true })).toEqual({
      off: 'chatops.discord.enabled is true but chatops.discord.token is not set (or SQUALL_CHATOPS_DISCORD_TOKEN): the bot token from the Developer Portal → your app → Bot',
      misconfigured: true,
    });
    expect(discordOff({ enabled: true, token: 'secret' })).toBeUndefined();
  });

  it('never puts a value in the reason', () => {
    const value = 'VALUE-OF-THE-TOKEN';
    const reasons = [
      slackOff({ bot_token: value }),
      slackOff({ enabled: true, bot_token: value }),
      slackOff({ enabled: true, bot_token: value, app_token: value, mode: 'http' }),
      discordOff({ token: value }),
    ].map((r) => r?.off);
    expect(reasons.every((r) => typeof r === 'string' && !r.includes(value))).toBe(true);
  });
});
