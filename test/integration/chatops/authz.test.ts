import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShellAdapter, type ShellEvent } from '../../../adapters/shell/index.js';
import type { TestApi } from '../../support/api.js';
import { startChatApi } from '../../support/chat-api.js';
import { waitFor } from '../../support/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));

type Said = Extract<ShellEvent, { type: 'message' }>;

/**
 * Issue 18 items 4 and 5: chat routes are authorised like the actions they stand for, and a
 * terminal session acts as the Squall user who opened it, never as the default chat user.
 */
describe('chat routes under RBAC', () => {
  let api: TestApi;
  let shell: ShellAdapter;
  let observer: string;
  let operator: string;

  beforeAll(async () => {
    shell = new ShellAdapter();
    api = await startChatApi([shell], {
      overrides: {
        'packs.paths': [path.join(here, 'fixtures', 'packs')],
        // The setting that let an observer run actions through the terminal chat.
        'chatops.default_roles': ['operator'],
        'chatops.routes': { ops: { adapter: 'shell', channel: 'ops' } },
      },
    });
    observer = await api.tokenFor('olga', ['observer']);
    operator = await api.tokenFor('otto', ['operator']);
  }, 60_000);
  afterAll(async () => api?.stop());

  const botSaid = (channel: string) =>
    shell.transcript(channel).filter((e): e is Said => e.type === 'message' && e.from === 'squall');

  it('an observer may not post as the bot; an operator may', async () => {
    const denied = await api.request('post', '/api/v1/chatops/message', {
      token: observer,
      body: { route: 'ops', message: 'observer was here' },
    });
    expect(denied.status).toBe(403);
    expect(botSaid('ops').map((m) => m.text)).not.toContain('observer was here');

    const allowed = await api.request('post', '/api/v1/chatops/message', {
      token: operator,
      body: { route: 'ops', message: 'operator was here' },
    });
    expect(allowed.status).toBe(201);
    expect(botSaid('ops').map((m) => m.text)).toContain('operator was here');
  });

  it('an observer may view an execution but not post its result to chat', async () => {
    const run = await api.request('post', '/api/v1/executions', {
      body: { action: 'core.noop', parameters: {} },
    });
    expect(run.status).toBe(201);
    const id = (run.body as { id: string }).id;
    expect((await api.request('get', `/api/v1/executions/${id}`, { token: observer })).status).toBe(200);
    const before = botSaid('ops').length;
    const denied = await api.request('post', '/api/v1/chatops/result', {
      token: observer,
      body: { execution_id: id, route: 'ops' },
    });
    expect(denied.status).toBe(403);
    expect(botSaid('ops')).toHaveLength(before);
  });

  async function session(token: string, channel: string, user?: string) {
    const opened = await api.request('post', '/api/v1/chatops/shell/sessions', {
      token,
      body: { channel, ...(user ? { user } : {}) },
    });
    expect(opened.status).toBe(201);
    return (opened.body as { session: string }).session;
  }

  it("an observer's terminal chat acts as the observer, not as the default chat user", async () => {
    const id = await session(observer, 'obs');
    const said = await api.request('post', `/api/v1/chatops/shell/sessions/${id}/messages`, {
      token: observer,
      body: { text: '!hello mallory' },
    });
    expect(said.status).toBe(202);
    const reply = botSaid('obs').at(-1);
    expect(reply?.text).toContain('not allowed to run chattest.hello');
    expect(await api.services.store.executions.find({ 'action.ref': 'chattest.hello' })).toEqual([]);
  });

  it("an operator's terminal chat runs as the operator", async () => {
    const id = await session(operator, 'opr');
    await api.request('post', `/api/v1/chatops/shell/sessions/${id}/messages`, {
      token: operator,
      body: { text: '!hello otto' },
    });
    const runs = await waitFor(
      () => api.services.store.executions.find({ 'action.ref': 'chattest.hello' }),
      'the execution',
    );
    expect(runs).toHaveLength(1);
    expect(runs[0].context).toMatchObject({ user: 'otto', api_user: 'otto' });
  });

  it("nobody can talk through someone else's session", async () => {
    const id = await session(operator, 'mine');
    for (const [method, suffix, body] of [
      ['post', '/messages', { text: '!hello intruder' }],
      ['post', '/buttons', { messageId: 'x', choice: 1 }],
      ['get', '/events', undefined],
      ['delete', '', undefined],
    ] as const) {
      const res = await api.request(method, `/api/v1/chatops/shell/sessions/${id}${suffix}`, {
        token: observer,
        ...(body ? { body } : {}),
      });
      expect(res.status, `${method} ${suffix}`).toBe(404);
    }
    expect(shell.transcript('mine')).toEqual([]);
  });
});
