import { once } from 'node:events';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  type Message,
} from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscordEmulator } from '../../emulators/discord/index.js';
import { waitFor } from '../../support/wait.js';

/**
 * The unmodified discord.js Client pointed at the Discord emulator: REST through `rest.api`, the
 * gateway through the URL GET /gateway/bot returns. Each test is a person/bot conversation.
 */
describe('Discord emulator with discord.js', () => {
  let discord: DiscordEmulator;
  let client: Client;
  let clientErrors: Error[];
  /** Messages from people (not the bot's own echoes), in the order discord.js emitted them. */
  let heard: Message[];

  beforeEach(async () => {
    discord = await new DiscordEmulator({ heartbeatIntervalMs: 1_000 }).start();
    client = newClient(discord);
    clientErrors = [];
    heard = [];
    client.on('error', (err) => clientErrors.push(err));
    client.on(Events.MessageCreate, (message) => {
      if (!message.author.bot) heard.push(message);
    });
    const ready = once(client, Events.ClientReady);
    await client.login(discord.botToken);
    await ready;
  });

  afterEach(async () => {
    await client.destroy();
    await discord.stop();
    expect(clientErrors).toEqual([]);
    expect(discord.errors).toEqual([]);
  });

  it('delivers a message to messageCreate; the bot opens a thread from it and posts inside', async () => {
    client.on(Events.MessageCreate, async (message) => {
      if (message.author.bot) return;
      const thread = await message.startThread({ name: `exec: ${message.content}` });
      await thread.send(`started ${message.content}`);
    });

    const said = discord.userSays({ content: 'deploy api' });
    const post = await discord.waitForPost((p) => p.channel_id === said);

    expect(heard.map((m) => [m.content, m.author.username, m.channelId])).toEqual([
      ['deploy api', 'alice', discord.defaultChannel],
    ]);
    // A thread started from a message has the message's id.
    expect(discord.channel(said)).toMatchObject({
      type: 11,
      parent_id: discord.defaultChannel,
      name: 'exec: deploy api',
    });
    expect(post).toMatchObject({
      via: 'channel',
      content: 'started deploy api',
      author: { id: discord.botUserId },
    });
    expect(discord.channelMessages(said).map((m) => m.content)).toEqual(['started deploy api']);
  });

  it('sees a person’s reply inside the thread the bot opened', async () => {
    const ops = client.channels.cache.get(discord.defaultChannel);
    if (!ops?.isSendable() || ops.isDMBased() || !ops.isTextBased())
      throw new Error('ops channel missing from the cache');
    const root = await ops.send('execution 7 running');
    const thread = await root.startThread({ name: 'execution 7' });

    discord.userSays({ content: 'how long?', channel: thread.id, user: '1200000000000000102' });
    await waitFor(() => heard.length === 1, 'the thread reply to reach messageCreate');

    expect(heard[0].channelId).toBe(thread.id);
    expect(heard[0].channel.isThread()).toBe(true);
    expect(heard[0].author.username).toBe('bob');
  });

  it('records an edit of the bot’s message for waitForUpdate', async () => {
    client.on(Events.MessageCreate, async (message) => {
      if (message.author.bot) return;
      const reply = await message.reply('running…');
      await reply.edit('succeeded in 3s');
    });

    const said = discord.userSays({ content: 'run core.local' });
    const update = await discord.waitForUpdate((u) => u.via === 'edit');

    const reply = discord.message(update.id);
    expect(update.content).toBe('succeeded in 3s');
    expect(reply?.message_reference).toMatchObject({ message_id: said });
    expect(discord.posts.items.map((p) => p.content)).toEqual(['running…']);
  });

  it('registers guild slash commands and answers a slash command with reply() and with deferReply()+editReply()', async () => {
    await client.application?.commands.set(
      [
        {
          name: 'run',
          description: 'Run an action',
          options: [{ name: 'action', description: 'ref', type: 3, required: true }],
        },
        { name: 'status', description: 'Squall status' },
      ],
      discord.guildId,
    );
    client.on(Events.InteractionCreate, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      if (interaction.commandName === 'run') {
        await interaction.reply(
          `running ${interaction.options.getString('action', true)} for ${interaction.user.username}`,
        );
      } else {
        await interaction.deferReply();
        await interaction.editReply('all services up');
      }
    });

    const run = await discord.slashCommand({ name: 'run', options: { action: 'core.local' } });
    const status = await discord.slashCommand({ name: 'status', user: '1200000000000000102' });
    await discord.waitForPost((p) => p.content === 'all services up');

    expect(discord.registeredCommands.map((c) => [c.name, c.guild_id])).toEqual([
      ['run', discord.guildId],
      ['status', discord.guildId],
    ]);
    expect(run).toMatchObject({ type: 4, data: { content: 'running core.local for alice' } });
    expect(status.type).toBe(5);
    expect(discord.posts.items.map((p) => [p.via, p.content])).toEqual([
      ['interaction', 'running core.local for alice'],
      ['interaction', 'all services up'],
    ]);
  });

  it('delivers a button click as an interaction; update() changes the message and followUp() is ephemeral', async () => {
    const ops = client.channels.cache.get(discord.defaultChannel);
    if (!ops?.isSendable()) throw new Error('ops channel missing from the cache');
    const approval = await ops.send({
      content: 'Approve deploy of api?',
      components: [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('approve:req-1').setLabel('Approve').setStyle(ButtonStyle.Success),
          new ButtonBuilder().setCustomId('reject:req-1').setLabel('Reject').setStyle(ButtonStyle.Danger),
        ),
      ],
    });
    const clicks: string[] = [];
    client.on(Events.InteractionCreate, async (interaction) => {
      if (!interaction.isButton()) return;
      clicks.push(`${interaction.customId} by ${interaction.user.username} on ${interaction.message.id}`);
      await interaction.update({ content: `Approved by ${interaction.user.username}`, components: [] });
      await interaction.followUp({ content: 'recorded your approval', flags: MessageFlags.Ephemeral });
    });

    const response = await discord.clickButton({ message_id: approval.id, custom_id: 'approve:req-1' });
    const update = await discord.waitForUpdate((u) => u.id === approval.id);
    const ephemeral = await discord.waitForEphemeral();

    expect(clicks).toEqual([`approve:req-1 by alice on ${approval.id}`]);
    expect(response.type).toBe(7);
    expect(update).toMatchObject({ via: 'interaction_update', content: 'Approved by alice', components: [] });
    expect(ephemeral.content).toBe('recorded your approval');
    expect(() => discord.clickButton({ message_id: approval.id, custom_id: 'escalate:req-1' })).toThrow(
      /no button/,
    );
  });

  it('records an attachment upload with its bytes and serves it back at the attachment URL', async () => {
    const ops = client.channels.cache.get(discord.defaultChannel);
    if (!ops?.isSendable()) throw new Error('ops channel missing from the cache');
    const sent = await ops.send({
      content: 'full output attached',
      files: [
        new AttachmentBuilder(Buffer.from('line 1\nline 2\n'), { name: 'stdout.txt', description: 'stdout' }),
      ],
    });

    const upload = await discord.waitForUpload((u) => u.filename === 'stdout.txt');

    expect(upload.data.toString('utf8')).toBe('line 1\nline 2\n');
    expect(upload).toMatchObject({ message_id: sent.id, description: 'stdout' });
    const attachment = sent.attachments.first();
    expect(attachment?.name).toBe('stdout.txt');
    const downloaded = await fetch(attachment?.url ?? '');
    expect(await downloaded.text()).toBe('line 1\nline 2\n');
  });

  it('resumes after the gateway drops: a message sent while disconnected arrives once, none are lost', async () => {
    discord.userSays({ content: 'one' });
    await waitFor(() => heard.length === 1, 'message one');

    discord.disconnect();
    discord.userSays({ content: 'two' });
    await discord.gateway.waitFor((e) => e.kind === 'resume', 15_000);
    await waitFor(() => heard.length === 2, 'message two after the resume');
    discord.userSays({ content: 'three' });
    await waitFor(() => heard.length === 3, 'message three');

    expect(heard.map((m) => m.content)).toEqual(['one', 'two', 'three']);
    expect(discord.gateway.items.filter((e) => e.kind === 'identify')).toHaveLength(1);
  });

  it('resumes after a 4000 close and replays what was said in between', async () => {
    discord.disconnect(4000);
    discord.userSays({ content: 'during the close' });
    await discord.gateway.waitFor((e) => e.kind === 'resume', 15_000);
    await waitFor(() => heard.length === 1, 'the replayed message');

    expect(heard.map((m) => m.content)).toEqual(['during the close']);
  });

  it('resumes when asked to reconnect (op 7) and keeps receiving', async () => {
    discord.requestReconnect();
    await discord.gateway.waitFor((e) => e.kind === 'resume', 15_000);
    discord.userSays({ content: 'after reconnect' });
    await waitFor(() => heard.length === 1, 'the message after op 7');

    expect(heard.map((m) => m.content)).toEqual(['after reconnect']);
  });

  it('identifies again after a normal close (1000) and receives what is said afterwards', async () => {
    discord.disconnect(1000);
    // discord.js throttles a second IDENTIFY by about 5 s.
    const identifies = () => discord.gateway.items.filter((e) => e.kind === 'identify').length;
    await waitFor(() => identifies() === 2, 'a second IDENTIFY', 20_000);
    await discord.waitForReady();
    discord.userSays({ content: 'after re-identify' });
    await waitFor(() => heard.length === 1, 'the message after re-identify');

    expect(heard.map((m) => m.content)).toEqual(['after re-identify']);
    expect(discord.gateway.items.filter((e) => e.kind === 'heartbeat').length).toBeGreaterThan(0);
  });

  it('answers one 429 with Retry-After and discord.js retries the send', async () => {
    const limited: number[] = [];
    client.rest.on('rateLimited', (info) => limited.push(info.retryAfter));
    discord.rateLimitNext(
      { method: 'POST', path: /^\/channels\/\d+\/messages$/ },
      { retryAfterSeconds: 0.2 },
    );
    const ops = client.channels.cache.get(discord.defaultChannel);
    if (!ops?.isSendable()) throw new Error('ops channel missing from the cache');

    await ops.send('after the limit');

    expect(limited).toHaveLength(1);
    expect(
      discord.calls.items
        .filter((c) => c.method === 'POST' && c.path.endsWith('/messages'))
        .map((c) => c.status),
    ).toEqual([429, 200]);
    expect(discord.posts.items.map((p) => p.content)).toEqual(['after the limit']);
  });

  it('returns the earlier message for a nonce it saw from the bot when enforce_nonce is set', async () => {
    const channel = await client.channels.fetch(discord.defaultChannel);
    if (!channel?.isSendable()) throw new Error('the default channel is not sendable');
    const first = await channel.send({ content: 'deployed', nonce: 'notify-42', enforceNonce: true });
    const again = await channel.send({ content: 'deployed', nonce: 'notify-42', enforceNonce: true });
    expect(again.id).toBe(first.id);
    // Without enforce_nonce a nonce is only echoed back: a second message is created.
    const loose = await channel.send({ content: 'deployed', nonce: 'notify-42', enforceNonce: false });
    expect(loose.id).not.toBe(first.id);
    expect(discord.posts.items.map((p) => p.content)).toEqual(['deployed', 'deployed']);
    // Only within the window ("the past few minutes").
    discord.nonceWindowMs = 0;
    await new Promise((r) => setTimeout(r, 5));
    const late = await channel.send({ content: 'deployed', nonce: 'notify-42', enforceNonce: true });
    expect(late.id).not.toBe(first.id);
    await expect(
      client.rest.post(`/channels/${discord.defaultChannel}/messages`, {
        body: { content: 'x', nonce: 'n'.repeat(26), enforce_nonce: true },
      }),
    ).rejects.toMatchObject({ status: 400, code: 50035 });
  });

  it('refuses an empty message and an unknown channel with Discord’s error codes', async () => {
    await expect(
      client.rest.post(`/channels/${discord.defaultChannel}/messages`, { body: { content: '' } }),
    ).rejects.toMatchObject({
      status: 400,
      code: 50006,
    });
    await expect(client.channels.fetch('1299999999999999999')).rejects.toMatchObject({
      status: 404,
      code: 10003,
    });
  });
});

describe('Discord emulator authentication', () => {
  it('rejects a login with the wrong token', async () => {
    const discord = await new DiscordEmulator().start();
    const client = newClient(discord);
    try {
      await expect(client.login('not-the-token')).rejects.toThrow();
      expect(discord.gateway.items.filter((e) => e.kind === 'identify')).toHaveLength(0);
    } finally {
      await client.destroy();
      await discord.stop();
    }
  });
});

function newClient(discord: DiscordEmulator): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: { api: discord.apiUrl, retries: 0 },
    waitGuildTimeout: 2_000,
  });
}
