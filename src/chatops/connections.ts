/**
 * One connection per bot across processes. A chat adapter that connects as a bot account
 * (Slack, Discord: a bot token) is connected by exactly one process with the `chat` role, under
 * the lease `chat:<adapter>:<hash of the token>` (src/scale/leases.ts); when that process dies
 * another takes the lease and connects. The token itself is never stored or logged.
 *
 * Every other process still posts through that bot: its adapter is a LeasedAdapter, which sends
 * post/update/upload/ask/lookupUser/react to the connected process over the event bus (Redis) and
 * waits for the answer. So a result, notification or inquiry finished by any process reaches
 * chat. Adapters without a token (the terminal) are process-local and connected everywhere.
 */
import { createHash } from 'node:crypto';
import { SquallError, errorMessage } from '../errors.js';
import { newId } from '../ids.js';
import type { Leases } from '../scale/index.js';
import { redactText } from '../secret-paths.js';
import type { Services } from '../service/index.js';
import type {
  ButtonHandler,
  CardReaction,
  ChatAdapter,
  ChatStateStore,
  ChatUser,
  MessageHandler,
  MessageUpdate,
  OutgoingMessage,
  PostedMessage,
  Question,
  TextUpload,
} from './adapter.js';
import type { FormHandlers } from './forms.js';
import type { ChatTransportOff } from './registry.js';

const FORWARD = 'squall.chatops.forward';
const FORWARD_RESULT = 'squall.chatops.forward.result';

type ForwardMethod = 'post' | 'update' | 'uploadText' | 'ask' | 'lookupUser' | 'react';

interface ForwardRequest {
  id: string;
  identity: string;
  method: ForwardMethod;
  args: unknown;
}

interface ForwardResult {
  id: string;
  result?: unknown;
  error?: { code: string; message: string };
}

/**
 * The bot account an adapter connects as: the adapter's own `identity`, else its name and a hash
 * of the token in its config section (chatops.<name>.bot_token or .token). Undefined for
 * process-local transports.
 */
