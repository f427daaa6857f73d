import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShellAdapter } from '../../../adapters/shell/index.js';
import type { TestApi } from '../../support/api.js';
import { botSaidIn, startChatApi } from '../../support/chat-api.js';
import { runCli } from '../../support/cli.js';

/** Issue 23: linked chat identities are listed, confirmed and revoked with `squall chatops links`. */
describe('squall chatops links', () => {
  let api: TestApi;
  let shell: ShellAdapter;
  let otto: string;
  const carol = { id: 'U7', name: 'carol' };
  const said = (channel: string, thread: string) => botSaidIn(shell, channel, thread);

  beforeAll(async () => {
    shell = new ShellAdapter();
    api = await startChatApi([shell]);
    otto = await api.tokenFor('otto', ['operator']);
  }, 60_000);
  afterAll(async () => api?.stop());

  it('confirm links the chat user to the caller; list shows it; revoke removes it; others may not', async () => {
    const asOtto = { SQUALL_AUTH_TOKEN: otto };
    const id = await shell.say(carol, '!link', { channel: 'ops' });
    const [reply] = said('ops', id);
    expect(reply.whisperTo).toBe(carol.id);
    const token = /#\/chat-link\/([0-9a-f]+)/.exec(reply.text)![1];

    const confirmed = await runCli(['chatops', 'links', 'confirm', token, '--json'], api.url, asOtto);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(JSON.parse(confirmed.stdout)).toMatchObject({ id: 'shell::U7', user: 'otto', chat_user: carol });

    const listed = await runCli(['chatops', 'links', 'list', '--json'], api.url, asOtto);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: 'shell::U7', user: 'otto' })]);

    const olga = await api.tokenFor('olga', ['observer']);
    const refused = await runCli(['chatops', 'links', 'revoke', 'shell::U7'], api.url, {
      SQUALL_AUTH_TOKEN: olga,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/403: .*only manage their own chat links/);

    const revoked = await runCli(['chatops', 'links', 'revoke', 'shell::U7'], api.url, asOtto);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('Chat link "shell::U7" has been revoked.');
    expect(await api.services.store.chatLinks.find({})).toEqual([]);
  }, 60_000);
});
