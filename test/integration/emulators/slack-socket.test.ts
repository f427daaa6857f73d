import { App, LogLevel, webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RESPONSE_URL_TTL_MS, SlackEmulator } from '../../emulators/slack/index.js';
import { waitFor } from '../../support/wait.js';

/**
 * The unmodified @slack/bolt App in Socket Mode, pointed at the Slack emulator. Each test reads as
 * a conversation between a person (driven through the emulator) and the bot (a Bolt listener).
 */
describe('Slack emulator with Bolt in Socket Mode', () => {
  let slack: SlackEmulator;
  let app: App;

  beforeEach(async () => {
    slack = await new SlackEmulator().start();
    app = new App({
      token: slack.botToken,
      appToken: slack.appToken,
      socketMode: true,
      logLevel: process.env.DBG ? LogLevel.DEBUG : LogLevel.ERROR,
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
    });
  });

  afterEach(async () => {
    if (process.env.DBG) console.error('---- stopping app');
    await app.stop();
    if (process.env.DBG) console.error('---- stopping emu');
    await slack.stop();
  });

  it('delivers a person’s message to app.message and shows the bot’s threaded reply in that thread', async () => {
    const heard: string[] = [];
    app.message(async ({ message, say }) => {
      if (message.subtype !== undefined || !('text' in message)) return;
      heard.push(message.text ?? '');
      await say({ text: `on it: ${message.text}`, thread_ts: message.ts });
    });
    await app.start();

    const ts = await slack.userSays({ channel: 'C0OPS', text: 'deploy api to staging' });
    const reply = await slack.waitForPost((p) => p.thread_ts === ts);

    expect(heard).toEqual(['deploy api to staging']);
    expect(reply).toMatchObject({
      channel: 'C0OPS',
      text: 'on it: deploy api to staging',
      user: slack.botUserId,
    });
    expect(slack.thread('C0OPS', ts).map((m) => m.text)).toEqual([
      'deploy api to staging',
      'on it: deploy api to staging',
    ]);
    // The reply is in the thread, not at the channel's top level.
    expect(slack.channelMessages('C0OPS').map((m) => m.text)).toEqual(['deploy api to staging']);
    const replies = await app.client.conversations.replies({ channel: 'C0OPS', ts });
    expect(replies.messages?.map((m) => m.text)).toEqual([
      'deploy api to staging',
      'on it: deploy api to staging',
    ]);
  });

  it('delivers an @mention as app_mention with the bot tag in the text', async () => {
    const mentions: string[] = [];
    app.event('app_mention', async ({ event }) => {
      mentions.push(event.text);
    });
    await app.start();

    await slack.userSays({ text: 'status please', mention: true });
    await waitFor(() => mentions.length === 1, 'the mention to reach app.event');

    expect(mentions).toEqual([`<@${slack.botUserId}> status please`]);
  });

  it('delivers a direct message with channel_type im', async () => {
    const seen: { text: string; channelType: string }[] = [];
    app.message(async ({ message }) => {
      if (message.subtype === undefined)
        seen.push({ text: message.text ?? '', channelType: message.channel_type });
    });
    await app.start();

    await slack.userSays({ channel: 'D0ALICE', text: 'run it quietly' });
    await waitFor(() => seen.length === 1, 'the DM to reach app.message');

    expect(seen).toEqual([{ text: 'run it quietly', channelType: 'im' }]);
  });

  it('lets the bot look up who spoke and where, and sees a person reply in the bot’s thread', async () => {
    const lookups: string[] = [];
    app.message(async ({ message, client, say }) => {
      if (message.subtype !== undefined) return;
      const who = await client.users.info({ user: message.user });
      const where = await client.conversations.info({ channel: message.channel });
      lookups.push(`${who.user?.name}/${who.user?.real_name} in #${where.channel?.name}: ${message.text}`);
      if (!message.thread_ts) await say({ text: 'which environment?', thread_ts: message.ts });
    });
    await app.start();

    const ts = await slack.userSays({ text: 'deploy', user: 'U0BOB' });
    await slack.waitForPost((p) => p.thread_ts === ts);
    await slack.userSays({ text: 'staging', user: 'U0BOB', thread_ts: ts });
    // The ack comes before the listener finishes (Bolt auto-acks events), so wait for it.
    await waitFor(() => lookups.length === 2, 'the threaded answer to be looked up');

    expect(lookups).toEqual(['bob/Bob Dev in #ops: deploy', 'bob/Bob Dev in #ops: staging']);
    expect(slack.thread('C0OPS', ts).map((m) => `${m.user}: ${m.text}`)).toEqual([
      'U0BOB: deploy',
      'U0BOT: which environment?',
      'U0BOB: staging',
    ]);
    expect(slack.channelMessages('C0OPS')[0]).toMatchObject({
      reply_count: 2,
      reply_users: ['U0BOT', 'U0BOB'],
    });
    await expect(slack.userSays({ text: 'orphan', thread_ts: '1.000001' })).rejects.toThrow(/to reply to/);
  });

  it('echoes the bot’s own post back as a message event carrying its bot_id (what ignoreSelf filters)', async () => {
    const raw = new App({
      token: slack.botToken,
      appToken: slack.appToken,
      socketMode: true,
      ignoreSelf: false,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
    });
    const echoes: { user?: string; bot_id?: string; text?: string }[] = [];
    raw.message(async ({ message }) => {
      if (message.subtype === undefined)
        echoes.push({
          user: message.user,
          bot_id: (message as { bot_id?: string }).bot_id,
          text: message.text,
        });
    });
    try {
      await raw.start();
      await raw.client.chat.postMessage({ channel: 'C0OPS', text: 'I said this' });
      await waitFor(() => echoes.length === 1, 'the echo of the bot post');
      expect(echoes).toEqual([{ user: slack.botUserId, bot_id: slack.botId, text: 'I said this' }]);
    } finally {
      await raw.stop();
    }
  });

  it('stores message metadata and returns it from history and replies only with include_all_metadata', async () => {
    await app.start();
    const metadata = { event_type: 'squall_post', event_payload: { key: 'notify:42' } };
    const root = await app.client.chat.postMessage({ channel: 'C0OPS', text: 'deployed', metadata });
    await app.client.chat.postMessage({ channel: 'C0OPS', text: 'in thread', thread_ts: root.ts, metadata });
    const plain = await app.client.conversations.history({ channel: 'C0OPS' });
    expect(plain.messages?.find((m) => m.ts === root.ts)?.metadata).toBeUndefined();
    const all = await app.client.conversations.history({ channel: 'C0OPS', include_all_metadata: true });
    expect(all.messages?.find((m) => m.ts === root.ts)?.metadata).toEqual(metadata);
    const replies = await app.client.conversations.replies({
      channel: 'C0OPS',
      ts: root.ts as string,
      include_all_metadata: true,
    });
    expect(replies.messages?.map((m) => m.metadata)).toEqual([metadata, metadata]);
    await expect(
      app.client.chat.postMessage({ channel: 'C0OPS', text: 'x', metadata: { event_type: 'x' } as never }),
    ).rejects.toMatchObject({ data: { error: 'invalid_metadata_schema' } });
  });

  it('records chat.update of a posted message so waitForUpdate sees the new text and blocks', async () => {
    await app.start();
    const posted = await app.client.chat.postMessage({ channel: 'C0OPS', text: 'Running deploy…' });
    await app.client.chat.update({
      channel: 'C0OPS',
      ts: posted.ts as string,
      text: 'Deploy succeeded',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Deploy succeeded*' } }],
    });

    const update = await slack.waitForUpdate((u) => u.ts === posted.ts);
    expect(update.text).toBe('Deploy succeeded');
    expect(update.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*Deploy succeeded*' } },
    ]);
    expect(slack.findMessage('C0OPS', posted.ts as string)?.text).toBe('Deploy succeeded');
  });

  it('delivers a slash command to app.command and returns what the bot acked', async () => {
    const seen: { text: string; user: string; channel: string }[] = [];
    app.command('/squall', async ({ command, ack }) => {
      seen.push({ text: command.text, user: command.user_id, channel: command.channel_id });
      await ack({ response_type: 'ephemeral', text: `running ${command.text}` });
    });
    await app.start();

    const ack = await slack.slashCommand({
      command: '/squall',
      text: 'pack list',
      user: 'U0BOB',
      channel: 'C0OPS',
    });

    expect(seen).toEqual([{ text: 'pack list', user: 'U0BOB', channel: 'C0OPS' }]);
    expect(ack).toEqual({ status: 200, payload: { response_type: 'ephemeral', text: 'running pack list' } });
  });

  it('fails the slash command when the bot never acks it', async () => {
    const quiet = new SlackEmulator({ ackTimeoutMs: 300 });
    await quiet.start();
    const mute = new App({
      token: quiet.botToken,
      appToken: quiet.appToken,
      socketMode: true,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: quiet.apiUrl, retryConfig: { retries: 0 } },
    });
    mute.command('/squall', async () => {
      // deliberately no ack()
    });
    try {
      await mute.start();
      await expect(quiet.slashCommand({ command: '/squall', text: 'x' })).rejects.toThrow(/did not ack/);
    } finally {
      await mute.stop();
      await quiet.stop();
    }
  });

  it('delivers a Block Kit button click to app.action, and respond() replaces the approval message', async () => {
    const clicks: { user: string; value: string | undefined }[] = [];
    app.action('approve', async ({ ack, body, action, respond }) => {
      await ack();
      clicks.push({ user: body.user.id, value: 'value' in action ? action.value : undefined });
      await respond({ replace_original: true, text: `Approved by <@${body.user.id}>` });
    });
    await app.start();
    const posted = await app.client.chat.postMessage({
      channel: 'C0OPS',
      text: 'Approve deploy?',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'Approve deploy?' } },
        {
          type: 'actions',
          block_id: 'approval',
          elements: [
            {
              type: 'button',
              action_id: 'approve',
              text: { type: 'plain_text', text: 'Approve' },
              style: 'primary',
              value: 'req-1',
            },
            {
              type: 'button',
              action_id: 'reject',
              text: { type: 'plain_text', text: 'Reject' },
              style: 'danger',
              value: 'req-1',
            },
          ],
        },
      ],
    });

    const ack = await slack.clickButton({
      message_ts: posted.ts as string,
      action_id: 'approve',
      user: 'U0BOB',
    });
    const update = await slack.waitForUpdate((u) => u.ts === posted.ts);

    expect(ack).toEqual({ status: 200, payload: {} });
    expect(clicks).toEqual([{ user: 'U0BOB', value: 'req-1' }]);
    expect(update).toMatchObject({ via: 'response_url', text: 'Approved by <@U0BOB>' });
    expect(() => slack.clickButton({ message_ts: posted.ts as string, action_id: 'escalate' })).toThrow(
      /no button/,
    );
  });

  it("refuses a respond() body over Block Kit's limits as Slack's webhooks do (400 invalid_blocks, nothing shown)", async () => {
    const refused: string[] = [];
    app.action('approve', async ({ ack, respond }) => {
      await ack();
      await respond({
        replace_original: true,
        text: 'long',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }],
      }).catch((err: Error) => void refused.push(err.message));
      await respond({
        replace_original: true,
        text: 'short',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'short' } }],
      });
    });
    await app.start();
    const posted = await app.client.chat.postMessage({
      channel: 'C0OPS',
      text: 'Approve?',
      blocks: [
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              action_id: 'approve',
              text: { type: 'plain_text', text: 'Approve' },
              value: 'v',
            },
          ],
        },
      ],
    });
    await slack.clickButton({ message_ts: posted.ts as string, action_id: 'approve' });
    const update = await slack.waitForUpdate((u) => u.ts === posted.ts);
    expect(update.text).toBe('short');
    expect(refused).toEqual([expect.stringContaining('400')]);
    expect(slack.updates.items.map((u) => u.text)).toEqual(['short']);
  });

  it('takes a response_url 5 times within 30 minutes, then refuses as Slack does (404 used_url / expired_url)', async () => {
    const answers: string[] = [];
    const respondAll = async (respond: (m: { text: string }) => Promise<unknown>, n: number) => {
      for (let i = 1; i <= n; i++)
        await respond({ text: `step ${i}` }).then(
          () => answers.push('ok'),
          (err: Error) => answers.push(err.message),
        );
    };
    app.action('approve', async ({ ack, respond }) => {
      await ack();
      await respondAll(respond, 6);
    });
    app.action('later', async ({ ack, respond }) => {
      await ack();
      slack.ageResponseUrls(RESPONSE_URL_TTL_MS + 1);
      await respondAll(respond, 1);
    });
    await app.start();
    const button = (action_id: string) => ({
      type: 'button' as const,
      action_id,
      text: { type: 'plain_text' as const, text: action_id },
      value: 'v',
    });
    const posted = await app.client.chat.postMessage({
      channel: 'C0OPS',
      text: 'Approve?',
      blocks: [{ type: 'actions', elements: [button('approve'), button('later')] }],
    });
    await slack.clickButton({ message_ts: posted.ts as string, action_id: 'approve' });
    await waitFor(() => answers.length === 6 || undefined, 'six respond() answers', 10_000);
    expect(answers.slice(0, 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(answers[5]).toContain('404');
    expect(slack.ephemerals.items.map((e) => e.text)).toEqual([
      'step 1',
      'step 2',
      'step 3',
      'step 4',
      'step 5',
    ]);

    await slack.clickButton({ message_ts: posted.ts as string, action_id: 'later' });
    await waitFor(() => answers.length === 7 || undefined, 'the late respond() answer', 10_000);
    expect(answers[6]).toContain('404');
    expect(slack.ephemerals.items).toHaveLength(5);
  });

  it('stores a files.uploadV2 upload with its bytes and shares it in the thread', async () => {
    await app.start();
    const parent = await app.client.chat.postMessage({ channel: 'C0OPS', text: 'execution 42 finished' });
    const result = await app.client.files.uploadV2({
      channel_id: 'C0OPS',
      thread_ts: parent.ts as string,
      content: 'line 1\nline 2\n',
      filename: 'stdout.txt',
      title: 'stdout',
      initial_comment: 'full output',
    });

    const upload = await slack.waitForUpload((u) => u.filename === 'stdout.txt');
    expect(result.ok).toBe(true);
    expect(upload.data?.toString('utf8')).toBe('line 1\nline 2\n');
    expect(upload).toMatchObject({
      title: 'stdout',
      channel_id: 'C0OPS',
      thread_ts: parent.ts,
      initial_comment: 'full output',
    });
    const share = await slack.waitForPost((p) => p.via === 'files.completeUploadExternal');
    expect(share.thread_ts).toBe(parent.ts);
    expect(share.files?.[0]).toMatchObject({ name: 'stdout.txt', title: 'stdout' });
    expect(slack.calls.items.map((c) => c.method)).toEqual(
      expect.arrayContaining(['files.getUploadURLExternal', 'files.completeUploadExternal']),
    );
  });

  it('answers one 429 with Retry-After, and a client that retries gets the post through', async () => {
    await app.start();
    const retrying = new webApi.WebClient(slack.botToken, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 },
      logLevel: webApi.LogLevel.ERROR,
    });
    const limited: number[] = [];
    retrying.on(webApi.WebClientEvent.RATE_LIMITED, (seconds: number) => limited.push(seconds));
    slack.rateLimitNext('chat.postMessage', { retryAfterSeconds: 1 });

    await retrying.chat.postMessage({ channel: 'C0OPS', text: 'after the limit' });

    expect(limited).toEqual([1]);
    expect(slack.calls.items.filter((c) => c.method === 'chat.postMessage').map((c) => c.status)).toEqual([
      429, 200,
    ]);
    expect(slack.posts.items.map((p) => p.text)).toEqual(['after the limit']);
  });

  it('rejects Web API calls made with the wrong token like Slack does', async () => {
    const stranger = new webApi.WebClient('xoxb-not-this-workspace', {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
    });
    await expect(stranger.chat.postMessage({ channel: 'C0OPS', text: 'hi' })).rejects.toMatchObject({
      data: { error: 'invalid_auth' },
    });
    await expect(app.client.chat.postMessage({ channel: 'C0NOPE', text: 'hi' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    expect(slack.posts.items).toEqual([]);
  });

  it('refuses what Slack refuses with HTTP 200 {ok:false}: msg_too_long, invalid_blocks (with errors), not_in_channel, user_not_in_channel', async () => {
    const refused = (error: string) =>
      expect.objectContaining({ data: expect.objectContaining({ ok: false, error }) });
    await expect(app.client.chat.postMessage({ channel: 'C0OPS', text: 'x'.repeat(40_001) })).rejects.toEqual(
      refused('msg_too_long'),
    );
    const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
    const long = app.client.chat.postMessage({
      channel: 'C0OPS',
      text: 'x',
      blocks: [section('y'.repeat(3001))],
    });
    await expect(long).rejects.toEqual(refused('invalid_blocks'));
    await expect(long).rejects.toMatchObject({
      data: { errors: ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]'] },
    });
    const many = Array.from({ length: 51 }, () => section('z'));
    await expect(
      app.client.chat.postMessage({ channel: 'C0OPS', text: 'x', blocks: many }),
    ).rejects.toMatchObject({
      data: { error: 'invalid_blocks', errors: ['must be no more than 50 items [json-pointer:/blocks]'] },
    });
    // Every call above was answered 200, as Slack answers its errors.
    expect(new Set(slack.calls.items.map((c) => c.status))).toEqual(new Set([200]));

    // A channel the bot is not in, and an ephemeral to someone who is not in the channel.
    slack.addChannel({ id: 'C0PRIV', name: 'private-ops', is_member: false, members: ['U0ALICE'] });
    await expect(app.client.chat.postMessage({ channel: 'C0PRIV', text: 'hi' })).rejects.toEqual(
      refused('not_in_channel'),
    );
    await app.client.conversations.join({ channel: 'C0PRIV' });
    await app.client.chat.postMessage({ channel: 'C0PRIV', text: 'joined' });
    await expect(
      app.client.chat.postEphemeral({ channel: 'C0PRIV', user: 'U0BOB', text: 'only for bob' }),
    ).rejects.toEqual(refused('user_not_in_channel'));
    const shown = await app.client.chat.postEphemeral({
      channel: 'C0PRIV',
      user: 'U0ALICE',
      text: 'for alice',
    });
    expect(shown.message_ts).toBeTruthy();
    // The ephemeral was shown to alice only: it is not in the channel's history.
    const history = await app.client.conversations.history({ channel: 'C0PRIV' });
    expect(history.messages?.map((m) => m.text)).toEqual(['joined']);
    expect(slack.ephemerals.items.map((e) => [e.user, e.text])).toEqual([['U0ALICE', 'for alice']]);
    expect(slack.posts.items.map((p) => p.text)).toEqual(['joined']);
  });

  it('rate-limits each method by its tier: the 21st reactions.remove in a minute (Tier 2) gets 429 with Retry-After', async () => {
    await app.start();
    // A client that reports a 429 instead of waiting, to see Slack's answer.
    const client = new webApi.WebClient(slack.botToken, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: webApi.LogLevel.ERROR,
    });
    const parent = await client.chat.postMessage({ channel: 'C0OPS', text: 'react to me' });
    const outcomes: unknown[] = [];
    for (let n = 0; n < 21; n++) {
      await client.reactions.add({ channel: 'C0OPS', timestamp: parent.ts!, name: 'eyes' });
      outcomes.push(
        await client.reactions.remove({ channel: 'C0OPS', timestamp: parent.ts!, name: 'eyes' }).then(
          () => 'ok',
          (err: { code?: string; retryAfter?: number }) => ({ code: err.code, retryAfter: err.retryAfter }),
        ),
      );
    }
    expect(outcomes.slice(0, 20)).toEqual(Array.from({ length: 20 }, () => 'ok'));
    // 20 per minute: the next token comes back in 3 s.
    expect(outcomes[20]).toEqual({ code: webApi.ErrorCode.RateLimitedError, retryAfter: 3 });
    const limited = slack.calls.items.filter((c) => c.status === 429);
    expect(limited.map((c) => [c.method, c.response])).toEqual([
      ['reactions.remove', { ok: false, error: 'ratelimited' }],
    ]);
  });

  it('reconnects after the socket drops mid-conversation and delivers the next message exactly once', async () => {
    const heard: string[] = [];
    app.message(async ({ message, say }) => {
      if (message.subtype !== undefined || !('text' in message)) return;
      heard.push(message.text ?? '');
      await say({ text: `ack ${message.text}`, thread_ts: message.ts });
    });
    await app.start();
    const first = await slack.userSays({ text: 'first' });
    await slack.waitForPost((p) => p.thread_ts === first);

    slack.disconnect();
    // Said while the bot is offline: Slack holds it until the new connection is up.
    const second = await slack.userSays({ text: 'second' });
    await slack.waitForPost((p) => p.thread_ts === second);
    const third = await slack.userSays({ text: 'third' });
    await slack.waitForPost((p) => p.thread_ts === third);

    expect(slack.connectionCount).toBe(2);
    expect(slack.calls.items.filter((c) => c.method === 'apps.connections.open')).toHaveLength(2);
    // The bot's own echoed replies are dropped by Bolt's ignoreSelf, so each person's message once.
    expect(heard).toEqual(['first', 'second', 'third']);
    expect(slack.posts.items.map((p) => p.text)).toEqual(['ack first', 'ack second', 'ack third']);
  });
});

describe('Slack emulator without a bot connected', () => {
  it('fails a delivery that no Socket Mode connection picks up, naming the cause', async () => {
    const slack = await new SlackEmulator({ connectTimeoutMs: 200 }).start();
    try {
      await expect(slack.userSays({ text: 'anyone there?' })).rejects.toThrow(/no Socket Mode connection/);
      // The person's message is still in the channel, as on Slack.
      expect(slack.channelMessages('C0OPS').map((m) => m.text)).toEqual(['anyone there?']);
    } finally {
      await slack.stop();
    }
  });
});