export function chatAdapterIdentity(services: Services, adapter: ChatAdapter): string | undefined {
  if (adapter.identity) return adapter.identity;
  const section = (services.config.chatops as unknown as Record<string, unknown>)[adapter.name] as
    { bot_token?: unknown; token?: unknown } | undefined;
  const token = section?.bot_token ?? section?.token;
  if (typeof token !== 'string' || token === '') return undefined;
  return `${adapter.name}:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
}

/** The secrets of an adapter's config section (tokens, signing secrets): never shown in its status. */
function adapterSecrets(services: Services, name: string): string[] {
  const section = (services.config.chatops as unknown as Record<string, unknown>)[name];
  if (!section || typeof section !== 'object') return [];
  return Object.entries(section)
    .filter(([k, v]) => typeof v === 'string' && /token|secret|password|key/i.test(k))
    .map(([, v]) => v as string);
}

/** A shared adapter as this process sees it: itself when connected here, a forwarder otherwise. */
export class LeasedAdapter implements ChatAdapter {
  connectedHere = false;

  constructor(
    readonly inner: ChatAdapter,
    readonly identity: string,
    private readonly forward: (identity: string, method: ForwardMethod, args: unknown) => Promise<unknown>,
  ) {}

  get name() {
    return this.inner.name;
  }
  get capabilities() {
    return this.inner.capabilities;
  }
  get routes() {
    return this.inner.routes;
  }
  /** Connecting is the lease holder's business (ChatConnections). */
  async connect(): Promise<void> {
    await this.inner.connect();
    this.connectedHere = true;
  }
  async disconnect(): Promise<void> {
    this.connectedHere = false;
    await this.inner.disconnect();
  }
  onMessage(handler: MessageHandler): void {
    this.inner.onMessage(handler);
  }
  onButton(handler: ButtonHandler): void {
    this.inner.onButton(handler);
  }
  // Forms, state and reactions are the inner adapter's: without these a bot configured with a
  // token (always wrapped) offered no "Fill in…" and put no ⏳/✅ on commands.
  get forms() {
    return this.inner.forms;
  }
  onForm(handlers: FormHandlers): void {
    this.inner.onForm?.(handlers);
  }
  useState(state: ChatStateStore): void {
    this.inner.useState?.(state);
  }
  notes(): string[] {
    return this.inner.notes?.() ?? [];
  }
  async react(
    target: { channel: string; messageId: string },
    add: CardReaction,
    remove?: CardReaction,
  ): Promise<void> {
    await this.call('react', { target, add, ...(remove ? { remove } : {}) });
  }
  post(message: OutgoingMessage): Promise<PostedMessage> {
    return this.call('post', message) as Promise<PostedMessage>;
  }
  async update(update: MessageUpdate): Promise<void> {
    await this.call('update', update);
  }
  uploadText(upload: TextUpload): Promise<PostedMessage> {
    return this.call('uploadText', upload) as Promise<PostedMessage>;
  }
  ask(question: Question): Promise<PostedMessage> {
    return this.call('ask', question) as Promise<PostedMessage>;
  }
  lookupUser(id: string): Promise<ChatUser | null> {
    return this.call('lookupUser', id) as Promise<ChatUser | null>;
  }

  /** Runs `method` on the real adapter: here when connected here, else in the holder's process. */
  async call(method: ForwardMethod, args: unknown): Promise<unknown> {
    if (!this.connectedHere) return this.forward(this.identity, method, args);
    if (method === 'react') {
      const { target, add, remove } = args as {
        target: { channel: string; messageId: string };
        add: CardReaction;
        remove?: CardReaction;
      };
      return this.inner.react?.(target, add, remove);
    }
    const inner = this.inner as unknown as Record<ForwardMethod, (a: unknown) => Promise<unknown>>;
    return inner[method](args);
  }
}

export interface ChatConnectionStatus {
  adapter: string;
  /** `<adapter>:<token hash>`; null for a process-local adapter (the terminal). */
  identity: string | null;
  connected_here: boolean;
  /** The Squall process (worker id) connected to it; null when nobody is. */
  held_by: string | null;
  this_process: string;
  /**
   * `connected` (here), `elsewhere` (another process is), `failed` (this process's last try was
   * refused, or the transport is enabled without a setting it needs: `error` says why and what to
   * change), `waiting` (nobody yet), `off` (not enabled: `reason`).
   */
  state: 'connected' | 'elsewhere' | 'failed' | 'waiting' | 'off';
  /**
   * Why this process could not connect, and when it tries again; a transport enabled without a
   * setting it needs is not tried (no attempts, no retry_at: fix the setting and restart).
   */
  error?: { code: string; message: string; at?: string; attempts?: number; retry_at?: string };
  /** Why an `off` transport is not started. */
  reason?: string;
  /** What the connected adapter wants its operator to know (ChatAdapter.notes). */
  notes?: string[];
}

/**
 * A bot in the public GET /api/v1/health: its platform and state only (no identity, no error
 * text: the endpoint is unauthenticated). `connected` here or by another live Squall process,
 * `connecting` (not yet, or between tries after a refusal shown as `failed`), `failed` (refused,
 * or enabled without a setting it needs), `off` (not enabled).
 */
export interface ChatHealth {
  platform: string;
  state: 'connected' | 'connecting' | 'failed' | 'off';
}

/** A connect refused: tried again after 5 s, doubling to 5 minutes (a wrong token is not hammered). */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 300_000;

interface ConnectFailure {
  code: string;
  message: string;
  at: Date;
  attempts: number;
  retryAt: number;
}

/**
 * Connects this process's share of the chat adapters and keeps it right: every
 * `leases.check_every_ms` it takes the leases of shared adapters nobody (alive) holds and
 * connects them, disconnects those whose lease it lost, and answers forwarded calls for the
 * adapters it is connected to.
 */
export class ChatConnections {
  private readonly shared: LeasedAdapter[] = [];
  private readonly local: ChatAdapter[] = [];
  private readonly waiting = new Map<
    string,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly unsubscribe: Array<() => void> = [];
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private stopped = false;
  private started = false;
  /** The last refused connect of each shared adapter (by identity), cleared once it connects. */
  private readonly failures = new Map<string, ConnectFailure>();
  /** Registered transports not started (not enabled, or enabled without a setting they need). */
  private off: ChatTransportOff[] = [];
  /** Lease holders as the last round read them, with the live workers: health() reads no store. */
  private seen: { holders: Map<string, string>; alive: Set<string> } | undefined;

  constructor(
    private readonly services: Services,
    private readonly leases: Leases,
  ) {
    // Answers come back to whichever process asked, chat role or not.
    this.unsubscribe.push(
      services.bus.subscribe(FORWARD_RESULT, (event) => this.answered(event.payload as ForwardResult)),
    );
  }

  private get log() {
    return this.services.logger.child({ component: 'chatops.connections' });
  }

  /** The transports left off, and why: shown by statuses() and health(), logged at start(). */
  leftOff(off: ChatTransportOff[]): void {
    this.off = off;
  }

  /** The adapter the pipeline should use: a LeasedAdapter for a bot account, else the adapter. */
  wrap(adapter: ChatAdapter): ChatAdapter {
    const identity = chatAdapterIdentity(this.services, adapter);
    if (!identity) {
      this.local.push(adapter);
      return adapter;
    }
    const leased = new LeasedAdapter(adapter, identity, (id, method, args) => this.forward(id, method, args));
    this.shared.push(leased);
    return leased;
  }

  /**
   * Chat role: connects the local adapters and the shared ones this process can take, then keeps
   * checking. A bot that cannot connect (a wrong token, an intent or scope the app lacks) does not
   * stop the service: statuses() shows why, the log says it, and it is tried again with backoff.
   */
  async start(): Promise<void> {
    this.unsubscribe.push(
      this.services.bus.subscribe(FORWARD, (event) => void this.serve(event.payload as ForwardRequest)),
    );
    this.started = true;
    for (const o of this.off) {
      if (o.misconfigured)
        this.log.warn(
          { adapter: o.adapter },
          `chat adapter ${o.adapter} cannot start: ${o.reason} (the rest of Squall runs on)`,
        );
      else this.log.info({ adapter: o.adapter }, `chat adapter ${o.adapter} is off: ${o.reason}`);
    }
    for (const adapter of this.local) await adapter.connect();
    await this.check();
    this.timer = setInterval(() => void this.check(), this.services.config.leases.check_every_ms);
    this.timer.unref();
  }

  /** One round; coalesced, so a slow connect never overlaps the next round. */
  check(): Promise<void> {
    if (this.round) return this.round;
    this.round = this.checkOnce()
      .catch((err: unknown) => {
        this.log.error({ err }, 'checking the chat connections failed; retrying at the next round');
      })
      .finally(() => {
        this.round = undefined;
      });
    return this.round;
  }

  private async checkOnce(): Promise<void> {
    if (this.stopped || !this.shared.length) return;
    const names = this.shared.map((a) => lease(a.identity));
    const alive = await this.leases.aliveWorkers();
    const holders = await this.leases.holders(names);
    this.seen = { holders, alive };
    for (const adapter of this.shared) {
      if (this.stopped) return;
      const holder = holders.get(lease(adapter.identity));
      if (adapter.connectedHere) {
        if (holder === this.leases.owner) continue;
        this.log.warn(
          { adapter: adapter.name, identity: adapter.identity, held_by: holder ?? null },
          `lost the chat connection lease of ${adapter.identity} (this process missed its heartbeats); disconnecting`,
        );
        await adapter.disconnect().catch((err: unknown) => this.log.warn({ err }, 'disconnect failed'));
        continue;
      }
      if (holder && holder !== this.leases.owner && alive.has(holder)) continue;
      const failed = this.failures.get(adapter.identity);
      if (failed && Date.now() < failed.retryAt) continue;
      if (!(await this.leases.acquire(lease(adapter.identity), alive))) continue;
      try {
        await adapter.connect();
        this.failures.delete(adapter.identity);
        this.log.info(
          { adapter: adapter.name, identity: adapter.identity },
          `connected chat adapter ${adapter.name} (${adapter.identity}) in this process`,
        );
        for (const note of adapter.notes())
          this.log.warn({ adapter: adapter.name, identity: adapter.identity }, note);
      } catch (thrown) {
        // Let another process (or the next round) try: a lease without a connection helps nobody.
        await this.leases.release(lease(adapter.identity));
        const attempts = (failed?.attempts ?? 0) + 1;
        const waitMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempts - 1));
        const code = thrown instanceof SquallError ? thrown.code : 'CHAT_CONNECT_FAILED';
        // A client library's error may quote the request it failed, token and all: shown by
        // GET /api/v1/chatops/adapters and logged, so the section's secrets are masked first.
        const message = redactText(errorMessage(thrown), adapterSecrets(this.services, adapter.name));
        const err = message === errorMessage(thrown) ? thrown : { code, message };
        this.failures.set(adapter.identity, {
          code,
          message,
          at: new Date(),
          attempts,
          retryAt: Date.now() + waitMs,
        });
        this.log.error(
          { err, adapter: adapter.name, identity: adapter.identity, attempts, retry_in_ms: waitMs },
          `could not connect chat adapter ${adapter.name}: ${message}; trying again in ${Math.round(waitMs / 1000)} s (the rest of Squall runs on)`,
        );
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.round?.catch(() => undefined);
    for (const u of this.unsubscribe.splice(0)) u();
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    if (!this.started) return;
    for (const adapter of [...this.local, ...this.shared]) {
      if (adapter instanceof LeasedAdapter && !adapter.connectedHere) continue;
      await adapter
        .disconnect()
        .catch((err: unknown) =>
          this.log.warn({ err, adapter: adapter.name }, 'chat adapter did not disconnect cleanly'),
        );
      // Disconnected: another process may connect at once instead of after the lease ttl.
      if (adapter instanceof LeasedAdapter) await this.leases.release(lease(adapter.identity));
    }
  }

  async statuses(): Promise<ChatConnectionStatus[]> {
    const holders = await this.leases.holders(this.shared.map((a) => lease(a.identity)));
    const me = this.leases.owner;
    return [
      ...this.local.map((a) => {
        const connected = this.started && !this.stopped;
        const notes = connected ? (a.notes?.() ?? []) : [];
        return {
          adapter: a.name,
          identity: null,
          connected_here: connected,
          held_by: me,
          this_process: me,
          state: connected ? ('connected' as const) : ('waiting' as const),
          ...(notes.length ? { notes } : {}),
        };
      }),
      ...this.shared.map((a) => {
        const held = holders.get(lease(a.identity)) ?? null;
        const failure = this.failures.get(a.identity);
        const notes = a.connectedHere ? a.notes() : [];
        return {
          adapter: a.name,
          identity: a.identity,
          connected_here: a.connectedHere,
          held_by: held,
          this_process: me,
          state: a.connectedHere
            ? ('connected' as const)
            : held && held !== me
              ? ('elsewhere' as const)
              : failure
                ? ('failed' as const)
                : ('waiting' as const),
          ...(failure && !a.connectedHere
            ? {
                error: {
                  code: failure.code,
                  message: failure.message,
                  at: failure.at.toISOString(),
                  attempts: failure.attempts,
                  retry_at: new Date(failure.retryAt).toISOString(),
                },
              }
            : {}),
          ...(notes.length ? { notes } : {}),
        };
      }),
      ...this.off.map((o) => ({
        adapter: o.adapter,
        identity: null,
        connected_here: false,
        held_by: null,
        this_process: me,
        ...(o.misconfigured
          ? { state: 'failed' as const, error: { code: 'CHAT_CONFIG_INVALID', message: o.reason } }
          : { state: 'off' as const, reason: o.reason }),
      })),
    ];
  }

  /**
   * The bots for the public health: from memory (the last round's lease holders), so a load
   * balancer's checks cost no store read. Degraded when one failed; none off by choice degrades it.
   * Undefined in a process that does not run chat (it does not know the bots' state).
   */
  health(): { value: ChatHealth[]; degraded: boolean } | undefined {
    if (!this.started || this.stopped) return undefined;
    const value: ChatHealth[] = [
      ...this.local.map((a) => ({ platform: a.name, state: 'connected' as const })),
      ...this.shared.map((a): ChatHealth => {
        if (a.connectedHere) return { platform: a.name, state: 'connected' };
        const holder = this.seen?.holders.get(lease(a.identity));
        if (holder && holder !== this.leases.owner && this.seen?.alive.has(holder))
          return { platform: a.name, state: 'connected' };
        return { platform: a.name, state: this.failures.has(a.identity) ? 'failed' : 'connecting' };
      }),
      ...this.off.map((o) => ({
        platform: o.adapter,
        state: o.misconfigured ? ('failed' as const) : ('off' as const),
      })),
    ];
    return { value, degraded: value.some((b) => b.state === 'failed') };
  }

  /** Sends a call to the process connected to `identity` and waits for its answer. */
  private forward(identity: string, method: ForwardMethod, args: unknown): Promise<unknown> {
    const adapter = identity.split(':')[0];
    if (!this.services.config.redis.url)
      return Promise.reject(
        new SquallError(
          'CHAT_ADAPTER_ELSEWHERE',
          `chat adapter "${adapter}" is connected by another Squall process, and without redis.url this process cannot reach it`,
          { adapter, identity, method },
          503,
        ),
      );
    const timeoutMs = this.services.config.chatops.forward_timeout_ms;
    const id = newId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(
          new SquallError(
            'CHAT_FORWARD_TIMEOUT',
            `no Squall process connected to chat adapter "${adapter}" answered within ${timeoutMs} ms (is a process with the chat role running?)`,
            { adapter, identity, method, timeout_ms: timeoutMs },
            504,
          ),
        );
      }, timeoutMs);
      timer.unref();
      this.waiting.set(id, { resolve, reject, timer });
      this.services.bus.publish(FORWARD, { id, identity, method, args } satisfies ForwardRequest);
    });
  }

  private answered(answer: ForwardResult): void {
    const waiter = this.waiting.get(answer.id);
    if (!waiter) return;
    this.waiting.delete(answer.id);
    clearTimeout(waiter.timer);
    if (answer.error)
      waiter.reject(new SquallError(answer.error.code, answer.error.message, { forwarded: true }, 502));
    else waiter.resolve(answer.result);
  }

  /** Runs a forwarded call when this process is connected to that bot. */
  private async serve(request: ForwardRequest): Promise<void> {
    const adapter = this.shared.find((a) => a.identity === request.identity && a.connectedHere);
    if (!adapter) return;
    let answer: ForwardResult;
    try {
      answer = { id: request.id, result: (await adapter.call(request.method, request.args)) ?? null };
    } catch (err) {
      this.log.warn(
        { err, adapter: adapter.name, method: request.method },
        'a forwarded chat call failed; the caller retries',
      );
      answer = {
        id: request.id,
        error: {
          code: err instanceof SquallError ? err.code : 'CHAT_CALL_FAILED',
          message: errorMessage(err),
        },
      };
    }
    this.services.bus.publish(FORWARD_RESULT, answer);
  }
}

function lease(identity: string): string {
  return `chat:${identity}`;
}
