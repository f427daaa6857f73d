import { EventEmitter } from 'node:events';
import { outsideStoreGroup, whenDurable } from '../store/index.js';

/**
 * Events use st2's names (`st2.execution__create`, `st2.execution.output__create`, …) so the SSE
 * stream can pass them through unchanged. Records are written before their event is published.
 */
export interface SquallEvent<P = unknown> {
  name: string;
  payload: P;
  /** Process that published it; the Redis bridge uses it to avoid echoes. */
  origin?: string;
  timestamp: string;
}

export type EventHandler = (event: SquallEvent) => void;

export interface EventTransport {
  publish(event: SquallEvent): Promise<void>;
  /** `origin`: the subscriber's own; a transport may drop its events before reading them. */
  subscribe(handler: EventHandler, origin?: string): Promise<void>;
  close(): Promise<void>;
}

export class EventBus {
  private readonly emitter = new EventEmitter();
  private transport?: EventTransport;
  /** Awaited before an event goes to another process (the store's sync(); see durableBeforeTransport). */
  private durable: () => Promise<void> = () => Promise.resolve();

  constructor(readonly origin: string = `${process.pid}`) {
    this.emitter.setMaxListeners(0);
  }

  /**
   * Events leave for other processes only once `durable` resolves: the embedded store
   * acknowledges writes at commit and fsyncs when something leaves the process, and another
   * process must not act on a record a power cut could take back.
   */
  durableBeforeTransport(durable: () => Promise<void>): void {
    this.durable = durable;
  }

  /** Bridges events between processes (Redis when scaled out). */
  async attach(transport: EventTransport): Promise<void> {
    this.transport = transport;
    await transport.subscribe((event) => {
      if (event.origin !== this.origin) this.emitter.emit('event', event);
    }, this.origin);
  }

  publish<P>(name: string, payload: P): void {
    const event: SquallEvent<P> = { name, payload, origin: this.origin, timestamp: new Date().toISOString() };
    // Records are committed before their event is out (a store transaction defers it until then),
    // and listeners act on their own, outside the publisher's transaction. Whatever a listener
    // sends out of the process waits for the store's sync() (durable before any effect).
    whenDurable(() =>
      outsideStoreGroup(() => {
        this.emitter.emit('event', event);
        const transport = this.transport;
        if (transport)
          void this.durable()
            .then(() => transport.publish(event))
            .catch((err: unknown) => this.emitter.emit('transport-error', err));
      }),
    );
  }

  /**
   * Sends an event to the other processes only (none without a transport), resolving once the
   * transport has taken it: for a change the others must hear of before the caller goes on.
   */
  async announce<P>(name: string, payload: P): Promise<void> {
    if (!this.transport) return;
    await this.transport.publish({ name, payload, origin: this.origin, timestamp: new Date().toISOString() });
  }

  /** Subscribes to every event whose name matches `pattern` (`*` is a wildcard); returns an unsubscribe. */
  subscribe(pattern: string | RegExp, handler: EventHandler): () => void {
    const re =
      typeof pattern === 'string'
        ? new RegExp('^' + pattern.split('*').map(escapeRegex).join('.*') + '$')
        : pattern;
    const listener = (event: SquallEvent) => {
      if (re.test(event.name)) handler(event);
    };
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  onTransportError(handler: (err: unknown) => void): void {
    this.emitter.on('transport-error', handler);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
    await this.transport?.close();
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
export { RedisEventTransport } from './redis.js';
