import { describe, expect, it } from 'vitest';
import type {
  CardReaction,
  ChatAdapter,
  MessageUpdate,
  OutgoingMessage,
  TextUpload,
} from '../../../src/chatops/index.js';
import { formatElapsed, outputTail, withoutRepeatedOutput } from '../../../src/chatops/card.js';
import { LiveAcks } from '../../../src/chatops/live.js';
import { EventBus } from '../../../src/events/index.js';
import type { ExecutionService } from '../../../src/executions/service.js';
import type { Services } from '../../../src/service/types.js';
import { waitFor } from '../../support/wait.js';

function fakeAdapter() {
  const posts: OutgoingMessage[] = [];
  const updates: Array<MessageUpdate & { at: number }> = [];
  const uploads: TextUpload[] = [];
  const reactions: Array<{ add: CardReaction; remove?: CardReaction }> = [];
  const adapter = {
    name: 'fake',
    capabilities: { threads: true, updates: true, uploads: true, buttons: true, maxMessageLength: 4000 },
    async post(m: OutgoingMessage) {
      posts.push(m);
      return { messageId: `m${posts.length}`, thread: m.thread ?? '' };
    },
    async update(u: MessageUpdate) {
      updates.push({ ...u, at: Date.now() });
    },
    async uploadText(u: TextUpload) {
      uploads.push(u);
      return { messageId: 'f1', thread: u.thread ?? '' };
    },
    async react(_t: unknown, add: CardReaction, remove?: CardReaction) {
      reactions.push({ add, ...(remove ? { remove } : {}) });
    },
  } as unknown as ChatAdapter;
  return { adapter, posts, updates, uploads, reactions };
}

function harness(interval: number, record: Record<string, unknown>) {
  const bus = new EventBus('test');
  const logger = {
    child: () => logger,
    warn: () => undefined,
    error: () => undefined,
    info: () => undefined,
  };
  const claims = new Set<string>();
  const services = {
    bus,
    logger,
    apiUrl: 'http://ui.example',
    store: { claim: async (key: string) => (claims.has(key) ? false : (claims.add(key), true)) },
  } as unknown as Services;
  const current = { ...record };
  const executions = () =>
    ({
      get: async () => ({ ...current }),
      present: (r: unknown) => r,
    }) as unknown as ExecutionService;
  const live = new LiveAcks(services, executions, interval, async (r) =>
    r.status === 'failed' ? 'Error: it broke' : undefined,
  );
  live.start();
  return { bus, live, current };
}

const target = (adapter: ChatAdapter) => ({
  adapter,
  channel: 'C1',
  thread: 't1',
  action: 'core.local',
  requester: { id: 'U1', name: 'alice' },
  command: { channel: 'C1', messageId: 't1' },
});

