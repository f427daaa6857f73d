import { describe, expect, it } from 'vitest';
import { applicableNotify } from '../../../src/notifier/index.js';
import { ChatPipeline } from '../../../src/chatops/pipeline.js';
import type { Services } from '../../../src/service/types.js';

const pipeline = new ChatPipeline(
  { config: { chatops: { prefix: '!', bot_name: 'squall' } } } as unknown as Services,
  () => {
    throw new Error('not used');
  },
  new Map(),
);
const msg = (text: string, extra: Record<string, unknown> = {}) => ({
  text,
  user: { id: 'U1', name: 'alice' },
  channel: 'dev',
  messageId: 'm1',
  isDirect: false,
  mentionsBot: false,
  ...extra,
});

describe('which messages are commands', () => {
  it('takes prefixed messages, mentions and direct messages, and normalises curly quotes', () => {
    expect(pipeline.commandOf(msg('!deploy web'))).toBe('deploy web');
    expect(pipeline.commandOf(msg('squall: deploy web', { mentionsBot: true }))).toBe('deploy web');
    expect(pipeline.commandOf(msg('deploy web', { isDirect: true }))).toBe('deploy web');
    expect(pipeline.commandOf(msg('!say \u201chi there\u201d'))).toBe('say "hi there"');
  });

  it('ignores ordinary chatter and bots (itself included)', () => {
    expect(pipeline.commandOf(msg('deploy web'))).toBeNull();
    expect(pipeline.commandOf(msg('!deploy web', { fromBot: true }))).toBeNull();
  });
});

describe('which notify entries apply (st2 §2.2)', () => {
  const notify = {
    'on-complete': { routes: ['a'] },
    'on-success': { routes: ['b'] },
    'on-failure': { routes: ['c'] },
  };
  it('on-complete always, on-success on success, on-failure on failed/timeout/abandoned', () => {
    expect(applicableNotify(notify, 'succeeded').map((x) => x.when)).toEqual(['on-complete', 'on-success']);
    expect(applicableNotify(notify, 'failed').map((x) => x.when)).toEqual(['on-complete', 'on-failure']);
    expect(applicableNotify(notify, 'timeout').map((x) => x.when)).toEqual(['on-complete', 'on-failure']);
    expect(applicableNotify(notify, 'canceled').map((x) => x.when)).toEqual(['on-complete']);
  });
});
