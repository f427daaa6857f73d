import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../../adapters/discord/index.js';
import type { ChatForm, FormOutcome } from '../../../src/chatops/index.js';
import { DiscordEmulator } from '../../emulators/discord/index.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const FORM: ChatForm = {
  title: 'Run core.local',
  submit: 'Run',
  context: JSON.stringify({ a: 'core.local', c: '1200000000000000010' }),
  fields: [{ name: 'cmd', label: 'cmd', kind: 'text', required: true, hint: 'string' }],
};

/**
 * Discord drops an interaction whose first answer comes after 3 s (404 Unknown interaction, 10062;
 * the emulator refuses it the same way). A form submission that takes longer to validate and
 * start (a slow store) must still be answered: the adapter defers it, then answers.
 */
describe('Discord adapter: a form submission slower than the 3 s window', () => {
  let discord: DiscordEmulator;
  let adapter: DiscordAdapter;
  let outcome: FormOutcome;
  const errors: string[] = [];

  beforeEach(async () => {
    discord = await new DiscordEmulator().start();
    adapter = new DiscordAdapter({
      token: discord.botToken,
      apiUrl: discord.apiUrl,
      guildId: discord.guildId,
      retries: 0,
      waitGuildTimeout: 2000,
      logger: { ...quiet, error: (_o, msg) => void errors.push(msg) },
    });
    adapter.onMessage(() => undefined);
    adapter.onButton(() => undefined);
    adapter.onForm({
      open: () => Promise.resolve({ form: FORM }),
      // Slower than Discord's window.
      submit: () => new Promise((resolve) => setTimeout(() => resolve(outcome), 3_500)),
    });
    await adapter.connect();
  });

  afterEach(async () => {
    await adapter.disconnect();
    await discord.stop();
    expect(discord.errors).toEqual([]);
    expect(errors).toEqual([]);
  });

  const openAndSubmit = async () => {
    const opened = await discord.slashCommand({ name: 'squall', options: { command: 'run core.local' } });
    expect(opened.type).toBe(9);
    const modal = await discord.modals.waitFor(() => true);
    return discord.submitModal({ modal, values: { cmd: 'date' } });
  };

  it('accepted: deferred (ephemeral) within the window, then "Running it…"', async () => {
    outcome = {};
    const first = await openAndSubmit();
    expect(first).toMatchObject({ type: 5, data: { flags: 64 } });
    await discord.waitForEphemeral((e) => e.content === 'Running it…', 5_000);
    expect(discord.calls.items.filter((c) => c.status === 404)).toEqual([]);
  }, 20_000);

  it('refused: deferred within the window, then the errors privately with Fill in…', async () => {
    outcome = { errors: { cmd: 'must not be "date"' }, retry: FORM };
    const first = await openAndSubmit();
    expect(first).toMatchObject({ type: 5, data: { flags: 64 } });
    const answer = await discord.waitForEphemeral((e) => JSON.stringify(e).includes('must not be'), 5_000);
    expect(JSON.stringify(answer.components)).toContain('Fill in…');
    expect(discord.posts.items).toEqual([]);
  }, 20_000);
});
