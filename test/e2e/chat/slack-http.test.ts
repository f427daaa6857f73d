import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackAdapter } from '../../../adapters/slack/index.js';
import { SlackEmulator } from '../../emulators/slack/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { quietLogger, startChatSquall } from './harness.js';

describe('Slack HTTP mode (Events API) end to end (embedded)', () => {
  let slack: SlackEmulator;
  let squall: Awaited<ReturnType<typeof startChatSquall>>;

  beforeAll(async () => {
    slack = await new SlackEmulator({ mode: 'http' }).start();
    const adapter = new SlackAdapter({
      mode: 'http',
      botToken: slack.botToken,
      signingSecret: slack.signingSecret,
      apiUrl: slack.apiUrl,
      port: 0,
      retries: 0,
      logger: quietLogger,
    });
    squall = await startChatSquall(adapter, { mongo: false, users: { 'slack:U0ALICE': 'alice' } });
    slack.setRequestUrl(`http://127.0.0.1:${adapter.httpPort()}/slack/events`);
  }, 60_000);
  afterAll(async () => {
    await squall?.svc.cleanup();
    await slack?.stop();
  });

  it('runs a signed channel command and a signed slash command', async () => {
    const ts = await slack.userSays({ text: '!echo over http' });
    await waitFor(
      // The card's current state (posted final when the run was quick, else edited).
      () =>
        slack
          .thread(slack.defaultChannel, ts)
          .some((m) => m.user === slack.botUserId && m.text.includes('said over http')),
      'the final card',
      15_000,
    );
    const ack = await slack.slashCommand({ command: '/squall', text: 'echo http slash' });
    expect(ack.status).toBe(200);
    const root = await slack.waitForPost((p) => p.text.includes('ran /squall echo http slash'));
    await waitFor(
      // The card's current state (posted final when the run was quick, else edited).
      () =>
        slack
          .thread(slack.defaultChannel, root.ts)
          .some((m) => m.user === slack.botUserId && m.text.includes('said http slash')),
      'the final card',
      15_000,
    );
  });

  it('answers a bad signature and a stale timestamp with 401 and executes nothing', async () => {
    const bad = await slack.slashCommand(
      { command: '/squall', text: 'echo forged' },
      { tamper: 'bad-signature' },
    );
    expect(bad.status).toBe(401);
    const stale = await slack.slashCommand(
      { command: '/squall', text: 'echo replayed' },
      { tamper: 'stale-timestamp' },
    );
    expect(stale.status).toBe(401);
    // Give a wrongly accepted request every chance to show up before looking.
    await sleep(300);
    const executions = await squall.svc.services.store.executions.find({});
    const words = executions.map((e) => String((e.parameters as { words?: string }).words ?? ''));
    expect(words).not.toContain('forged');
    expect(words).not.toContain('replayed');
    expect(slack.posts.items.some((p) => /forged|replayed/.test(p.text))).toBe(false);
  });
});
