import { runAdapterConformance, type ProviderPost } from '../../support/chat-adapter-conformance.js';
import { adapterOnEmulator } from '../../support/chat-emulators.js';
const DM = '1200000000000000900';

runAdapterConformance('discord', async () => {
  const { emulator: discord, adapter } = await adapterOnEmulator('discord');
  const users = [
    { id: '1200000000000000101', name: 'alice' },
    { id: '1200000000000000102', name: 'bob' },
  ];
  const where = (channelId: string) => {
    const ch = discord.channel(channelId);
    return ch?.type === 11 && ch.parent_id
      ? { channel: ch.parent_id, thread: channelId }
      : { channel: channelId };
  };
  const textOf = (m: { content: string; embeds: unknown[] }) =>
    m.content || ((m.embeds[0] as { description?: string } | undefined)?.description ?? '');
  return {
    adapter,
    botName: 'squall',
    channel: discord.defaultChannel,
    users,
    async say(user, text, w = {}) {
      if (w.direct) {
        // discord.js 14.28 needs `channel_type` on a DM's MESSAGE_CREATE, which userSays does not set.
        discord.dispatch('MESSAGE_CREATE', {
          id: snowflake(),
          channel_id: DM,
          channel_type: 1,
          author: { id: user.id, username: user.name, discriminator: '0', avatar: null, global_name: null },
          content: text,
          timestamp: new Date().toISOString(),
          edited_timestamp: null,
          tts: false,
          mention_everyone: false,
          mentions: [],
          mention_roles: [],
          attachments: [],
          embeds: [],
          components: [],
          pinned: false,
          type: 0,
          flags: 0,
        });
        return;
      }
      discord.userSays({
        content: text,
        user: user.id,
        channel: w.direct ? DM : (w.thread ?? discord.defaultChannel),
        ...(w.mention ? { mention: true } : {}),
      });
    },
    async posts() {
      const out: ProviderPost[] = [];
      for (const p of discord.posts.items) {
        const buttons = (p.components as Array<{ components?: Array<{ label?: string }> }>).flatMap(
          (r) => r.components ?? [],
        );
        if (p.attachments.length > 0) continue;
        out.push({
          kind: buttons.length ? 'ask' : 'message',
          messageId: p.id,
          ...where(p.channel_id),
          text: textOf(p),
          ...(buttons.length ? { choices: buttons.map((b) => b.label ?? '') } : {}),
        });
      }
      for (const u of discord.updates.items)
        out.push({ kind: 'update', messageId: u.id, ...where(u.channel_id), text: textOf(u) });
      for (const u of discord.uploads.items)
        out.push({
          kind: 'upload',
          messageId: u.message_id,
          ...where(u.channel_id),
          text: u.data.toString('utf8'),
        });
      return out;
    },
    async press(user, messageId, index) {
      const m = discord.message(messageId)!;
      const buttons = (m.components as Array<{ components?: Array<{ custom_id?: string }> }>).flatMap(
        (r) => r.components ?? [],
      );
      await discord.clickButton({
        custom_id: buttons[index - 1].custom_id!,
        message_id: messageId,
        user: user.id,
      });
    },
    async close() {
      await discord.stop();
    },
  };
});

let counter = 0n;
function snowflake(): string {
  return (((BigInt(Date.now()) - 1420070400000n) << 22n) | (counter++ & 0xfffn)).toString();
}
