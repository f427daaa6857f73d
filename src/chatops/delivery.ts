import { joinPretext } from '../../aliases/index.js';
import { SquallError, errorMessage } from '../errors.js';
import { newId } from '../ids.js';
import type { Services } from '../service/index.js';
import type { ChatAdapter, PostedMessage } from './adapter.js';
import { beforeLeavingProcess } from '../store/index.js';

export const DELIVER_JOB = 'chatops.deliver';

export type DeliveryTarget =
  | { kind: 'chat'; adapter: string; channel: string; thread?: string; whisperTo?: string }
  | { kind: 'webhook'; url: string; headers?: Record<string, string> };

/** One message to get somewhere: a chat post (uploaded when too long) or a webhook POST. */
export interface Delivery {
  target: DeliveryTarget;
  text: string;
  /** The whole text when `text` is a cut of it: uploaded as a file where the adapter can. */
  fullText?: string;
  /** Webhook body extras (notify `data`). */
  data?: unknown;
  /** What this is, for logs and audit: "result of <id>", "notify ops for <id>". */
  what: string;
  /**
   * The execution this message is about (its result, its notification). Delivered messages about
   * an execution are audited (`chat.delivery`, outcome `delivered`) so its trace can show them.
   */
  execution_id?: string;
  attempt?: number;
  /** OutgoingMessage.idempotencyKey of the post (work done once per claim derives it from the claim). */
  idempotencyKey?: string;
  /** An earlier attempt may have posted it: the claim was taken over from a dead process. */
  mayRepeat?: boolean;
}

/** What an adapter sends to its provider: each waits for the store's sync() first (afterSync). */
const OUTGOING = new Set<string>(['post', 'update', 'uploadText', 'ask', 'react']);

/**
 * The adapter, whose posts, edits, uploads, questions and reactions leave only once the store has
 * synced (`durable`): the embedded store acknowledges writes at commit and fsyncs when something
 * leaves the process, and a chat message telling of an execution a power cut then took back would
 * disagree with the restarted server. Everything else (connect, handlers, capabilities) is the
 * adapter's own.
 */
export function afterSync(adapter: ChatAdapter, durable: () => Promise<void>): ChatAdapter {
  return new Proxy(adapter, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (typeof prop === 'string' && OUTGOING.has(prop))
        return (...args: unknown[]) => durable().then(() => fn.apply(target, args));
      return fn.bind(target);
    },
  });
}

/** Posts `text`; text over the adapter's limit is cut and the full text uploaded (or split). */
export async function postLong(
  adapter: ChatAdapter,
  target: {
    channel: string;
    thread?: string;
    whisperTo?: string;
    idempotencyKey?: string;
    mayRepeat?: boolean;
  },
  rawText: string,
  rawFull?: string,
): Promise<PostedMessage> {
  // Exchange aliases and notify messages use hubot's `{~}` pretext separator.
  const text = joinPretext(rawText);
  const fullText = rawFull === undefined ? undefined : joinPretext(rawFull);
  const max = adapter.capabilities.maxMessageLength;
  const whole = fullText ?? text;
  if (whole.length <= max) return adapter.post({ ...target, text: whole });
  // A file is seen by the whole channel: a whisper (an ephemeral error) is split instead.
  if (adapter.capabilities.uploads && !target.whisperTo) {
    const note = '\n(the full output is attached as a file)';
    const cut =
      text.length + note.length <= max ? text : whole.slice(0, Math.max(0, max - note.length - 1)) + '…';
    const first = await adapter.post({ ...target, text: cut + note });
    await adapter.uploadText({
      channel: target.channel,
      thread: target.thread ?? first.thread,
      filename: 'output.txt',
      content: whole,
      title: 'Full output',
    });
    return first;
  }
  // No files: several posts in the same thread, cut at line ends where possible.
  let first: PostedMessage | undefined;
  let rest = whole;
  while (rest.length > 0) {
    let end = Math.min(max, rest.length);
    if (end < rest.length) {
      const nl = rest.lastIndexOf('\n', end);
      if (nl > max / 2) end = nl + 1;
    }
    const posted = await adapter.post({
      ...target,
      thread: target.thread ?? first?.thread,
      text: rest.slice(0, end),
      ...(target.idempotencyKey && first
        ? { idempotencyKey: `${target.idempotencyKey}:${whole.length - rest.length}` }
        : {}),
    });
    first ??= posted;
    rest = rest.slice(end);
  }
  return first!;
}

