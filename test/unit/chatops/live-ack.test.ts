import { describe, expect, it } from 'vitest';
import type { ChatAdapter, MessageUpdate, Question } from '../../../src/chatops/index.js';
import { LiveAcks } from '../../../src/chatops/live.js';
import { EventBus } from '../../../src/events/index.js';
import type { ExecutionService } from '../../../src/executions/service.js';
import type { Services } from '../../../src/service/types.js';
import { waitFor } from '../../support/wait.js';

function fakeAdapter() {
  const updates: MessageUpdate[] = [];
  const questions: Question[] = [];
  const adapter = {
    name: 'fake',
    capabilities: { threads: true, updates: true, uploads: false, buttons: true, maxMessageLength: 4000 },
    async update(u: MessageUpdate) {
      updates.push(u);
    },
    async ask(q: Question) {
      questions.push(q);
      return { messageId: `q${questions.length}`, thread: q.thread ?? '' };
    },
  } as unknown as ChatAdapter;
  return { adapter, updates, questions };
}

describe('live acks', () => {
  it('a chat-started workflow shows its tasks, the output tail while running, and ends with its final status and Re-run', async () => {
    const bus = new EventBus('test');
    const logger = {
      child: () => logger,
      warn: () => undefined,
      error: () => undefined,
      info: () => undefined,
    };
    const services = { bus, logger } as unknown as Services;
    const executions = () =>
      ({ get: async (id: string) => ({ id, status: 'scheduled' }) }) as unknown as ExecutionService;
    const live = new LiveAcks(services, executions, 0);
    live.start();
    const { adapter, updates, questions } = fakeAdapter();
    live.expect('wf1', 'requested', { adapter, channel: 'C1', thread: 't1' }, 'Running the workflow');
    await live.posted('wf1', 'ack1');
    expect(questions[0]).toMatchObject({ payload: 'exec:cancel:wf1', thread: 't1' });

    bus.publish('st2.execution__update', { id: 'wf1', status: 'running' });
    bus.publish('st2.execution__create', {
      id: 'c1',
      status: 'scheduled',
      parent: 'wf1',
      context: { orquesta: { task_name: 'build' } },
    });
    bus.publish('st2.execution.output__create', { execution_id: 'wf1', data: 'line 1\nline 2\n' });
    await waitFor(
      () => updates.some((u) => u.text.includes('build: scheduled') && u.text.includes('line 2')),
      'the running ack',
    );
    // A grandchild belongs to the workflow but is not one of its tasks.
    bus.publish('st2.execution__create', { id: 'g1', status: 'running', parent: 'c1' });
    bus.publish('st2.execution__update', {
      id: 'c1',
      status: 'succeeded',
      parent: 'wf1',
      context: { orquesta: { task_name: 'build' } },
    });
    bus.publish('st2.execution__update', { id: 'wf1', status: 'succeeded' });
    await waitFor(() => questions.find((q) => q.payload === 'exec:rerun:wf1'), 'the Re-run button');
    const last = updates.filter((u) => u.messageId === 'ack1').at(-1)!;
    expect(last.text).toContain('Status: succeeded');
    expect(last.text).toContain('build: succeeded');
    expect(last.text).not.toContain('g1');
    expect(live.handles('wf1')).toBe(true);
    live.stop();
  });
});