describe('live cards', () => {
  it('a run that ends at once: one post, one edit to its final state, ⏳ then ✅ on the command', async () => {
    const { bus, live, current } = harness(2000, {
      id: 'e1',
      status: 'scheduled',
      action: { ref: 'core.local' },
    });
    const { adapter, posts, updates, reactions } = fakeAdapter();
    await live.open('e1', 'requested', target(adapter));
    expect(posts).toHaveLength(1);
    expect(posts[0].card).toMatchObject({ emoji: '⏳', action: 'core.local', requester: { name: 'alice' } });
    expect(posts[0].card?.buttons?.choices.map((c) => c.label)).toEqual(['Cancel', 'Open']);
    expect(posts[0].card?.buttons?.payload).toBe('exec:cancel:e1');

    Object.assign(current, {
      status: 'succeeded',
      result: { stdout: 'hello\n', stderr: '', return_code: 0 },
      runner: { name: 'local-shell-cmd' },
      start_timestamp: '2026-01-01T00:00:00.000Z',
      end_timestamp: '2026-01-01T00:00:00.400Z',
    });
    bus.publish('st2.execution__update', { id: 'e1', status: 'running' });
    bus.publish('st2.execution.output__create', { execution_id: 'e1', data: 'hello\n' });
    bus.publish('st2.execution__update', { id: 'e1', status: 'succeeded' });
    await waitFor(() => reactions.some((r) => r.add === 'succeeded'), 'the ✅ reaction');
    expect(updates).toHaveLength(1);
    const final = updates[0].card!;
    expect(final).toMatchObject({ emoji: '✅', status: 'succeeded', code: 'hello', elapsed: '0.4 s' });
    expect(final.buttons?.payload).toBe('exec:rerun:e1');
    expect(final.buttons?.choices.map((c) => c.label)).toEqual(['Re-run', 'Open']);
    expect(final.buttons?.choices[1].url).toBe('http://ui.example/#/history/e1/general');
    expect(updates[0].text).toContain('```\nhello\n```');
    expect(reactions).toEqual([{ add: 'working' }, { add: 'succeeded', remove: 'working' }]);
    live.stop();
  });

  it('coalesces edits: many output lines while running give edits at least the interval apart', async () => {
    const { bus, live, current } = harness(150, {
      id: 'e2',
      status: 'running',
      action: { ref: 'core.local' },
    });
    const { adapter, updates } = fakeAdapter();
    await live.open('e2', 'running', target(adapter));
    for (let i = 1; i <= 30; i++) {
      bus.publish('st2.execution.output__create', { execution_id: 'e2', data: `line ${i}\n` });
      await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor(() => updates.some((u) => u.text.includes('line 30')), 'the last line on the card');
    Object.assign(current, { status: 'failed', result: { stdout: 'line 30\n', stderr: 'bad\n' } });
    bus.publish('st2.execution__update', { id: 'e2', status: 'failed' });
    await waitFor(() => updates.some((u) => u.card?.emoji === '❌'), 'the failed card');
    // 30 changes over ~450 ms became a handful of edits, each at least 150 ms after the one before.
    expect(updates.length).toBeLessThan(10);
    for (let i = 1; i < updates.length; i++)
      expect(updates[i].at - updates[i - 1].at).toBeGreaterThanOrEqual(149);
    expect(updates.at(-1)!.card?.note).toBe('Error: it broke');
    expect(updates.at(-1)!.card?.code).toBe('line 30\nbad');
    live.stop();
  });

  it('long output goes up as <action>-<id>.txt holding only the output; the card keeps the tail', async () => {
    const output = Array.from({ length: 40 }, (_, i) => `row ${i + 1}`).join('\n');
    const { bus, live } = harness(0, {
      id: 'e3',
      status: 'succeeded',
      action: { ref: 'core.local' },
      result: { stdout: output + '\n', stderr: '' },
    });
    const { adapter, updates, uploads } = fakeAdapter();
    await live.open('e3', 'requested', target(adapter));
    bus.publish('st2.execution__update', { id: 'e3', status: 'succeeded' });
    await waitFor(() => updates.some((u) => u.card?.emoji === '✅'), 'the final card');
    expect(uploads).toEqual([
      expect.objectContaining({ filename: 'core.local-e3.txt', content: output, thread: 't1' }),
    ]);
    expect(updates.at(-1)!.card?.code?.split('\n')).toEqual(output.split('\n').slice(-10));
    live.stop();
  });

  it('Re-run counts once per card: the second press is refused and the button is shown disabled', async () => {
    const { bus, live } = harness(0, { id: 'e4', status: 'succeeded', action: { ref: 'core.local' } });
    const { adapter, updates } = fakeAdapter();
    await live.open('e4', 'requested', target(adapter));
    bus.publish('st2.execution__update', { id: 'e4', status: 'succeeded' });
    await waitFor(() => updates.some((u) => u.card?.emoji === '✅'), 'the final card');
    expect(await live.claimRerun('e4', 'alice')).toBe(true);
    expect(await live.claimRerun('e4', 'bob')).toBe(false);
    const rerun = updates.at(-1)!.card!.buttons!.choices[0];
    expect(rerun).toMatchObject({ label: 'Re-run by alice', disabled: true });
    live.stop();
  });

  it('says elapsed time in people terms and keeps the tail of long output', () => {
    expect(formatElapsed(0)).toBe('0.0 s');
    expect(formatElapsed(430)).toBe('0.4 s');
    expect(formatElapsed(12_400)).toBe('12 s');
    expect(formatElapsed(125_000)).toBe('2 min 5 s');
    expect(outputTail('a\nb').cut).toBe(false);
    expect(outputTail('x'.repeat(2000)).tail.length).toBe(1500);
  });
});

describe('withoutRepeatedOutput', () => {
  it("drops a result template's fenced block that repeats the output the card shows, keeping the rest", () => {
    expect(withoutRepeatedOutput('exit 0\n```\nhello\n```', 'hello')).toBe('exit 0');
    // The card shows the tail of a longer output.
    expect(withoutRepeatedOutput('exit 0\n```\n1\n2\n3\n```', '2\n3')).toBe('exit 0');
    expect(withoutRepeatedOutput('exit 0\n```\nhello\n```', '…llo')).toBe('exit 0');
    // Anything else is kept.
    expect(withoutRepeatedOutput('*web1* (exit 1)\n```\nboom\n```', 'hello')).toBe(
      '*web1* (exit 1)\n```\nboom\n```',
    );
    expect(withoutRepeatedOutput('Deployed web', 'hello')).toBe('Deployed web');
    // One host's block of a multi-host output (web1:\n…\nweb2:\n…).
    expect(
      withoutRepeatedOutput(
        '*web1* (exit 0):\n```\nup 1\n```\n*web2* (exit 0):\n```\nup 2\n```',
        'web1:\nup 1\nweb2:\nup 2',
      ),
    ).toBe('*web1* (exit 0):\n*web2* (exit 0):');
  });
});
