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

  it('limits posts to 5 per 5 s per channel with X-RateLimit-* headers; discord.js queues on them and meets no 429', async () => {
    const ops = client.channels.cache.get(discord.defaultChannel);
    if (!ops?.isSendable()) throw new Error('ops channel missing from the cache');
    for (let n = 1; n <= 7; n++) await ops.send(`result ${n}`);

    // Seven in a row: the sixth waited for the bucket to reset instead of being refused.
    expect(discord.posts.items.map((p) => p.content)).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => `result ${n}`),
    );
    const sends = discord.calls.items.filter((c) => c.method === 'POST' && c.path.endsWith('/messages'));
    expect(sends.map((c) => c.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);

    // The headers and the 429 Discord answers to a client that does not wait.
    const url = `${discord.apiUrl}/v10/channels/${discord.defaultChannel}/messages`;
    const post = () =>
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bot ${discord.botToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'raw' }),
      });
    let res = await post();
    while (res.status === 200) res = await post();
    expect(res.status).toBe(429);
    expect(res.headers.get('x-ratelimit-limit')).toBe('5');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(res.headers.get('x-ratelimit-scope')).toBe('user');
    expect(res.headers.get('x-ratelimit-bucket')).toBeTruthy();
    expect(Number(res.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(0);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await res.json()) as { message: string; retry_after: number; global: boolean };
    expect(body).toMatchObject({ message: 'You are being rate limited.', global: false });
    expect(body.retry_after).toBeGreaterThan(0);
    expect(body.retry_after).toBeLessThanOrEqual(5);

    // discord.js, its bucket spent by someone else, gets the 429, waits and sends once.
    const limited: number[] = [];
    client.rest.on('rateLimited', (info) => limited.push(info.retryAfter));
    await ops.send('after the 429');
    expect(limited.length).toBeGreaterThan(0);
    expect(discord.posts.items.filter((p) => p.content === 'after the 429')).toHaveLength(1);
  }, 30_000);

  it('refuses a body over Discord’s limits with 400 Invalid Form Body (50035) and the errors by field', async () => {
    const send = (body: Record<string, unknown>) =>
      client.rest.post(`/channels/${discord.defaultChannel}/messages`, { body });
    const refusal = (field: string, code = 'BASE_TYPE_MAX_LENGTH') =>
      expect.objectContaining({
        status: 400,
        code: 50035,
        rawError: expect.objectContaining({ message: 'Invalid Form Body', errors: expect.anything() }),
        message: expect.stringContaining(`${field}[${code}]`),
      });

    await expect(send({ content: 'x'.repeat(2001) })).rejects.toEqual(refusal('content'));
    await expect(send({ embeds: Array.from({ length: 11 }, () => ({ title: 't' })) })).rejects.toEqual(
      refusal('embeds'),
    );
    const fields = Array.from({ length: 26 }, (_, i) => ({ name: `f${i}`, value: 'v' }));
    await expect(send({ embeds: [{ title: 't', fields }] })).rejects.toEqual(refusal('embeds[0].fields'));
    await expect(send({ embeds: [{ description: 'd'.repeat(4097) }] })).rejects.toEqual(
      refusal('embeds[0].description'),
    );
    await expect(
      send({ embeds: [{ description: 'd'.repeat(4000) }, { description: 'd'.repeat(2001) }] }),
    ).rejects.toEqual(refusal('embeds', 'MAX_EMBED_SIZE_EXCEEDED'));
    const row = (i: number) => ({
      type: 1,
      components: [{ type: 2, style: 1, custom_id: `b${i}`, label: 'B' }],
    });
    await expect(
      send({ content: 'x', components: Array.from({ length: 6 }, (_, i) => row(i)) }),
    ).rejects.toEqual(refusal('components'));
    // An edit is held to the same limits; nothing refused was stored.
    const ok = (await send({ content: 'x'.repeat(2000) })) as { id: string };
    await expect(
      client.rest.patch(`/channels/${discord.defaultChannel}/messages/${ok.id}`, {
        body: { content: 'y'.repeat(2001) },
      }),
    ).rejects.toEqual(refusal('content'));
    expect(discord.posts.items.map((p) => p.content.length)).toEqual([2000]);
    expect(discord.message(ok.id)?.content).toBe('x'.repeat(2000));
  });

  it('answers 403 Missing Access (50001) where the bot cannot see, and Missing Permissions (50013) where it may only read', async () => {
    const ops = client.channels.cache.get(discord.defaultChannel);
    const general = client.channels.cache.get('1200000000000000011');
    if (!ops?.isSendable() || !general?.isSendable()) throw new Error('channels missing from the cache');
    discord.setBotAccess(discord.defaultChannel, 'none');
    discord.setBotAccess('1200000000000000011', 'read');

    await expect(ops.send('hidden')).rejects.toMatchObject({
      status: 403,
      code: 50001,
      message: 'Missing Access',
    });
    await expect(general.send('read only')).rejects.toMatchObject({
      status: 403,
      code: 50013,
      message: 'Missing Permissions',
    });
    await expect(client.rest.get(`/channels/${discord.defaultChannel}/messages`)).rejects.toMatchObject({
      code: 50001,
    });
    expect(await client.rest.get(`/channels/1200000000000000011/messages`)).toEqual([]);
    expect(discord.posts.items).toEqual([]);

    discord.setBotAccess('1200000000000000011', 'full');
    await general.send('allowed again');
    expect(discord.posts.items.map((p) => p.content)).toEqual(['allowed again']);
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

describe('Discord emulator: the 3 s window of an interaction', () => {
  it('refuses an initial response after the window with 404 Unknown interaction (10062); one in time may follow up later', async () => {
    const discord = await new DiscordEmulator({ interactionTimeoutMs: 300 }).start();
    const client = newClient(discord);
    const errors: unknown[] = [];
    client.on('error', (err) => errors.push(err));
    const late: unknown[] = [];
    client.on(Events.InteractionCreate, async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      if (interaction.commandName === 'slow') {
        await new Promise((r) => setTimeout(r, 600));
        await interaction.reply('too late').catch((err: unknown) => late.push(err));
      } else {
        await interaction.deferReply({ flags: MessageFlags.Ephemeral });
        await new Promise((r) => setTimeout(r, 600));
        await interaction.editReply('done after the window');
        await interaction.followUp({ content: 'and a follow-up', flags: MessageFlags.Ephemeral });
      }
    });
    try {
      const ready = once(client, Events.ClientReady);
      await client.login(discord.botToken);
      await ready;

      await expect(discord.slashCommand({ name: 'slow' })).rejects.toThrow(/did not answer/);
      await waitFor(() => late.length === 1, 'the late reply to fail');
      expect(late[0]).toMatchObject({ status: 404, code: 10062 });
      expect(discord.posts.items).toEqual([]);

      // Deferred within the window: the answer may come later, privately to the caller.
      expect(await discord.slashCommand({ name: 'deferred' })).toMatchObject({
        type: 5,
        data: { flags: 64 },
      });
      await discord.waitForEphemeral((e) => e.content === 'and a follow-up');
      expect(discord.ephemerals.items.map((e) => e.content)).toEqual([
        'done after the window',
        'and a follow-up',
      ]);
      // Ephemerals are never in the channel.
      expect(discord.channelMessages(discord.defaultChannel).map((m) => m.content)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await client.destroy();
      await discord.stop();
    }
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
