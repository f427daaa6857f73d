import type { Readable, Writable } from 'node:stream';
import { boundedLines } from './bounded-lines.js';

/** The largest message (a result, a datastore call, a dispatch) a child may send on its channel. */
export const MAX_CHANNEL_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * Requests from one child the service works on at once. Past it the channel is not read until
 * one is answered: a child that floods requests waits on its own writes, and the service holds at
 * most this many (and the rest of one read chunk) instead of a queue as long as the flood.
 */
export const MAX_CHANNEL_IN_FLIGHT = 64;

export interface JsonChannelOptions {
  /** Names the child in errors: `nodejs action "pack.name"`, `sensor "pack.Class"`. */
  who: string;
  maxMessageBytes?: number;
  maxInFlight?: number;
  /**
   * One message. A promise is a request being served (counted in flight until it settles);
   * `false` means the message is not part of the protocol.
   */
  onMessage(msg: Record<string, unknown>): Promise<unknown> | boolean | void;
  /**
   * The child broke the channel's bounds (a message too large, a line that is not JSON, a message
   * the protocol does not have): called once, with the reason; the channel is then closed and
   * nothing more from it is read. The caller stops the child.
   */
  onViolation(reason: string): void;
  onError?(err: Error): void;
}

export interface JsonChannel {
  /** Writes one message to the child (dropped once the channel is closed). */
  send(msg: Record<string, unknown>): void;
  /** Why the channel was closed on the child, if it was. */
  violation(): string | undefined;
}

/**
 * Serves a child's JSON-lines channel (fd 3) within bounds: a line longer than maxMessageBytes is
 * not kept (boundedLines), and at most maxInFlight requests are worked on at once.
 */
export function serveJsonChannel(channel: Readable & Writable, options: JsonChannelOptions): JsonChannel {
  const maxBytes = options.maxMessageBytes ?? MAX_CHANNEL_MESSAGE_BYTES;
  const maxInFlight = options.maxInFlight ?? MAX_CHANNEL_IN_FLIGHT;
  let violation: string | undefined;
  let inFlight = 0;
  let paused = false;

  const violate = (reason: string): void => {
    if (violation !== undefined) return;
    violation = reason;
    channel.destroy();
    options.onViolation(reason);
  };
  channel.on('error', (err) => options.onError?.(err));

  // Lines read while the channel is paused (the rest of the chunk that filled it): served on resume.
  const backlog: string[] = [];
  const onLine = (line: string): void => {
    if (paused) backlog.push(line);
    else serve(line);
  };
  const serve = (line: string): void => {
    if (violation !== undefined || line === '') return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      violate(`${options.who} wrote a line that is not JSON on its channel: ${line.slice(0, 200)}`);
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      violate(`${options.who} sent a message that is not an object on its channel`);
      return;
    }
    const handled = options.onMessage(msg as Record<string, unknown>);
    if (handled === false) {
      violate(
        `${options.who} sent a message the channel does not have (type ${JSON.stringify((msg as { type?: unknown }).type ?? null)})`,
      );
      return;
    }
    if (!(handled instanceof Promise)) return;
    inFlight++;
    if (inFlight >= maxInFlight && !paused) {
      paused = true;
      channel.pause();
    }
    void handled.finally(() => {
      inFlight--;
      if (!paused || inFlight >= maxInFlight || violation !== undefined) return;
      paused = false;
      while (backlog.length && !paused) serve(backlog.shift() as string);
      if (!paused) channel.resume();
    });
  };

  boundedLines(channel, maxBytes, onLine, (bytes) =>
    violate(
      `${options.who} sent a message of more than ${maxBytes.toLocaleString('en-US')} bytes on its channel (${bytes.toLocaleString('en-US')} read when it was dropped); send less, or store it elsewhere and send where`,
    ),
  );

  return {
    send(msg) {
      if (violation === undefined && !channel.destroyed && channel.writable)
        channel.write(`${JSON.stringify(msg)}\n`);
    },
    violation: () => violation,
  };
}