/**
 * Gets messages to chat adapters and webhooks. A failed delivery is logged and retried by a
 * durable Agenda job with exponential backoff; after the last attempt it is logged as an error
 * and audited (`chat.delivery`, outcome `failed`), never dropped silently.
 */
export class Deliverer {
  constructor(
    private readonly services: Services,
    private readonly adapters: Map<string, ChatAdapter>,
  ) {}

  define(): void {
    this.services.scheduler.define<Delivery>(DELIVER_JOB, async (delivery) => {
      await this.send(delivery);
    });
  }

  /** Delivers now; on failure schedules a retry. Resolves with the post (undefined if it failed). */
  async send(delivery: Delivery): Promise<PostedMessage | undefined> {
    const attempt = delivery.attempt ?? 1;
    try {
      const posted = await this.once(delivery);
      if (delivery.execution_id) await this.audited(delivery, posted, attempt);
      return posted;
    } catch (err) {
      const { delivery_attempts: max, delivery_backoff_ms: backoff } = this.services.config.chatops;
      const log = this.services.logger.child({ component: 'chatops', what: delivery.what, attempt });
      if (attempt < max) {
        const waitMs = backoff * 2 ** (attempt - 1);
        log.warn({ err, retryInMs: waitMs }, `chat delivery failed (${delivery.what}); retrying`);
        await this.services.scheduler
          .at(new Date(Date.now() + waitMs), DELIVER_JOB, { ...delivery, attempt: attempt + 1 })
          .catch((e: unknown) => log.error({ err: e }, 'could not schedule the retry of a chat delivery'));
      } else {
        log.error({ err }, `chat delivery failed ${attempt} times (${delivery.what}); giving up`);
        await this.services.store.audit
          .insert({
            id: newId(),
            timestamp: new Date().toISOString(),
            kind: 'chat.delivery',
            outcome: 'failed',
            what: delivery.what,
            target: auditedTarget(delivery.target) as never,
            attempts: attempt,
            error: errorMessage(err),
          })
          .catch((e: unknown) => log.error({ err: e }, 'could not audit a failed chat delivery'));
      }
      return undefined;
    }
  }

  private async audited(
    delivery: Delivery,
    posted: PostedMessage | undefined,
    attempts: number,
  ): Promise<void> {
    await this.services.store.audit.insert({
      id: newId(),
      timestamp: new Date().toISOString(),
      kind: 'chat.delivery',
      outcome: 'delivered',
      what: delivery.what,
      execution_id: delivery.execution_id as string,
      target: auditedTarget(delivery.target) as never,
      ...(posted?.messageId ? { message_id: posted.messageId } : {}),
      text: delivery.text.slice(0, 500),
      attempts,
    });
  }

  private async once(delivery: Delivery): Promise<PostedMessage | undefined> {
    const t = delivery.target;
    if (t.kind === 'webhook') {
      await beforeLeavingProcess(this.services.store); // see afterSync
      const res = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(t.headers ?? {}) },
        body: JSON.stringify({ message: delivery.fullText ?? delivery.text, data: delivery.data ?? {} }),
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer();
      if (res.status >= 300)
        throw new SquallError('CHAT_WEBHOOK_FAILED', `webhook ${t.url} answered HTTP ${res.status}`, {
          url: t.url,
          status: res.status,
        });
      return undefined;
    }
    const adapter = this.adapters.get(t.adapter);
    if (!adapter)
      throw new SquallError(
        'CHAT_ADAPTER_MISSING',
        `chat adapter "${t.adapter}" is not running in this process (known: ${[...this.adapters.keys()].join(', ') || 'none'})`,
        { adapter: t.adapter },
      );
    return postLong(
      adapter,
      {
        channel: t.channel,
        thread: t.thread,
        whisperTo: t.whisperTo,
        ...(delivery.idempotencyKey
          ? {
              idempotencyKey: delivery.idempotencyKey,
              // A retried delivery's failed attempt may have posted too (a timeout after the post).
              mayRepeat: Boolean(delivery.mayRepeat) || (delivery.attempt ?? 1) > 1,
            }
          : {}),
      },
      delivery.text,
      delivery.fullText,
    );
  }
}

/** Where a delivery went, as audited: never a webhook's headers (they may carry credentials). */
function auditedTarget(t: DeliveryTarget): Record<string, unknown> {
  return t.kind === 'webhook'
    ? { kind: 'webhook', url: t.url }
    : { kind: 'chat', adapter: t.adapter, channel: t.channel, ...(t.thread ? { thread: t.thread } : {}) };
}
