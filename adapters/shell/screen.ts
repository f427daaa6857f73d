import type { Writable } from 'node:stream';
import type { ChatCard } from '../../src/chatops/index.js';
import type { ShellEvent } from './adapter.js';

type Ask = Extract<ShellEvent, { type: 'ask' }>;
type Choice = Ask['choices'][number];

/** A message with buttons: its number on screen and what its buttons do. */
interface Pressable {
  id: string;
  n: number;
  choices: Choice[];
  /** Asked of this terminal only (an "are you sure?", a choice of aliases): answered once. */
  private?: boolean;
}

interface Block {
  id: string;
  lines: string[];
}

/**
 * ``` fences become an indented block with a bar, instead of being printed literally: a fence
 * line may carry a language (```sh), the block's first line (```text) or the whole block
 * (```text```, as Slack writes one-line blocks), and a block may close at the end of a line.
 */
export function renderFences(text: string, pad: string): string[] {
  const out: string[] = [];
  const bar = (line: string) => out.push(`${pad}│ ${line}`);
  let inCode = false;
  for (const line of text.split('\n')) {
    const fence = /^\s*```(.*)$/.exec(line);
    if (fence && !inCode) {
      const rest = fence[1];
      const whole = /^(.*\S)```\s*$/.exec(rest);
      if (whole) bar(whole[1]);
      else {
        inCode = true;
        if (!/^\w*\s*$/.test(rest)) bar(rest);
      }
      continue;
    }
    if (inCode && /```\s*$/.test(line)) {
      inCode = false;
      const before = line.replace(/```\s*$/, '');
      if (before.trim()) bar(before);
      continue;
    }
    if (inCode) bar(line);
    else out.push(`${pad}${line}`);
  }
  return out;
}

function buttonsLine(n: number, choices: Choice[], pad: string): string {
  const shown = choices.map((c, i) => {
    if (c.url) return `[${n}.${i + 1}] ${c.label} ${c.url}`;
    if (c.disabled) return `(${c.label})`;
    return `[${n}.${i + 1}] ${c.label}`;
  });
  return `${pad}${shown.join('  ')}`;
}

/**
 * What `squall chat` prints. Messages are printed as they come; an execution's card is printed
 * once and redrawn in place as it changes (on a terminal: the cursor goes back up to it and
 * everything from there is rewritten; into a file or pipe only its final state is added).
 * Buttons are numbered per message, `/N.k` presses button k of message N.
 */
export class ChatScreen {
  private readonly blocks: Block[] = [];
  private readonly threads = new Map<string, number>();
  private readonly pressable = new Map<string, Pressable>();
  private readonly numbers = new Map<string, number>();
  private readonly cardThreads = new Map<string, string>();
  constructor(private readonly output: Writable & { isTTY?: boolean }) {}

  private get tty(): boolean {
    return Boolean(this.output.isTTY);
  }

