import type { DiscordEmulator } from '../../emulators/discord/index.js';

type Button = { label?: string; custom_id?: string };
type Message = { id: string; content: string; embeds: unknown[]; components: unknown[] };

const buttonsOf = (m: { components: unknown[] }) =>
  (m.components as Array<{ components?: Button[] }>).flatMap((row) => row.components ?? []);

/**
 * Discord has no confirm dialog: pressing a button that asks first gets the presser an ephemeral
 * "are you sure?" with two buttons (go ahead, keep). Presses `custom_id` of `message_id` as `user`
 * and resolves with that follow-up.
 */
export async function pressAsking(
  discord: DiscordEmulator,
  input: { message_id: string; custom_id: string; user?: string },
): Promise<Message> {
  const seen = new Set(discord.ephemerals.items);
  const user = input.user ?? discord.defaultUser;
  await discord.clickButton(input);
  return (await discord.ephemerals.waitFor(
    (p) =>
      !seen.has(p) &&
      (p.interaction_metadata as { user?: { id?: string } } | undefined)?.user?.id === user &&
      buttonsOf(p).length === 2,
    10_000,
  )) as unknown as Message;
}

/** Answers an "are you sure?" follow-up: its first button goes ahead, its second keeps things as they are. */
export async function answer(
  discord: DiscordEmulator,
  ask: Message,
  choice: 'confirm' | 'keep',
  user?: string,
): Promise<void> {
  const button = buttonsOf(ask)[choice === 'confirm' ? 0 : 1];
  await discord.clickButton({ message_id: ask.id, custom_id: button.custom_id!, user });
}

/** Presses a button that asks first, then confirms. */
export async function pressAndConfirm(
  discord: DiscordEmulator,
  input: { message_id: string; custom_id: string; user?: string },
): Promise<Message> {
  const ask = await pressAsking(discord, input);
  await answer(discord, ask, 'confirm', input.user);
  return ask;
}
