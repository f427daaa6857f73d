/**
 * The chat transports' config sections and whether each is configured, without their SDKs: the
 * registry (adapters/index.ts) reads them before deciding to load an SDK at all.
 */
import type { DiscordChatConfig, SlackChatConfig } from '../src/chatops/index.js';

/** chatops.slack as the Slack transport reads it (a test may leave defaults out). */
export type SlackConfigSection = Partial<SlackChatConfig>;

/** A setting a transport cannot start without (only in the mode `when` says), and why. */
interface Needed<C> {
  setting: keyof C & string;
  why: string;
  when?: (c: C) => boolean;
}

/**
 * Why a chat transport is not started, or undefined when it is configured: not enabled, or enabled
 * without a token or secret it needs. Names settings, never their values.
 */
function transportOff<C extends { enabled?: boolean }>(
  platform: 'slack' | 'discord',
  c: C | undefined,
  token: keyof C & string,
  needed: Needed<C>[],
): { off: string; misconfigured?: boolean } | undefined {
  const prefix = `chatops.${platform}`;
  if (!c?.enabled)
    return {
      off: c?.[token]
        ? `${prefix}.${token} is set but ${prefix}.enabled is not true`
        : `not enabled (${prefix}.enabled)`,
    };
  const missing = needed.find((n) => (n.when?.(c) ?? true) && !c[n.setting]);
  if (!missing) return undefined;
  const env = `SQUALL_CHATOPS_${platform.toUpperCase()}_${missing.setting.toUpperCase()}`;
  return {
    off: `${prefix}.enabled is true but ${prefix}.${missing.setting} is not set (or ${env}): ${missing.why}`,
    misconfigured: true,
  };
}

export const slackOff = (c: SlackConfigSection | undefined) =>
  transportOff('slack', c, 'bot_token', [
    { setting: 'bot_token', why: 'the Bot User OAuth Token (xoxb-…)' },
    {
      setting: 'app_token',
      why: 'Socket Mode needs an app-level token (xapp-…) with connections:write',
      when: (s) => (s.mode ?? 'socket') === 'socket',
    },
    { setting: 'signing_secret', why: 'HTTP mode verifies requests with it', when: (s) => s.mode === 'http' },
  ]);

/** chatops.discord as the Discord transport reads it (a test may leave defaults out). */
export type DiscordConfigSection = Partial<DiscordChatConfig>;

export const discordOff = (c: DiscordConfigSection | undefined) =>
  transportOff('discord', c, 'token', [
    { setting: 'token', why: 'the bot token from the Developer Portal → your app → Bot' },
  ]);
