import type { Redis } from 'ioredis';
import { SquallError } from '../errors.js';
import { connectRedis } from '../redis.js';
import type { EventHandler, EventTransport, SquallEvent } from './index.js';

export const EVENTS_CHANNEL = 'squall:events';

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
    } = {},
    private readonly channel = options.channel ?? EVENTS_CHANNEL,
  ) {
    this.onError = options.onError ?? (() => undefined);
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
      // Redis sends every process its own events back; the bus would drop them after parsing.
      for (const own of this.ownPrefixes) if (message.startsWith(own)) return;
      let parsed: SquallEvent | SquallEvent[];
      try {
        parsed = JSON.parse(message) as SquallEvent | SquallEvent[];
      } catch (err) {
        this.onError(
          new SquallError('EVENT_UNREADABLE', `an event on Redis channel ${channel} is not JSON`, {
            channel,
            cause: String(err),
            length: message.length,
          }),
        );
        return;
      }
      if (!Array.isArray(parsed)) this.handler(parsed);
      else for (const event of parsed) this.handler?.(event);
    });
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
    // Queued before anything is awaited: the first publish waits for the connection, and the
    // ones made meanwhile must not overtake it.
    return new Promise<void>((resolve, reject) => {
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
        await this.pub.publish(this.channel, JSON.stringify(events.length === 1 ? events[0] : events));
        for (const q of batch) q.resolve();
      } catch (err) {
        for (const q of batch) q.reject(err);
      }
    }
  }

  async subscribe(handler: EventHandler, origin?: string): Promise<void> {
    this.handler = handler;
    if (origin !== undefined) {
      const own = `{"origin":${JSON.stringify(origin)},`;
      this.ownPrefixes = [own, `[${own}`];
    }
    await this.connect(this.sub);
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
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The same event with `origin` as its first key, so a subscriber can tell its own from the text. */
function originFirst(event: SquallEvent): SquallEvent {
  if (event.origin === undefined) return event;
  const { origin, ...rest } = event;
  return { origin, ...rest };
}
