import { afterEach, describe, expect, it } from 'vitest';
import type { SlackAdapter } from '../../../adapters/slack/index.js';
import type { SlackEmulator, SlackEmulatorOptions } from '../../emulators/slack/index.js';
import { BOT_SCOPES } from '../../emulators/slack/emulator.js';
import { adapterOnEmulator, refusalOf } from '../../support/chat-emulators.js';

/**
 * What a newcomer's Slack app gets wrong, as Slack answers it (the emulator: invalid_auth,
 * not_allowed_token_type, missing_scope with needed/provided, channel_not_found), and Squall's
 * answer: which setting to change, and where in Slack's app settings.
 */
describe('Slack adapter: a misconfigured app says what to fix', () => {
  let slack: SlackEmulator | undefined;
  let adapter: SlackAdapter | undefined;

  afterEach(async () => {
    await adapter?.disconnect().catch(() => undefined);
    await slack?.stop();
    adapter = undefined;
    slack = undefined;
  });

  const setUp = async (
    options: SlackEmulatorOptions,
    tokens: (s: SlackEmulator) => { botToken: string; appToken: string } = (s) => ({
      botToken: s.botToken,
      appToken: s.appToken,
    }),
  ) => {
    ({ emulator: slack, adapter } = await adapterOnEmulator('slack', { emulator: options, adapter: tokens }));
    return adapter;
  };

  it('a wrong bot token: invalid_auth, and where the right one is', async () => {
    const a = await setUp({}, (s) => ({ botToken: 'xoxb-not-this-one', appToken: s.appToken }));
    const err = await refusalOf(a.connect());
    expect(err.code).toBe('CHAT_CONNECT_FAILED');
    expect(err.message).toContain('Slack refused chatops.slack.bot_token (invalid_auth)');
    expect(err.message).toContain('OAuth & Permissions');
  });

  it('the bot token given as the app token: not_allowed_token_type at once (the SDK alone retries for ever)', async () => {
    const a = await setUp({}, (s) => ({ botToken: s.botToken, appToken: s.botToken }));
    const err = await refusalOf(a.connect());
    expect(err.message).toContain(
      'chatops.slack.app_token is not an app-level token (not_allowed_token_type',
    );
    expect(err.message).toContain('App-Level Tokens');
    expect(err.context).toMatchObject({
      setting: 'chatops.slack.app_token',
      error: 'not_allowed_token_type',
    });
  }, 15_000);

  it('an app token without connections:write: missing_scope', async () => {
    const a = await setUp({ appScopes: [] });
    const err = await refusalOf(a.connect());
    expect(err.message).toContain(
      'chatops.slack.app_token lacks the connections:write scope (missing_scope)',
    );
  }, 15_000);

  it('no chat:write: a post is refused 403 naming the scope to add, and where', async () => {
    const a = await setUp({ botScopes: BOT_SCOPES.filter((s) => s !== 'chat:write') });
    await a.connect();
    const err = await refusalOf(a.post({ channel: 'C0OPS', text: 'hello' }));
    expect(err.code).toBe('CHAT_PLATFORM_REFUSED');
    expect(err.status).toBe(403);
    expect(err.message).toContain('missing_scope (the Slack app lacks the chat:write scope');
    expect(err.message).toContain('Bot Token Scopes and reinstall the app');
    expect(err.context).toMatchObject({ error: 'missing_scope', needed: 'chat:write' });
  }, 15_000);

  it('no files:write: the upload of a long output is refused naming files:write', async () => {
    const a = await setUp({ botScopes: BOT_SCOPES.filter((s) => s !== 'files:write') });
    await a.connect();
    const err = await refusalOf(
      a.uploadText({ channel: 'C0OPS', filename: 'out.txt', content: 'x\n'.repeat(10) }),
    );
    expect(err.message).toContain('the Slack app lacks the files:write scope');
    expect(err.context).toMatchObject({ needed: 'files:write' });
  }, 15_000);

  it('an unknown channel: channel_not_found, 404, how to name a channel', async () => {
    const a = await setUp({});
    await a.connect();
    const err = await refusalOf(a.post({ channel: 'C0NOPE', text: 'hello' }));
    expect(err.status).toBe(404);
    expect(err.message).toContain(
      'Slack refused chat.postMessage in C0NOPE: channel_not_found (Slack has no channel C0NOPE',
    );
  }, 15_000);
});
