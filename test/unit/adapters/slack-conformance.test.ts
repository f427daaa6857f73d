import { runAdapterConformance, type ProviderPost } from '../../support/chat-adapter-conformance.js';
import type { SlackEmulator } from '../../emulators/slack/index.js';
import { adapterOnEmulator } from '../../support/chat-emulators.js';

runAdapterConformance('slack', async () => {
  // Many posts in one channel meet Slack's rate limit (emulated): the client waits and retries.
  const { emulator: slack, adapter } = await adapterOnEmulator('slack', { adapter: { retries: 10 } });
  const users = [
    { id: 'U0ALICE', name: 'alice' },
    { id: 'U0BOB', name: 'bob' },
  ];
  return {
    adapter,
    botName: 'squall',
    channel: slack.defaultChannel,
    users,
    async say(user, text, where = {}) {
      await slack.userSays({
        text,
        user: user.id,
        channel: where.direct ? (user.id === 'U0ALICE' ? 'D0ALICE' : await dmOf(slack, user.id)) : undefined,
        ...(where.thread ? { thread_ts: where.thread } : {}),
        ...(where.mention ? { mention: true } : {}),
      });
    },
    async posts() {
      const out: ProviderPost[] = [];
      for (const p of slack.posts.items) {
        if (p.via === 'files.completeUploadExternal') continue;
        const actions = (p.blocks ?? []).find((b) => (b as { type: string }).type === 'actions') as
          { elements: Array<{ text: { text: string } }> } | undefined;
        out.push({
          kind: actions ? 'ask' : 'message',
          messageId: p.ts,
          channel: p.channel,
          ...(p.thread_ts ? { thread: p.thread_ts } : {}),
          text: p.text,
          ...(actions ? { choices: actions.elements.map((e) => e.text.text) } : {}),
        });
      }
      for (const u of slack.updates.items)
        out.push({ kind: 'update', messageId: u.ts, channel: u.channel, text: u.text });
      for (const u of slack.uploads.items)
        if (u.completed)
          out.push({
            kind: 'upload',
            messageId: u.file_id,
            channel: u.channel_id ?? '',
            ...(u.thread_ts ? { thread: u.thread_ts } : {}),
            text: u.data?.toString('utf8') ?? '',
          });
      return out;
    },
    async press(user, messageId, index) {
      await slack.clickButton({ action_id: `squall:${index - 1}`, message_ts: messageId, user: user.id });
    },
    async close() {
      await slack.stop();
    },
  };
});

async function dmOf(slack: SlackEmulator, user: string): Promise<string> {
  const id = `D0${user.slice(2)}`;
  slack.addChannel({ id, name: id, is_im: true, user });
  return id;
}
