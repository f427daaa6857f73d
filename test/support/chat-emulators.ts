import { DiscordAdapter, type DiscordAdapterOptions } from '../../adapters/discord/index.js';
import { SlackAdapter, type SlackAdapterOptions } from '../../adapters/slack/index.js';
import { DiscordEmulator, type DiscordEmulatorOptions } from '../emulators/discord/index.js';
import { SlackEmulator, type SlackEmulatorOptions } from '../emulators/slack/index.js';
import { expect } from 'vitest';
import { SquallError } from '../../src/errors.js';

/** A chat adapter's logger that says nothing (a test passes its own to see errors). */
export const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Squall's Slack adapter in Socket Mode (the real @slack/bolt) on `slack`: its tokens and Web API,
 * no retries (an emulator error does not stall a test), quiet; `options` change any of that.
 */
export function slackAdapterFor(
  slack: SlackEmulator,
  options: Partial<SlackAdapterOptions> = {},
): SlackAdapter {
  return new SlackAdapter({
    mode: 'socket',
    botToken: slack.botToken,
    appToken: slack.appToken,
    apiUrl: slack.apiUrl,
    retries: 0,
    logger: quietLogger,
    ...options,
  });
}

/** Squall's Discord adapter (the real discord.js) on `discord`: its token, REST and guild, quiet; `options` change any of that. */
export function discordAdapterFor(
  discord: DiscordEmulator,
  options: Partial<DiscordAdapterOptions> = {},
): DiscordAdapter {
  return new DiscordAdapter({
    token: discord.botToken,
    apiUrl: discord.apiUrl,
    guildId: discord.guildId,
    retries: 0,
    waitGuildTimeout: 2000,
    logger: quietLogger,
    ...options,
  });
}

type Given<E, A> = { emulator?: E; adapter?: Partial<A> | ((emulator: Emulated<E>) => Partial<A>) };
type Emulated<E> = E extends SlackEmulatorOptions ? SlackEmulator : DiscordEmulator;

/**
 * A platform's emulator, started, and Squall's adapter for it (not connected: a test may wire
 * handlers or expect connect() to fail). `adapter` options may depend on the emulator (its tokens).
 */
export async function adapterOnEmulator(
  platform: 'slack',
  options?: Given<SlackEmulatorOptions, SlackAdapterOptions>,
): Promise<{ emulator: SlackEmulator; adapter: SlackAdapter }>;
export async function adapterOnEmulator(
  platform: 'discord',
  options?: Given<DiscordEmulatorOptions, DiscordAdapterOptions>,
): Promise<{ emulator: DiscordEmulator; adapter: DiscordAdapter }>;
export async function adapterOnEmulator(
  platform: 'slack' | 'discord',
  options: { emulator?: object; adapter?: object | ((emulator: never) => object) } = {},
): Promise<{ emulator: SlackEmulator | DiscordEmulator; adapter: SlackAdapter | DiscordAdapter }> {
  const given = (emulator: SlackEmulator | DiscordEmulator): object =>
    typeof options.adapter === 'function' ? options.adapter(emulator as never) : (options.adapter ?? {});
  if (platform === 'slack') {
    const emulator = await new SlackEmulator(options.emulator as SlackEmulatorOptions).start();
    return { emulator, adapter: slackAdapterFor(emulator, given(emulator) as Partial<SlackAdapterOptions>) };
  }
  const emulator = await new DiscordEmulator(options.emulator as DiscordEmulatorOptions).start();
  return {
    emulator,
    adapter: discordAdapterFor(emulator, given(emulator) as Partial<DiscordAdapterOptions>),
  };
}

/** The SquallError `work` (a connect, a post) is refused with; fails the test when it is not refused so. */
export async function refusalOf(work: Promise<unknown>): Promise<SquallError> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SquallError);
  return err as SquallError;
}
