import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ButtonPress, ChatAdapter, ChatUser, IncomingMessage } from '../../src/chatops/index.js';

/** What the provider (Slack emulator, Discord emulator, terminal) saw the adapter do. */
export interface ProviderPost {
  kind: 'message' | 'update' | 'upload' | 'ask';
  messageId: string;
  channel: string;
  thread?: string;
  text: string;
  /** Button labels of an `ask`. */
  choices?: string[];
}

/**
 * Drives one adapter against its provider. The adapter under test must be the real one; the
 * harness plays the people on the other side.
 */
export interface ChatAdapterHarness {
  adapter: ChatAdapter;
  /** The bot's name as people mention it ("@squall"). */
  botName: string;
  /** A channel the bot can read and post in. */
  channel: string;
  /** People who may speak; the first two are used. */
  users: ChatUser[];
  /** A person posts `text` (top level, or in `thread`, or as a direct message); resolves when it was delivered. */
  say(
    user: ChatUser,
    text: string,
    where?: { thread?: string; direct?: boolean; mention?: boolean },
  ): Promise<void>;
  /** Everything the adapter did on the provider, oldest first. */
  posts(): Promise<ProviderPost[]>;
  /** A person presses the n-th (1-based) button under message `messageId`. */
  press(user: ChatUser, messageId: string, index: number): Promise<void>;
  /** Stops the provider (emulator) and anything else the harness started. */
  close(): Promise<void>;
}

async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The ChatAdapter contract (src/chatops/README.md) as tests: every adapter's test file calls
 * `runAdapterConformance('slack', makeHarness)`.
 */
