import { EventEmitter } from 'node:events';
import { outsideStoreGroup, whenDurable } from '../store/index.js';
import { globSource } from '../regex.js';

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
  /** Set by a transport on an announcement whose receivers acknowledge it (EventTransport.announce). */
  ack?: string;
}

export type EventHandler = (event: SquallEvent) => void;

export interface EventTransport {
  publish(event: SquallEvent): Promise<void>;
  /**
   * Sends `event` to the other processes and resolves once every one of them has handled it, or
   * once the transport stopped waiting for those that do not answer (it reports them).
   */
  announce(event: SquallEvent): Promise<void>;
  /** `origin`: the subscriber's own; a transport may drop its events before reading them. */
  subscribe(handler: EventHandler, origin?: string): Promise<void>;
  close(): Promise<void>;
}

interface Subscription {
  re: RegExp;
  handler: EventHandler;
}

export class EventBus {
  private readonly emitter = new EventEmitter();
  /** Every subscription, in the order they were made: the order handlers hear an event. */
  private subscriptions: Subscription[] = [];
  /**
   * Per event name, the subscriptions it matches, kept up to date as they come and go, so an
   * event is handed to its own handlers instead of being tested against every pattern (a
   * `?wait` webhook adds three for its whole wait). A list is replaced, never changed in place:
   * an event being delivered goes to the handlers there were when it started, as EventEmitter did.
   */
  private readonly byName = new Map<string, Subscription[]>();
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
      if (event.origin !== this.origin) this.deliver(event, true);
    }, this.origin);
  }

  publish<P>(name: string, payload: P): void {
    const event: SquallEvent<P> = { name, payload, origin: this.origin, timestamp: new Date().toISOString() };
    // Records are committed before their event is out (a store transaction defers it until then),
    // and listeners act on their own, outside the publisher's transaction. Whatever a listener
    // sends out of the process waits for the store's sync() (durable before any effect).
    whenDurable(() =>
      outsideStoreGroup(() => {
        this.deliver(event);
        const transport = this.transport;
        if (transport)
          void this.durable()
            .then(() => transport.publish(event))
            .catch((err: unknown) => this.emitter.emit('transport-error', err));
      }),
    );
  }

  /**
   * Sends an event to the other processes only (none without a transport), resolving once each of
   * them has handled it: for a change the others must act on before the caller goes on (a client
   * told "done" may send its next request to any process at once).
   */
  async announce<P>(name: string, payload: P): Promise<void> {
    if (!this.transport) return;
    await this.transport.announce({
      name,
      payload,
      origin: this.origin,
      timestamp: new Date().toISOString(),
    });
  }

  /** Subscribes to every event whose name matches `pattern` (`*` is a wildcard); returns an unsubscribe. */
  subscribe(pattern: string | RegExp, handler: EventHandler): () => void {
    const re = typeof pattern === 'string' ? patternRegex(pattern) : pattern;
    const subscription: Subscription = { re, handler };
    this.subscriptions.push(subscription);
    for (const [name, subs] of this.byName) if (re.test(name)) this.byName.set(name, [...subs, subscription]);
    return () => {
      const at = this.subscriptions.indexOf(subscription);
      if (at < 0) return;
      this.subscriptions.splice(at, 1);
      for (const [name, subs] of this.byName)
        if (subs.includes(subscription))
          this.byName.set(
            name,
            subs.filter((s) => s !== subscription),
          );
    };
  }

  /**
   * Hands `event` to its handlers. One from another process (`remote`) reaches every handler even
   * when one of them throws (its payload is whatever was published on the channel): the first
   * error is thrown once all have run, for the transport to report.
   */
  private deliver(event: SquallEvent, remote = false): void {
    let subs = this.byName.get(event.name);
    if (!subs) {
      // Names are a fixed vocabulary; the bound only guards against a caller that makes them up.
      if (this.byName.size >= MAX_CACHED_NAMES) this.byName.clear();
      subs = this.subscriptions.filter((s) => s.re.test(event.name));
      this.byName.set(event.name, subs);
    }
    if (!remote) {
      for (const s of subs) s.handler(event);
      return;
    }
    let failed: { err: unknown } | undefined;
    for (const s of subs)
      try {
        s.handler(event);
      } catch (err) {
        failed ??= { err };
      }
    if (failed) throw failed.err;
  }

  onTransportError(handler: (err: unknown) => void): void {
    this.emitter.on('transport-error', handler);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
    this.subscriptions = [];
    this.byName.clear();
    await this.transport?.close();
  }
}

const MAX_CACHED_NAMES = 1000;

/** Compiled once per pattern: a `?wait` webhook subscribes three times per request. */
const patterns = new Map<string, RegExp>();

function patternRegex(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp('^' + globSource(pattern) + '$');
    if (patterns.size < MAX_CACHED_NAMES) patterns.set(pattern, re);
  }
  return re;
}

export { RedisEventTransport } from './redis.js';
