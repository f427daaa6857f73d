import type { OutputType } from './types.js';

/** Output kept per stream of one execution when the config sets nothing (`executions.max_output_chars`). */
export const DEFAULT_MAX_OUTPUT_CHARS = 64 * 1024 * 1024;
/** What is kept of the end of an over-long stream: where a failing command says why. */
const TAIL_CHARS = 64 * 1024;

/**
 * Collects one stream of a child's output, bounded.
 *
 * A command that never stops printing (`yes`, `tail -f`, a loop) until its timeout would otherwise
 * be held whole in the service's memory, streamed into the store line by line and stored again as
 * the result: 15 s of `yes` made a 394 MB result and 1.8 GB of RSS, and a longer timeout kills
 * the service. Past the limit the beginning is kept (and was streamed live), then the last 64 KiB,
 * with a line in between saying how much was dropped and which setting to raise.
 */
export class OutputCapture {
  private readonly head: string[] = [];
  private headLength = 0;
  private tail: string[] = [];
  private tailLength = 0;
  private dropped = 0;
  private readonly headLimit: number;

  constructor(
    private readonly type: OutputType,
    private readonly limit: number,
    private readonly emit: (type: OutputType, text: string) => void,
  ) {
    this.headLimit = limit > 0 ? Math.max(0, limit - Math.min(TAIL_CHARS, Math.floor(limit / 2))) : Infinity;
  }

  add(text: string): void {
    if (this.headLength < this.headLimit) {
      const room = this.headLimit - this.headLength;
      const part = text.length <= room ? text : text.slice(0, room);
      this.head.push(part);
      this.headLength += part.length;
      this.emit(this.type, part);
      if (part.length === text.length) return;
      text = text.slice(part.length);
    }
    this.tail.push(text);
    this.tailLength += text.length;
    const keep = this.limit - this.headLimit;
    while (this.tail.length > 1 && this.tailLength - this.tail[0].length >= keep) {
      const first = this.tail.shift() as string;
      this.tailLength -= first.length;
      this.dropped += first.length;
    }
  }

  /** Streams what was held back at the end, and returns the whole kept text. */
  finish(): string {
    if (!(this.limit > 0)) return this.head.join('');
    const keep = this.limit - this.headLimit;
    let tail = this.tail.join('');
    if (tail.length > keep) {
      this.dropped += tail.length - keep;
      tail = tail.slice(tail.length - keep);
    }
    this.tail = [];
    const note = this.dropped
      ? `\n[squall: ${this.dropped.toLocaleString('en-US')} characters of ${this.type} were dropped here: more than executions.max_output_chars (${this.limit.toLocaleString('en-US')}) in all]\n`
      : '';
    if (note || tail) this.emit(this.type, note + tail);
    return this.head.join('') + note + tail;
  }
}
