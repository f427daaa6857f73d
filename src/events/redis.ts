import type { Redis } from 'ioredis';
import { SquallError } from '../errors.js';
import { connectRedis } from '../redis.js';
import type { EventHandler, EventTransport, SquallEvent } from './index.js';

export const EVENTS_CHANNEL = 'squall:events';

/** A process's answer to an announcement it has handled; consumed by the transport, never delivered. */
const ACK_EVENT = 'squall.transport__ack';
/** How long an announcement waits for the processes that have not answered yet. */
export const ANNOUNCE_WAIT_MS = 1000;
/**
 * After an announcement some subscribers never answered (a process of an older version during a
 * rolling upgrade, or a subscriber that is not Squall), how long the next ones do not wait for as
 * many: each content write would otherwise wait ANNOUNCE_WAIT_MS.
 */
const SILENT_FOR_MS = 10 * 60_000;
/** Announcements that stopped waiting whose late answers are still counted. */
const MAX_LATE = 32;

/**
 * Carries bus events between processes over Redis pub/sub, so an SSE client or a chat thread
 * attached to one process sees what every process does. Events carry their origin; EventBus
 * drops its own on the way back in, so nothing echoes.
 */
export class RedisEventTransport implements EventTransport {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private handler?: EventHandler;
  /** How a message this process published begins (its origin first); such a message is not parsed. */
  private ownPrefixes: string[] = [];
  private readonly onError: (err: unknown) => void;
  /** Events waiting for the PUBLISH in flight to be answered; they go out together in the next one. */
  private queued: Queued[] = [];
  private sending = false;
  private origin?: string;
  private announcements = 0;
  /** Announcements waiting for acknowledgements, by token. */
  private readonly awaiting = new Map<string, PendingAnnouncement>();
  /** Subscribers that did not answer the last announcement they missed, excused until `until`. */
  private silent = { count: 0, until: 0 };
  /**
   * Announcements that stopped waiting, by token: an answer that still comes was from a process
   * that is slow, not silent, and the next announcements wait for it again.
   */
  private readonly late = new Map<string, number>();
  private readonly announceWaitMs: number;

