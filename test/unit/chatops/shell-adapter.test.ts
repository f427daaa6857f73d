import { ShellAdapter, type ShellEvent } from '../../../adapters/shell/index.js';
import { runAdapterConformance, type ProviderPost } from '../../support/chat-adapter-conformance.js';

function asPost(e: ShellEvent): ProviderPost | null {
  switch (e.type) {
    case 'message':
      return e.from === 'squall'
        ? { kind: 'message', messageId: e.id, channel: e.channel, thread: e.thread, text: e.text }
        : null;
    case 'update':
      return { kind: 'update', messageId: e.id, channel: e.channel, text: e.text };
    case 'upload':
      return { kind: 'upload', messageId: e.id, channel: e.channel, thread: e.thread, text: e.content };
    case 'ask':
      return {
        kind: 'ask',
        messageId: e.id,
        channel: e.channel,
        thread: e.thread,
        text: e.question,
        choices: e.choices.map((c) => c.label),
      };
    case 'reaction':
      return null;
  }
}

runAdapterConformance('shell', async () => {
  const adapter = new ShellAdapter();
  return {
    adapter,
    botName: 'squall',
    channel: 'general',
    users: [
      { id: 'alice', name: 'alice' },
      { id: 'bob', name: 'bob' },
    ],
    async say(user, text, where = {}) {
      await adapter.say(user, where.mention ? `@squall ${text}` : text, {
        channel: 'general',
        thread: where.thread,
        isDirect: where.direct,
      });
    },
    async posts() {
      return adapter.transcript().flatMap((e) => asPost(e) ?? []);
    },
    press: (user, messageId, index) => adapter.press(user, messageId, index),
    async close() {},
  };
});
