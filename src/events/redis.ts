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
  private readonly onError: (err: unknown) => void;

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
    // Publishes made in one turn of the event loop go out in one socket write, in order (a
    // webhook publishes several events at once; one write each was ~2 s of the api,rules
    // process's 32 s of CPU over 500 webhooks on the scale-out bench).
    this.pub = connectRedis(url, { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true });
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
      let event: SquallEvent;
      try {
        event = JSON.parse(message) as SquallEvent;
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
      this.handler(event);
    });
  }

  async publish(event: SquallEvent): Promise<void> {
    await this.connect(this.pub);
    await this.pub.publish(this.channel, JSON.stringify(event));
  }

  async subscribe(handler: EventHandler): Promise<void> {
    this.handler = handler;
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