  constructor(
    url: string,
    options: {
      channel?: string;
      onError?: (err: unknown) => void;
      /**
       * Told when the subscription is lost (false: events published meanwhile are missed) and when
       * it is back and subscribed again (true).
       */
      onLink?: (up: boolean) => void;
      /** How long announce() waits for subscribers that have not answered (ANNOUNCE_WAIT_MS). */
      announceWaitMs?: number;
    } = {},
    private readonly channel = options.channel ?? EVENTS_CHANNEL,
  ) {
    this.onError = options.onError ?? (() => undefined);
    this.announceWaitMs = options.announceWaitMs ?? ANNOUNCE_WAIT_MS;
    // A publish made while Redis is away is queued and sent on reconnect (ioredis offline queue).
    // Events are joined into one PUBLISH here (publish()), so the client needs no auto-pipelining.
    this.pub = connectRedis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    this.sub = connectRedis(url, { lazyConnect: true });
    for (const conn of [this.pub, this.sub]) conn.on('error', (err) => this.onError(err));
    const onLink = options.onLink;
    if (onLink) {
      let lost = false;
      this.sub.on('close', () => {
        if (!this.handler || lost) return;
        lost = true;
        onLink(false);
      });
      // ioredis subscribes again on its own after 'ready'; our own SUBSCRIBE is answered after
      // its, so once it is, no event can slip by unheard.
      this.sub.on('ready', () => {
        if (!lost || !this.handler) return;
        this.sub.subscribe(this.channel).then(
          () => {
            lost = false;
            onLink(true);
          },
          (err: unknown) => this.onError(err),
        );
      });
    }
    this.sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel || !this.handler) return;
      // Redis sends every process its own events back; the bus would drop them after parsing. An
      // announcement's echo is counted: it tells that this process's subscription received it.
      for (const own of this.ownPrefixes)
        if (message.startsWith(own)) {
          if (this.awaiting.size > 0 && message.includes('"ack":')) this.heardOwn(message);
          return;
        }
      const parsed = this.parse(message);
      if (parsed === undefined) return;
      for (const event of this.events(parsed)) {
        if (event.name === ACK_EVENT) {
          this.acknowledged((event.payload as { token?: unknown } | undefined)?.token);
          continue;
        }
        // This runs in ioredis's socket read: a throw here would be uncaught and stop the process
        // (crash policy), and the rest of the message would go unheard. Anything that can publish
        // on the channel (another process's bug, a peer on Redis) must not stop this one.
        try {
          this.handler?.(event);
        } catch (err) {
          this.onError(
            new SquallError(
              'EVENT_HANDLER_FAILED',
              `handling ${event.name.slice(0, 200)} from process ${shown(event.origin)} (Redis channel ${this.channel}) failed: ${err instanceof Error ? err.message : 'a value that is not an Error was thrown'}`,
              {
                channel: this.channel,
                event: event.name.slice(0, 200),
                origin: shown(event.origin),
                cause: err,
              },
            ),
          );
        }
        // Handlers run synchronously: once this returns, the event has been acted on here. A
        // handler that failed was reported above; waiting for this process would not mend it.
        if (typeof event.ack === 'string' && this.origin !== undefined)
          void this.publish({
            name: ACK_EVENT,
            payload: { token: event.ack },
            origin: this.origin,
            timestamp: new Date().toISOString(),
          }).catch((err: unknown) => this.onError(err));
      }
    });
  }

  private parse(message: string): unknown {
    try {
      return JSON.parse(message) as unknown;
    } catch (err) {
      this.onError(
        new SquallError('EVENT_UNREADABLE', `an event on Redis channel ${this.channel} is not JSON`, {
          channel: this.channel,
          cause: String(err),
          length: message.length,
        }),
      );
      return undefined;
    }
  }

  private heardOwn(message: string): void {
    const parsed = this.parse(message);
    if (parsed === undefined) return;
    for (const event of this.events(parsed)) if (typeof event.ack === 'string') this.acknowledged(event.ack);
  }

  /**
   * The events of a message: an event or an array of them. What is not an object with a string
   * `name` is reported and left out (the bus and its handlers read `name` and `payload` of each).
   */
  private events(parsed: unknown): SquallEvent[] {
    const out: SquallEvent[] = [];
    for (const item of Array.isArray(parsed) ? (parsed as unknown[]) : [parsed]) {
      if (isEvent(item)) out.push(item);
      else
        this.onError(
          new SquallError(
            'EVENT_MALFORMED',
            `a message on Redis channel ${this.channel} holds something that is not an event (an object with a string "name"): left out`,
            { channel: this.channel, sample: shown(item) },
          ),
        );
    }
    return out;
  }

  private acknowledged(token: unknown): void {
    if (typeof token !== 'string') return;
    const waiting = this.awaiting.get(token);
    if (waiting) waiting.acknowledged();
    else if (this.late.has(token)) this.silent.count = Math.max(0, this.silent.count - 1);
  }

  /**
   * Sends `event` and resolves once every subscriber that received it has handled it: PUBLISH
   * answers how many subscriptions received the message (this process's own included, which
   * counts when its echo arrives), and each other process answers once its handlers have run.
   * Without this, a process elsewhere could serve a request before reading the message (a
   * client told "done" sends its next request at once, maybe to another host). Subscribers that
   * do not answer within announceWaitMs are reported and excused for a while.
   */
  async announce(event: SquallEvent): Promise<void> {
    const token = `${this.origin ?? process.pid}:${++this.announcements}`;
    const pending = new PendingAnnouncement();
    this.awaiting.set(token, pending);
    try {
      const receivers = await this.send1({ ...event, ack: token });
      const excused = Date.now() < this.silent.until ? this.silent.count : 0;
      const missing = await pending.answered(Math.max(0, receivers - excused), this.announceWaitMs);
      if (missing > 0) {
        this.silent = { count: excused + missing, until: Date.now() + SILENT_FOR_MS };
        this.late.set(token, this.silent.until);
        for (const [t, until] of this.late)
          if (until <= Date.now() || this.late.size > MAX_LATE) this.late.delete(t);
        this.onError(
          new SquallError(
            'EVENT_ANNOUNCE_UNANSWERED',
            `${missing} of ${receivers} subscribers of Redis channel ${this.channel} did not acknowledge ${event.name} within ${this.announceWaitMs} ms: a process that has not heard it may act on what it kept until it does (a process of an older Squall version, or a subscriber that is not Squall?)`,
            { channel: this.channel, event: event.name, receivers, missing },
          ),
        );
      }
    } finally {
      this.awaiting.delete(token);
    }
  }

  /**
   * One PUBLISH at a time: events published while one is unanswered go out together in the
   * next, as one message (a JSON array; a lone event is sent as itself). Each message is a
   * socket write here and a read in every subscribed process; a webhook publishes ~13 events
   * across its processes, at moments too far apart for the client's auto-pipelining to join.
   * An event waits at most for the turn of the event loop it was published in and for the
   * PUBLISH before it; order is kept.
   */
  publish(event: SquallEvent): Promise<void> {
    return this.send1(event).then(() => undefined);
  }

  /** Queues `event` for the next PUBLISH; resolves with how many subscriptions received it. */
  private send1(event: SquallEvent): Promise<number> {
    // Queued before anything is awaited: the first publish waits for the connection, and the
    // ones made meanwhile must not overtake it.
    return new Promise<number>((resolve, reject) => {
      this.queued.push({ event, resolve, reject });
      if (this.sending) return;
      // Sent after this turn of the event loop, with whatever else it publishes.
      this.sending = true;
      setImmediate(() => void this.send());
    });
  }

  private async send(): Promise<void> {
    for (;;) {
      const batch = this.queued;
      this.queued = [];
      if (batch.length === 0) {
        this.sending = false;
        return;
      }
      try {
        await this.connect(this.pub);
        const events = batch.map((q) => originFirst(q.event));
        const receivers = await this.pub.publish(
          this.channel,
          JSON.stringify(events.length === 1 ? events[0] : events),
        );
        for (const q of batch) q.resolve(receivers);
      } catch (err) {
        for (const q of batch) q.reject(err);
      }
    }
  }

  async subscribe(handler: EventHandler, origin?: string): Promise<void> {
    this.handler = handler;
    this.origin = origin;
    if (origin !== undefined) {
      const own = `{"origin":${JSON.stringify(origin)},`;
      this.ownPrefixes = [own, `[${own}`];
    }
    // The publishing connection too: an acknowledgement must not wait for a connection's handshake.
    await Promise.all([this.connect(this.sub), this.connect(this.pub)]);
    await this.sub.subscribe(this.channel);
  }

  async close(): Promise<void> {
    this.handler = undefined;
    await Promise.all([this.pub, this.sub].map((c) => (c.status === 'wait' ? c.disconnect() : c.quit())));
  }

  private async connect(conn: Redis): Promise<void> {
    if (conn.status !== 'wait') return;
    try {
      await conn.connect();
    } catch (err) {
      throw new SquallError('REDIS_UNREACHABLE', `cannot connect to Redis for events: ${String(err)}`, {
        channel: this.channel,
      });
    }
  }
}

