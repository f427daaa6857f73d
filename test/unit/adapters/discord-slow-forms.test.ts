import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DiscordAdapter } from '../../../adapters/discord/index.js';
import {
  FORM_PAYLOAD_PREFIX,
  type ButtonPress,
  type ChatForm,
  type ChatStateStore,
  type FormOutcome,
  type FormReply,
} from '../../../src/chatops/index.js';
import { DiscordEmulator } from '../../emulators/discord/index.js';
import { adapterOnEmulator, discordAdapterFor, quietLogger } from '../../support/chat-emulators.js';

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
    ({ emulator: discord, adapter } = await adapterOnEmulator('discord', {
      adapter: { logger: { ...quietLogger, error: (_o, msg) => void errors.push(msg) } },
    }));
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

/** The chat state store, with reads as slow as `readMs` (a store under load, far away). */
class SlowStore implements ChatStateStore {
  readMs = 0;
  writeMs = 0;
  private readonly values = new Map<string, string>();
  async put(key: string, value: unknown): Promise<void> {
    const json = JSON.stringify(value);
    if (this.writeMs) await new Promise((resolve) => setTimeout(resolve, this.writeMs));
    this.values.set(key, json);
  }
  async get(key: string): Promise<unknown> {
    await new Promise((resolve) => setTimeout(resolve, this.readMs));
    const v = this.values.get(key);
    return v === undefined ? null : (JSON.parse(v) as unknown);
  }
  async take(key: string): Promise<unknown> {
    const v = await this.get(key);
    this.values.delete(key);
    return v;
  }
}

/**
 * Discord takes an interaction's first answer within 3 s (404 Unknown interaction, 10062, after;
 * the emulator refuses a late callback the same way), and a modal cannot be deferred. A button
 * press whose value must be read from a slow store, and a "Fill in…" whose form is slow to build,
 * must still be answered in time.
 */
describe('Discord adapter: button presses slower than the 3 s window', () => {
  let discord: DiscordEmulator;
  let store: SlowStore;
  let adapter: DiscordAdapter;
  let openMs: number;
  const presses: ButtonPress[] = [];
  const submitted: unknown[] = [];
  const errors: string[] = [];

  const newAdapter = async () => {
    // A new adapter on the same emulator (a restart keeps the platform).
    const a = discordAdapterFor(discord, {
      logger: { ...quietLogger, error: (o, msg) => void errors.push(`${msg} ${JSON.stringify(o)}`) },
    });
    a.useState(store);
    a.onMessage(() => undefined);
    a.onButton((p) => void presses.push(p));
    a.onForm({
      open: () => new Promise<FormReply>((resolve) => setTimeout(() => resolve({ form: FORM }), openMs)),
      submit: (submission) => {
        submitted.push(submission);
        return Promise.resolve({});
      },
    });
    await a.connect();
    return a;
  };

  beforeEach(async () => {
    presses.length = 0;
    submitted.length = 0;
    errors.length = 0;
    openMs = 0;
    discord = await new DiscordEmulator().start();
    store = new SlowStore();
    adapter = await newAdapter();
  });

  afterEach(async () => {
    await adapter.disconnect();
    await discord.stop();
    expect(discord.errors).toEqual([]);
    expect(errors).toEqual([]);
  });

  /** A question posted, then this process restarted: the press must read the long value back. */
  const askThenRestart = async (payload: string, value: string) => {
    const posted = await adapter.ask({
      channel: discord.defaultChannel,
      question: 'Go ahead?',
      payload,
      choices: [{ label: 'Yes', value, style: 'primary' }],
    });
    await adapter.disconnect();
    store.readMs = 3_500;
    adapter = await newAdapter();
    return discord.message(posted.messageId)!;
  };

  const customIdOf = (m: { components?: unknown[] }) =>
    (m.components as Array<{ components: Array<{ custom_id: string }> }>)[0]!.components[0]!.custom_id;

  it('a modal submitted before its context is written (a slow store) is handled with that context', async () => {
    store.writeMs = 1_000;
    const opened = await discord.slashCommand({ name: 'squall', options: { command: 'run core.local' } });
    expect(opened.type).toBe(9);
    const modal = await discord.modals.waitFor(() => true);
    await discord.submitModal({ modal, values: { cmd: 'date' } });
    expect(submitted).toHaveLength(1);
  }, 20_000);

  it('a long value read from a slow store: the press is deferred in time, then handled', async () => {
    const payload = `inquiry:${'x'.repeat(120)}`;
    const message = await askThenRestart(payload, 'yes');
    const answer = await discord.clickButton({ custom_id: customIdOf(message), message_id: message.id });
    expect(answer.type).toBe(6);
    await expect.poll(() => presses.length, { timeout: 6_000 }).toBe(1);
    expect(presses[0]).toMatchObject({ payload, value: 'yes', messageId: message.id });
    expect(discord.calls.items.filter((c) => c.status === 404)).toEqual([]);
  }, 30_000);

  it('a "Fill in…" read from a slow store: deferred, then a Fill in… that opens the form at once', async () => {
    const message = await askThenRestart(`${FORM_PAYLOAD_PREFIX}${FORM.context}${' '.repeat(60)}`, 'fill');
    const answer = await discord.clickButton({ custom_id: customIdOf(message), message_id: message.id });
    expect(answer.type).toBe(6);
    const again = await discord.waitForEphemeral((e) => e.content.includes('press Fill in… again'), 6_000);
    const modal = await discord.clickButton({ custom_id: customIdOf(again), message: again });
    expect(modal).toMatchObject({ type: 9, data: { title: 'Run core.local' } });
    expect(presses).toEqual([]);
  }, 30_000);

  it('a form slower to build than the window: answered privately, then a Fill in… that opens it', async () => {
    openMs = 3_500;
    const posted = await adapter.ask({
      channel: discord.defaultChannel,
      question: 'Fill in?',
      payload: `${FORM_PAYLOAD_PREFIX}{}`,
      choices: [{ label: 'Fill in…', value: 'x' }],
    });
    const message = discord.message(posted.messageId)!;
    const first = await discord.clickButton({ custom_id: customIdOf(message), message_id: message.id });
    expect(first).toMatchObject({ type: 4, data: { flags: 64 } });
    const ready = await discord.waitForEphemeral((e) => e.content.includes('is ready'), 6_000);
    const modal = await discord.clickButton({ custom_id: customIdOf(ready), message: ready });
    expect(modal).toMatchObject({ type: 9, data: { title: 'Run core.local' } });
  }, 30_000);

  it('"/squall run" with a form slower to build than the window: the same', async () => {
    openMs = 3_500;
    const first = await discord.slashCommand({ name: 'squall', options: { command: 'run core.local' } });
    expect(first).toMatchObject({ type: 4, data: { flags: 64 } });
    const ready = await discord.waitForEphemeral((e) => e.content.includes('is ready'), 6_000);
    const modal = await discord.clickButton({ custom_id: customIdOf(ready), message: ready });
    expect(modal).toMatchObject({ type: 9, data: { title: 'Run core.local' } });
  }, 30_000);
});
