import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, ExpressReceiver, LogLevel } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../emulators/slack/index.js';
import { waitFor } from '../../support/wait.js';

/**
 * The unmodified Bolt App in HTTP mode (its default HTTPReceiver, and ExpressReceiver), receiving
 * signed deliveries from the Slack emulator.
 */
describe('Slack emulator with Bolt in HTTP mode (HTTPReceiver)', () => {
  let slack: SlackEmulator;
  let app: App;
  const heard: string[] = [];

  beforeEach(async () => {
    heard.length = 0;
    slack = await new SlackEmulator({ mode: 'http' }).start();
    app = new App({
      token: slack.botToken,
      signingSecret: slack.signingSecret,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
    });
    app.message(async ({ message, say }) => {
      if (message.subtype !== undefined || !('text' in message)) return;
      heard.push(message.text ?? '');
      await say({ text: `heard: ${message.text}`, thread_ts: message.ts });
    });
    const server = (await app.start(0)) as Server;
    slack.setRequestUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
    // Bolt's constructor fires auth.test without handling its failure: let it finish first.
    await slack.waitForCall('auth.test');
  });

  afterEach(async () => {
    await app.stop();
    await slack.stop();
  });

  it('accepts a correctly signed event and the bot replies in the thread', async () => {
    const ts = await slack.userSays({ text: 'hello over http' });

    const reply = await slack.waitForPost((p) => p.thread_ts === ts);
    expect(reply.text).toBe('heard: hello over http');
    expect(heard).toEqual(['hello over http']);
  });

  it('gets 401 for a bad signature and for a stale timestamp, and the bot never sees either', async () => {
    const mentions: string[] = [];
    app.event('app_mention', async ({ event }) => {
      mentions.push(event.text);
    });
    const body = (text: string) => ({
      type: 'event_callback',
      team_id: slack.teamId,
      api_app_id: slack.appId,
      event_id: `Ev0${text.toUpperCase()}`,
      event_time: 1700000001,
      event: {
        type: 'app_mention',
        channel: 'C0OPS',
        user: 'U0ALICE',
        text,
        ts: '1700000001.000100',
        event_ts: '1700000001.000100',
      },
    });

    const badSignature = await slack.sendEnvelope('events_api', body('forged'), { tamper: 'bad-signature' });
    const stale = await slack.sendEnvelope('events_api', body('replayed'), { tamper: 'stale-timestamp' });
    const good = await slack.sendEnvelope('events_api', body('genuine'));

    expect(badSignature.status).toBe(401);
    expect(stale.status).toBe(401);
    expect(good.status).toBe(200);
    await waitFor(() => mentions.includes('genuine'), 'the genuine mention to reach app.event');
    expect(mentions).toEqual(['genuine']);
  });

  it('delivers a slash command as a signed form and returns the ack body', async () => {
    app.command('/squall', async ({ command, ack }) => {
      await ack({ response_type: 'ephemeral', text: `queued ${command.text}` });
    });

    const ack = await slack.slashCommand({ command: '/squall', text: 'run core.local' });

    expect(ack).toEqual({
      status: 200,
      payload: { response_type: 'ephemeral', text: 'queued run core.local' },
    });
  });

  it('delivers a button click as payload= form and the bot updates the message', async () => {
    app.action('approve', async ({ ack, body, client }) => {
      await ack();
      if (body.type !== 'block_actions' || !body.message || !body.channel) return;
      await client.chat.update({
        channel: body.channel.id,
        ts: body.message.ts,
        text: `approved by ${body.user.id}`,
      });
    });
    const posted = await app.client.chat.postMessage({
      channel: 'C0OPS',
      text: 'approve?',
      blocks: [
        {
          type: 'actions',
          block_id: 'approval',
          elements: [
            {
              type: 'button',
              action_id: 'approve',
              text: { type: 'plain_text', text: 'Approve' },
              value: 'req-9',
            },
          ],
        },
      ],
    });

    const ack = await slack.clickButton({ message_ts: posted.ts as string, action_id: 'approve' });
    const update = await slack.waitForUpdate((u) => u.ts === posted.ts);

    expect(ack.status).toBe(200);
    expect(update).toMatchObject({ via: 'chat.update', text: 'approved by U0ALICE' });
  });

  it('refuses tampering in Socket Mode, where requests are not signed', async () => {
    const socket = new SlackEmulator();
    expect(() => socket.sendEnvelope('events_api', {}, { tamper: 'bad-signature' })).toThrow(/HTTP mode/);
  });
});

describe('Slack emulator with Bolt in HTTP mode (ExpressReceiver)', () => {
  it('verifies signatures through ExpressReceiver too', async () => {
    const slack = await new SlackEmulator({ mode: 'http' }).start();
    const receiver = new ExpressReceiver({
      signingSecret: slack.signingSecret,
      endpoints: { events: '/hooks/slack' },
    });
    const app = new App({
      token: slack.botToken,
      receiver,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
    });
    const heard: string[] = [];
    app.message(async ({ message }) => {
      if (message.subtype === undefined && 'text' in message) heard.push(message.text ?? '');
    });
    try {
      const server = (await app.start(0)) as Server;
      slack.setRequestUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/slack`);
      const ts = await slack.userSays({ text: 'via express' });
      const forged = await slack.sendEnvelope(
        'events_api',
        {
          type: 'event_callback',
          team_id: slack.teamId,
          event: { type: 'message', channel: 'C0OPS', user: 'U0BOB', text: 'forged', ts },
        },
        { tamper: 'bad-signature' },
      );

      expect(forged.status).toBe(401);
      await waitFor(() => heard.length === 1, 'the genuine message to reach app.message');
      expect(heard).toEqual(['via express']);
    } finally {
      await app.stop();
      await slack.stop();
    }
  });
});