export function runAdapterConformance(name: string, makeHarness: () => Promise<ChatAdapterHarness>): void {
  describe(`chat adapter conformance: ${name}`, () => {
    let h: ChatAdapterHarness;
    const messages: IncomingMessage[] = [];
    const presses: ButtonPress[] = [];

    beforeAll(async () => {
      h = await makeHarness();
      h.adapter.onMessage((m) => {
        messages.push(m);
      });
      h.adapter.onButton((p) => {
        presses.push(p);
      });
      await h.adapter.connect();
    }, 60_000);
    afterAll(async () => {
      await h?.adapter.disconnect();
      await h?.close();
    });

    const lastFrom = (user: ChatUser, text: string) =>
      eventually(
        () => messages.find((m) => m.user.id === user.id && m.text.includes(text)),
        `message "${text}"`,
      );

    it('has a lower-case name and a positive message limit', () => {
      expect(h.adapter.name).toBe(name);
      expect(h.adapter.name).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(h.adapter.capabilities.maxMessageLength).toBeGreaterThan(100);
    });

    it('delivers a channel message with the speaker, channel and a message id, not addressed to the bot', async () => {
      const [u] = h.users;
      await h.say(u, 'conformance plain words');
      const m = await lastFrom(u, 'conformance plain words');
      expect(m.user).toMatchObject({ id: u.id, name: u.name });
      expect(m.channel).toBe(h.channel);
      expect(m.messageId).toBeTruthy();
      expect(m.isDirect).toBe(false);
      expect(m.mentionsBot).toBe(false);
      expect(m.fromBot ?? false).toBe(false);
    });

    it('marks a mention of the bot and strips the mention from the text', async () => {
      const [u] = h.users;
      await h.say(u, 'conformance mention check', { mention: true });
      const m = await lastFrom(u, 'conformance mention check');
      expect(m.mentionsBot).toBe(true);
      expect(m.text.trim()).toBe('conformance mention check');
    });

    it('marks a direct message', async () => {
      const [, v] = h.users;
      await h.say(v, 'conformance direct', { direct: true });
      const m = await lastFrom(v, 'conformance direct');
      expect(m.isDirect).toBe(true);
    });

    it('posts, replies in the thread of a message, and keeps the thread of a threaded message', async () => {
      const [u] = h.users;
      await h.say(u, 'conformance thread root');
      const root = await lastFrom(u, 'conformance thread root');
      const posted = await h.adapter.post({
        channel: root.channel,
        thread: root.messageId,
        text: 'conformance reply',
      });
      expect(posted.messageId).toBeTruthy();
      expect(posted.thread).toBe(root.messageId);
      const seen = await eventually(
        async () =>
          (await h.posts()).find((p) => p.kind === 'message' && p.text.includes('conformance reply')),
        'the reply on the provider',
      );
      expect(seen.channel).toBe(root.channel);
      expect(seen.thread).toBe(root.messageId);

      await h.say(u, 'conformance in thread', { thread: root.messageId });
      const inThread = await lastFrom(u, 'conformance in thread');
      expect(inThread.thread).toBe(root.messageId);

      const top = await h.adapter.post({ channel: h.channel, text: 'conformance top level' });
      expect(top.thread).toBeTruthy();
    });

    it('edits a posted message when it can', async () => {
      if (!h.adapter.capabilities.updates) return;
      const posted = await h.adapter.post({ channel: h.channel, text: 'conformance before edit' });
      await h.adapter.update({
        channel: h.channel,
        messageId: posted.messageId,
        text: 'conformance after edit',
      });
      const seen = await eventually(
        async () => (await h.posts()).find((p) => p.kind === 'update' && p.messageId === posted.messageId),
        'the edit on the provider',
      );
      expect(seen.text).toBe('conformance after edit');
    });

    it('uploads long text as a file in a thread when it can', async () => {
      if (!h.adapter.capabilities.uploads) return;
      const root = await h.adapter.post({ channel: h.channel, text: 'conformance upload root' });
      const content = 'line\n'.repeat(2000);
      await h.adapter.uploadText({
        channel: h.channel,
        thread: root.thread,
        filename: 'out.txt',
        content,
        title: 'Output',
      });
      const seen = await eventually(
        async () => (await h.posts()).find((p) => p.kind === 'upload' && p.thread === root.thread),
        'the upload on the provider',
      );
      expect(seen.text).toBe(content);
    });

    it('asks with buttons and reports a press with the payload, value and who pressed', async () => {
      if (!h.adapter.capabilities.buttons) return;
      const [, v] = h.users;
      const asked = await h.adapter.ask({
        channel: h.channel,
        question: 'conformance: continue?',
        choices: [
          { label: 'Yes', value: 'yes-value', style: 'primary' },
          { label: 'No', value: 'no-value', style: 'danger' },
        ],
        payload: 'inquiry-123',
      });
      const seen = await eventually(
        async () => (await h.posts()).find((p) => p.kind === 'ask' && p.messageId === asked.messageId),
        'the question on the provider',
      );
      expect(seen.choices).toEqual(['Yes', 'No']);
      await h.press(v, asked.messageId, 2);
      const press = await eventually(
        () => presses.find((p) => p.payload === 'inquiry-123'),
        'the button press',
      );
      expect(press).toMatchObject({ value: 'no-value', messageId: asked.messageId, channel: h.channel });
      expect(press.user.id).toBe(v.id);
    });

    it('reports a press with its whole payload when the payload is long', async () => {
      if (!h.adapter.capabilities.buttons) return;
      const [u] = h.users;
      // Longer than Slack's 255-character block_id and Discord's 100-character custom_id (a "Fill
      // in…" carries a form context of this size for a long action ref and alias).
      const payload = `long-${JSON.stringify({ a: `pack.${'a'.repeat(240)}`, l: 'an_alias', c: h.channel })}`;
      const asked = await h.adapter.ask({
        channel: h.channel,
        question: 'conformance: fill it in?',
        choices: [{ label: 'Fill in…', value: 'fill' }],
        payload,
      });
      await eventually(
        async () => (await h.posts()).find((p) => p.kind === 'ask' && p.messageId === asked.messageId),
        'the question on the provider',
      );
      await h.press(u, asked.messageId, 1);
      const press = await eventually(
        () => presses.find((p) => p.messageId === asked.messageId),
        'the button press',
      );
      expect(press.payload).toBe(payload);
      expect(press.value).toBe('fill');
    });

    it('looks up a user who spoke, and answers null for an unknown id', async () => {
      const [u] = h.users;
      const found = await h.adapter.lookupUser(u.id);
      expect(found).toMatchObject({ id: u.id, name: u.name });
      expect(await h.adapter.lookupUser('no-such-user-conformance')).toBeNull();
    });
  });
}
