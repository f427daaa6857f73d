import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ChatScreen, renderFences } from '../../../adapters/shell/screen.js';
import type { ChatCard } from '../../../src/chatops/index.js';

/** A terminal that understands the two escapes the screen uses: cursor up (ESC[nA) and erase down (ESC[J). */
class FakeTerminal extends Writable {
  readonly isTTY = true;
  rows: string[] = [''];
  private row = 0;
  raw = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    const text = chunk.toString();
    this.raw += text;
    const ESC = String.fromCharCode(27);
    for (const part of text.split(new RegExp(`(${ESC}\\[\\d*[AJ]|\r|\n)`))) {
      const up = new RegExp(`^${ESC}\\[(\\d*)A$`).exec(part);
      if (up) this.row = Math.max(0, this.row - Number(up[1] || 1));
      else if (part === `${ESC}[J`) this.rows = [...this.rows.slice(0, this.row), ''];
      else if (part === '\r') this.rows[this.row] = '';
      else if (part === '\n') {
        this.row += 1;
        this.rows[this.row] ??= '';
      } else this.rows[this.row] += part;
    }
    done();
  }
  get screen(): string {
    return this.rows.join('\n').trimEnd();
  }
}

class Pipe extends Writable {
  out = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.out += chunk.toString();
    done();
  }
}

const card = (over: Partial<ChatCard>): ChatCard => ({
  status: 'running',
  emoji: '⏳',
  action: 'core.local',
  requester: { id: 'alice', name: 'alice' },
  executionId: 'e1',
  url: 'http://ui/#/history/e1/general',
  elapsed: '0.2 s',
  buttons: {
    payload: 'exec:cancel:e1',
    choices: [
      { label: 'Cancel', value: 'cancel', style: 'danger' },
      { label: 'Open', value: 'open', url: 'http://ui/#/history/e1/general' },
    ],
  },
  ...over,
});

describe('squall chat screen', () => {
  it('redraws a card in place on a terminal: the final screen shows it once, with what came after it below', () => {
    const term = new FakeTerminal();
    const screen = new ChatScreen(term);
    // The terminal echoes what the person types; the screen counts that line.
    term.write('!sh uptime\n');
    screen.typed('!sh uptime');
    screen.event({
      type: 'message',
      id: 'c1',
      channel: 'g',
      thread: 't1',
      text: '',
      from: 'squall',
      card: card({}),
    });
    screen.event({ type: 'message', id: 'm2', channel: 'g', text: 'hello there', from: 'squall' });
    screen.event({ type: 'update', id: 'c1', channel: 'g', text: '', card: card({ code: 'up 3 days' }) });
    screen.event({
      type: 'update',
      id: 'c1',
      channel: 'g',
      text: '',
      card: card({
        status: 'succeeded',
        emoji: '✅',
        elapsed: '0.4 s',
        code: 'up 3 days',
        buttons: { payload: 'exec:rerun:e1', choices: [{ label: 'Re-run', value: 'rerun' }] },
      }),
    });
    expect(term.screen).toBe(
      [
        '!sh uptime',
        '    [thread 1] #1 ✅ core.local · alice',
        '      Execution e1 · succeeded · 0.4 s',
        '      │ up 3 days',
        '      [1.1] Re-run',
        'squall: hello there',
      ].join('\n'),
    );
    expect(term.raw.match(/core\.local · alice/g)).toHaveLength(3);
  });

  it('shows fences as blocks instead of printing them', () => {
    expect(renderFences('result:\n```\na\nb\n```\ndone', '  ')).toEqual([
      '  result:',
      '  │ a',
      '  │ b',
      '  done',
    ]);
    // A language tag is not shown; text on a fence line is (Slack writes ```text``` on one line).
    expect(renderFences('```sh\nls\n```', '')).toEqual(['│ ls']);
    expect(renderFences('*web1* (exit 255):\n```Failed to connect```\nnext', '')).toEqual([
      '*web1* (exit 255):',
      '│ Failed to connect',
      'next',
    ]);
    expect(renderFences('```Failed to\nconnect```\nnext', '')).toEqual(['│ Failed to', '│ connect', 'next']);
  });

  it('numbers buttons per message: /N.k presses the one meant, a bare /k only when one message has buttons', () => {
    const screen = new ChatScreen(new Pipe());
    screen.event({ type: 'message', id: 'c1', channel: 'g', text: '', from: 'squall', card: card({}) });
    expect(screen.resolvePress('/1')).toEqual({ messageId: 'c1', choice: 1 });
    screen.event({
      type: 'message',
      id: 'c2',
      channel: 'g',
      text: '',
      from: 'squall',
      card: card({
        executionId: 'e2',
        status: 'succeeded',
        emoji: '✅',
        buttons: { payload: 'exec:rerun:e2', choices: [{ label: 'Re-run', value: 'rerun' }] },
      }),
    });
    // The newest button (Re-run of #2) is not what "/1" means any more: it asks which.
    expect(screen.resolvePress('/1')).toEqual({
      error: '(several messages have buttons: say which, e.g. /2.1)',
    });
    expect(screen.resolvePress('/1.1')).toEqual({ messageId: 'c1', choice: 1 });
    expect(screen.resolvePress('/2.1')).toEqual({ messageId: 'c2', choice: 1 });
    expect(screen.resolvePress('/1.2')).toEqual({
      error: '(Open is a link: http://ui/#/history/e1/general)',
    });
  });

  it('a bare /k answers the private question just asked (Cancel? confirm / keep), once', () => {
    const screen = new ChatScreen(new Pipe());
    screen.event({ type: 'message', id: 'c1', channel: 'g', text: '', from: 'squall', card: card({}) });
    screen.event({
      type: 'ask',
      id: 'q1',
      channel: 'g',
      question: 'Cancel this run? Cancel execution e1 of core.local?',
      choices: [
        { label: 'Cancel run', value: 'confirm' },
        { label: 'Keep running', value: 'deny' },
      ],
      payload: 'exec:cancel:e1',
      whisperTo: 'U1',
    });
    expect(screen.resolvePress('/2')).toEqual({ messageId: 'q1', choice: 2 });
    // Answered: /1 is the card's Cancel again.
    expect(screen.resolvePress('/1')).toEqual({ messageId: 'c1', choice: 1 });
  });

  it('into a pipe, a card is printed when it appears and once more when final, never for each edit', () => {
    const pipe = new Pipe();
    const screen = new ChatScreen(pipe);
    screen.event({ type: 'message', id: 'c1', channel: 'g', text: '', from: 'squall', card: card({}) });
    for (let i = 0; i < 5; i++)
      screen.event({ type: 'update', id: 'c1', channel: 'g', text: '', card: card({ code: `line ${i}` }) });
    screen.event({
      type: 'update',
      id: 'c1',
      channel: 'g',
      text: '',
      card: card({ status: 'failed', emoji: '❌', code: 'boom', buttons: undefined }),
    });
    expect(pipe.out.match(/core\.local · alice/g)).toHaveLength(2);
    expect(pipe.out).toContain(
      '#1 ❌ core.local · alice\n      Execution e1 · failed · 0.2 s\n      │ boom\n',
    );
    expect(pipe.out).not.toContain('line 3');
  });
});
