import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShellAdapter } from '../../../adapters/shell/index.js';
import { botSaidIn, chatSubsystems } from '../../support/chat-api.js';
import { startTestService } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const alice = { id: 'U1', name: 'alice' };

/** Issue 23: an alias limited to channels (`channels`, a Squall extension) answers only there. */
describe('aliases limited to channels', () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let shell: ShellAdapter;
  const botSaid = (channel: string, thread: string) => botSaidIn(shell, channel, thread);

  beforeAll(async () => {
    shell = new ShellAdapter();
    svc = await startTestService({
      subsystems: chatSubsystems([shell]),
      config: {
        'auth.enable': false,
        'packs.paths': [path.join(here, 'fixtures', 'channel-packs')],
        'chatops.users': { 'shell:U1': 'alice' },
      },
    });
  }, 60_000);
  afterAll(async () => svc?.cleanup());

  it('runs in a listed channel (bare id or "<adapter>:<id>") and is refused privately elsewhere', async () => {
    for (const channel of ['ops', 'war-room']) {
      await shell.say(alice, '!ops ping', { channel });
      await waitFor(
        () => svc.services.store.executions.findOne({ 'context.source_channel': channel }),
        `the run in ${channel}`,
      );
    }
    const id = await shell.say(alice, '!ops ping', { channel: 'dev' });
    const [reply] = botSaid('dev', id);
    expect(reply.text).toBe(
      `"ops ping" can't be used here; it answers only in ops, shell:war-room. Say it there.`,
    );
    expect(reply.whisperTo).toBe(alice.id);
    expect(await svc.services.store.executions.findOne({ 'context.source_channel': 'dev' })).toBeNull();
    const audit = await svc.services.store.audit.findOne({ kind: 'chat.command', channel: 'dev' });
    expect(audit).toMatchObject({ outcome: 'wrong_channel', alias: 'chanlimit.ops_ping' });
    // Help in that channel does not offer it either.
    const help = await shell.say(alice, '!help', { channel: 'dev' });
    expect(botSaid('dev', help)[0].text).not.toContain('ops ping');
    const inOps = await shell.say(alice, '!help', { channel: 'ops' });
    expect(botSaid('ops', inOps)[0].text).toContain('ops ping');
  });
});