  private number(id: string): number {
    let n = this.numbers.get(id);
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(id, n);
    }
    return n;
  }

  private tag(thread?: string): string {
    if (!thread) return '';
    if (!this.threads.has(thread)) this.threads.set(thread, this.threads.size + 1);
    return `[thread ${this.threads.get(thread)}] `;
  }

  /** A line the person typed (a terminal has already echoed it: it takes a line on screen). */
  typed(line: string): void {
    if (this.tty) this.blocks.push({ id: `typed:${this.blocks.length}`, lines: [line] });
  }

  /** A note from the terminal itself, e.g. "(no question to answer)". */
  note(text: string): void {
    this.print({ id: `note:${this.blocks.length}`, lines: [text] });
  }

  event(event: ShellEvent): void {
    switch (event.type) {
      case 'message':
        if (event.card) return this.card(event.id, event.card, event.thread);
        this.print({ id: event.id, lines: this.message(event) });
        return;
      case 'update':
        if (event.card) return this.card(event.id, event.card);
        this.print({ id: `${event.id}:edit`, lines: renderFences(`(edited) ${event.text}`, '    ') });
        return;
      case 'upload':
        this.print({
          id: event.id,
          lines: [
            `    ${this.tag(event.thread)}[file ${event.filename}${event.title ? ` - ${event.title}` : ''}]`,
            ...event.content.split('\n').map((l) => `      ${l}`),
          ],
        });
        return;
      case 'ask':
        return this.ask(event);
      case 'reaction':
        // The card in the thread shows the same status; nothing to add on a terminal.
        return;
    }
  }

  /** `/N.k` or `/k`: the message and choice meant, or why there is none. */
  resolvePress(command: string): { messageId: string; choice: number } | { error: string } {
    const m = /^\/(?:(\d+)\.)?(\d+)$/.exec(command);
    if (!m) return { error: `(not a button: ${command})` };
    const k = Number(m[2]);
    const live = [...this.pressable.values()].filter((p) => p.choices.some((c) => !c.url && !c.disabled));
    let target: Pressable | undefined;
    if (m[1]) target = [...this.pressable.values()].find((p) => p.n === Number(m[1]));
    else if (live.length === 1) target = live[0];
    // A question just asked of me is what a bare /k answers, however many cards show buttons.
    else if (live.at(-1)?.private) target = live.at(-1);
    else if (live.length === 0) return { error: '(no buttons to press)' };
    else
      return {
        error: `(several messages have buttons: say which, e.g. /${live.at(-1)!.n}.${k})`,
      };
    if (!target) return { error: `(no message ${m[1]} with buttons)` };
    const choice = target.choices[k - 1];
    if (!choice) return { error: `(message ${target.n} has no button ${k})` };
    if (choice.url) return { error: `(${choice.label} is a link: ${choice.url})` };
    if (choice.disabled) return { error: `(${choice.label}: already done)` };
    if (target.private) this.pressable.delete(target.id);
    return { messageId: target.id, choice: k };
  }

  private message(event: Extract<ShellEvent, { type: 'message' }>): string[] {
    const pad = event.thread ? '    ' : '';
    const who = event.whisperTo ? `${event.from} (to you only)` : event.from;
    const [first, ...rest] = renderFences(event.text, pad + '  ');
    return [`${pad}${this.tag(event.thread)}${who}: ${first.trimStart()}`, ...rest];
  }

  private ask(event: Ask): void {
    const n = this.number(event.id);
    this.pressable.set(event.id, {
      id: event.id,
      n,
      choices: event.choices,
      ...(event.whisperTo ? { private: true } : {}),
    });
    const [first, ...rest] = renderFences(event.question, '      ');
    this.print({
      id: event.id,
      lines: [
        `    ${this.tag(event.thread)}#${n} ? ${first.trimStart()}`,
        ...rest,
        buttonsLine(n, event.choices, '      '),
      ],
    });
  }

  private card(id: string, card: ChatCard, given?: string): void {
    const n = this.number(id);
    if (given) this.cardThreads.set(id, given);
    const thread = this.cardThreads.get(id);
    if (card.buttons) this.pressable.set(id, { id, n, choices: card.buttons.choices });
    else this.pressable.delete(id);
    const pad = '      ';
    const lines = [
      `    ${this.tag(thread)}#${n} ${card.emoji} ${card.action} · ${card.requester.name}`,
      `${pad}Execution ${card.executionId} · ${card.status} · ${card.elapsed}`,
      ...(card.code ? renderFences('```\n' + card.code + '\n```', pad) : []),
      ...(card.note ? renderFences(card.note, pad) : []),
      ...(card.buttons ? [buttonsLine(n, card.buttons.choices, pad)] : []),
    ];
    const at = this.blocks.findIndex((b) => b.id === id);
    if (at < 0) {
      this.print({ id, lines });
      return;
    }
    if (this.tty) {
      this.redraw(at, lines);
      return;
    }
    // Not a terminal: the card was printed when it appeared; add it again only once it is final.
    const working = card.emoji === '⏳';
    if (!working) this.print({ id: `${id}:final`, lines });
  }

  private print(block: Block): void {
    this.blocks.push(block);
    this.output.write(block.lines.join('\n') + '\n');
  }

  /** Moves the cursor up to block `at`, clears to the end of the screen and rewrites from there. */
  private redraw(at: number, lines: string[]): void {
    const below = this.blocks.slice(at).reduce((sum, b) => sum + b.lines.length, 0);
    this.blocks[at] = { id: this.blocks[at].id, lines };
    const rewrite = this.blocks.slice(at).flatMap((b) => b.lines);
    this.output.write(`\x1b[${below}A\r\x1b[J` + rewrite.join('\n') + '\n');
  }
}