interface Queued {
  event: SquallEvent;
  resolve: (receivers: number) => void;
  reject: (err: unknown) => void;
}

/** One announcement waiting for its acknowledgements (this process's own echo included). */
class PendingAnnouncement {
  private acks = 0;
  /** How many acknowledgements it waits for: unknown until PUBLISH answers how many received it. */
  private needed = Infinity;
  private settle!: () => void;
  private readonly settled = new Promise<void>((resolve) => (this.settle = resolve));

  /** One more answer (one may come before PUBLISH answers). */
  acknowledged(): void {
    this.acks++;
    this.check();
  }

  /** Waits at most `ms` for `needed` answers in all; how many were still missing then (0: none). */
  async answered(needed: number, ms: number): Promise<number> {
    this.needed = needed;
    this.check();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
    return Math.max(0, this.needed - this.acks);
  }

  private check(): void {
    if (this.acks >= this.needed) this.settle();
  }
}

/** A value read off the channel, for a log line: its JSON, cut short (it may be anything, of any size). */
function shown(value: unknown): string {
  return String(JSON.stringify(value)).slice(0, 200);
}

function isEvent(value: unknown): value is SquallEvent {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { name?: unknown }).name === 'string'
  );
}

/** The same event with `origin` as its first key, so a subscriber can tell its own from the text. */
function originFirst(event: SquallEvent): SquallEvent {
  if (event.origin === undefined) return event;
  const { origin, ...rest } = event;
  return { origin, ...rest };
}
