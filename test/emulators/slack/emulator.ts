import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { ChatEmulator } from '../shared/emulator.js';
import { Recorder } from '../shared/recorder.js';
import { SlackViewError, SlackViews } from './views.js';
import { TEXT_MAX, blockErrors } from './limits.js';
import { readBody, readRaw, sendJson, takeRateLimit, type RateLimitRule } from '../shared/http.js';
import type {
  SlackAck,
  SlackCall,
  SlackChannel,
  SlackDeliveryOptions,
  SlackEnvelopeType,
  SlackEphemeral,
  SlackMessage,
  SlackPost,
  SlackResponseUrlPost,
  SlackUpdate,
  SlackUpload,
  SlackUser,
} from './types.js';
import { SlackRateLimits } from './rate-limits.js';

export interface SlackEmulatorOptions {
  /** `socket` (default): deliveries go over Socket Mode. `http`: signed POSTs to `requestUrl`. */
  mode?: 'socket' | 'http';
  /** HTTP mode: the bot's Events API endpoint, e.g. `http://127.0.0.1:PORT/slack/events`. */
  requestUrl?: string;
  /** HTTP mode: separate endpoints, when the bot does not use one URL for everything. */
  commandsUrl?: string;
  interactivityUrl?: string;
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  /**
   * Slack sends a bot's own channel messages back to it as `message` events; Bolt's `ignoreSelf`
   * drops them. On by default so adapters are tested against that echo.
   */
  echoBotMessages?: boolean;
  /** How long a Socket Mode delivery waits for the bot's ack once sent (Slack: 3 s). */
  ackTimeoutMs?: number;
  /** How long a Socket Mode delivery waits for a bot connection before failing (default 15 s). */
  connectTimeoutMs?: number;
  users?: SlackUser[];
  channels?: SlackChannel[];
  /**
   * Slack's rate limits: chat.postMessage about 1 per second per channel (short bursts), the other
   * methods by their tier; answered with HTTP 429 and Retry-After (rate-limits.ts). On by default.
   */
  rateLimits?: boolean;
  /**
   * The bot token's scopes (OAuth & Permissions → Bot Token Scopes); by default every scope the
   * methods served need (BOT_SCOPES). A method needing one not granted answers `missing_scope`
   * with `needed` and `provided`, as Slack does.
   */
  botScopes?: string[];
  /** The app-level token's scopes (default `connections:write`, which Socket Mode needs). */
  appScopes?: string[];
}

/** The scope each Web API method served needs (api.slack.com/methods, "Required scopes"). */
const METHOD_SCOPES: Record<string, string> = {
  'apps.connections.open': 'connections:write',
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.delete': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'conversations.info': 'channels:read',
  'conversations.history': 'channels:history',
  'conversations.replies': 'channels:history',
  'conversations.open': 'im:write',
  'conversations.join': 'channels:join',
  'users.info': 'users:read',
  'reactions.add': 'reactions:write',
  'reactions.remove': 'reactions:write',
  'files.getUploadURLExternal': 'files:write',
  'files.completeUploadExternal': 'files:write',
};

/** Every bot scope the served methods need: the default grant. */
export const BOT_SCOPES = [
  ...new Set(
    Object.entries(METHOD_SCOPES)
      .filter(([m]) => !m.startsWith('apps.'))
      .map(([, s]) => s),
  ),
];

/** A Web API error: answered as HTTP 200 `{ok:false, error}` exactly like Slack. */
class SlackApiError extends Error {
  constructor(
    readonly error: string,
    /** More of Slack's answer, e.g. invalid_blocks' `errors`. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

interface Pending {
  envelope: {
    envelope_id: string;
    type: SlackEnvelopeType;
    payload: unknown;
    accepts_response_payload: boolean;
    retry_attempt: number;
    retry_reason: string;
  };
  resolve: (ack: SlackAck) => void;
  reject: (err: Error) => void;
  socket?: WebSocket;
  timer?: NodeJS.Timeout;
}

interface ResponseUrlContext {
  channel: string;
  user: string;
  message_ts?: string;
  thread_ts?: string;
}

/**
 * A response_url takes up to 5 posts within 30 minutes of the interaction
 * (api.slack.com/interactivity/handling#message_responses); after that Slack answers 404 with
 * `used_url` (the 6th post) or `expired_url` (past 30 minutes), as plain text, and shows nothing.
 */
export const RESPONSE_URL_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60_000;

type Params = Record<string, unknown>;
type Handler = (params: Params, token: string | undefined) => Record<string, unknown>;

const JSON_PARAMS = ['blocks', 'attachments', 'files', 'metadata', 'view'];

/**
 * A Slack workspace on 127.0.0.1 that the unmodified @slack/bolt talks to: Web API, Socket Mode
 * and signed HTTP deliveries. One team, a bot, two people and a couple of channels by default.
 */
export class SlackEmulator extends ChatEmulator<
  SlackCall,
  SlackPost,
  SlackUpdate,
  SlackUpload,
  SlackEphemeral
> {
  readonly teamId = 'T0SQUALL';
  readonly teamDomain = 'squall-emu';
  readonly appId = 'A0SQUALL';
  readonly botUserId = 'U0BOT';
  readonly botId = 'B0BOT';
  readonly botName = 'squall';
  /** The user `userSays` & co. act as when none is given. */
  readonly defaultUser = 'U0ALICE';
  /** The channel `userSays` & co. use when none is given. */
  readonly defaultChannel = 'C0OPS';

  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly mode: 'socket' | 'http';

  /** Every Web API call the bot made (also rejected and rate-limited ones). */
  readonly calls = new Recorder<SlackCall>('Slack Web API call');
  /** Messages the bot posted for everyone to see (chat.postMessage, respond in_channel, file shares). */
  readonly posts = new Recorder<SlackPost>('Slack bot post');
  readonly updates = new Recorder<SlackUpdate>('Slack message update');
  readonly ephemerals = new Recorder<SlackEphemeral>('Slack ephemeral message');
  /** The bot's reactions.add / reactions.remove that Slack accepted. */
  readonly reactions = new Recorder<{ channel: string; ts: string; name: string; op: 'add' | 'remove' }>(
    'Slack reaction',
  );
  readonly uploads = new Recorder<SlackUpload>('Slack completed file upload');
  readonly responses = new Recorder<SlackResponseUrlPost>('Slack response_url POST');
  /** Modals the bot opened (views.open), as they read now. */
  readonly views = new SlackViews({ team: 'T0SQUALL', app: 'A0SQUALL', bot: 'B0BOT' });
  /** Failures of deliveries nobody awaited (bot-message echoes): inspect them, they are not thrown. */
  readonly deliveryErrors: Error[] = [];

  private readonly users = new Map<string, SlackUser>();
  private readonly channels = new Map<string, SlackChannel>();
  /** Top-level messages per channel, oldest first; replies hang off their parent. */
  private readonly history = new Map<string, SlackMessage[]>();
  private readonly replies = new Map<string, SlackMessage[]>();
  private readonly pendingUploads = new Map<string, SlackUpload>();
  private readonly responseUrls = new Map<string, ResponseUrlContext & { uses: number; issued: number }>();
  private readonly rateLimits: RateLimitRule[] = [];
  /** Slack's own limits (absent when the options turn them off). */
  private readonly tierLimits?: SlackRateLimits;
  private readonly methods: Record<string, Handler>;

  private lastTsMicros = 0;
  private counter = 0;
  private readonly tickets = new Set<string>();
  /** The socket deliveries go to: the most recent one that received `hello`. */
  private active?: WebSocket;
  private readonly outbox: Pending[] = [];
  private readonly inFlight = new Map<string, Pending>();
  private connectionWaiters: { count: number; resolve: () => void }[] = [];
  private helloCount = 0;
  private requestUrl?: string;
  private commandsUrl?: string;
  private interactivityUrl?: string;
  private readonly echo: boolean;
  private readonly ackTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly botScopes: string[];
  private readonly appScopes: string[];

  constructor(options: SlackEmulatorOptions = {}) {
    super();
    this.mode = options.mode ?? 'socket';
    this.botToken = options.botToken ?? 'xoxb-squall-emulator';
    this.appToken = options.appToken ?? 'xapp-1-squall-emulator';
    this.signingSecret = options.signingSecret ?? 'squall-emulator-signing-secret';
    this.requestUrl = options.requestUrl;
    this.commandsUrl = options.commandsUrl;
    this.interactivityUrl = options.interactivityUrl;
    this.echo = options.echoBotMessages ?? true;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 3_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    this.botScopes = options.botScopes ?? BOT_SCOPES;
    this.appScopes = options.appScopes ?? ['connections:write'];
    if (options.rateLimits ?? true) this.tierLimits = new SlackRateLimits();
    const users = options.users ?? [
      { id: 'U0ALICE', name: 'alice', real_name: 'Alice Ops', email: 'alice@example.test' },
      { id: 'U0BOB', name: 'bob', real_name: 'Bob Dev', email: 'bob@example.test' },
    ];
    for (const u of [
      { id: this.botUserId, name: this.botName, real_name: 'Squall', is_bot: true },
      ...users,
    ]) {
      this.users.set(u.id, u);
    }
    const channels = options.channels ?? [
      { id: 'C0OPS', name: 'ops' },
      { id: 'C0GENERAL', name: 'general' },
      { id: 'D0ALICE', name: 'alice', is_im: true, user: 'U0ALICE' },
    ];
    for (const c of channels) this.addChannel(c);
    this.methods = this.buildMethods();
  }

  // ---------------------------------------------------------------- lifecycle and addresses

  protected failed(error: Error, res: http.ServerResponse): void {
    this.deliveryErrors.push(error);
    if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'emulator_error', detail: String(error) });
  }

  protected stopping(): void {
    for (const p of [...this.outbox, ...this.inFlight.values()]) {
      clearTimeout(p.timer);
      p.reject(new Error('Slack emulator stopped before the bot acked this delivery'));
    }
    this.outbox.length = 0;
    this.inFlight.clear();
  }

  /** For `clientOptions.slackApiUrl` (WebClient's `slackApiUrl`). */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  /** HTTP mode: where deliveries go (set once the bot's server is listening). */
  setRequestUrl(url: string, urls: { commands?: string; interactivity?: string } = {}): void {
    this.requestUrl = url;
    this.commandsUrl = urls.commands;
    this.interactivityUrl = urls.interactivity;
  }

  // ---------------------------------------------------------------- workspace model

  addChannel(channel: SlackChannel): void {
    this.channels.set(channel.id, channel);
    if (!this.history.has(channel.id)) this.history.set(channel.id, []);
  }

  addUser(user: SlackUser): void {
    this.users.set(user.id, user);
  }

  /** Top-level messages of a channel, oldest first (people's and the bot's). */
  channelMessages(channel: string): SlackMessage[] {
    return [...(this.history.get(this.resolveChannel(channel).id) ?? [])];
  }

  /** A thread: the parent followed by its replies, oldest first. */
  thread(channel: string, threadTs: string): SlackMessage[] {
    const ch = this.resolveChannel(channel).id;
    const parent = this.history.get(ch)?.find((m) => m.ts === threadTs);
    if (!parent) return [];
    return [parent, ...(this.replies.get(`${ch}/${threadTs}`) ?? [])];
  }

  /** Any message (top level or reply) by channel and ts. */
  findMessage(channel: string, ts: string): SlackMessage | undefined {
    const ch = this.channels.get(channel)?.id ?? channel;
    const top = this.history.get(ch)?.find((m) => m.ts === ts);
    if (top) return top;
    for (const [key, list] of this.replies) {
      if (key.startsWith(`${ch}/`)) {
        const hit = list.find((m) => m.ts === ts);
        if (hit) return hit;
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------- waiting helpers

  waitForCall(
    method: string,
    predicate: (c: SlackCall) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<SlackCall> {
    return this.calls.waitFor((c) => c.method === method && predicate(c), timeoutMs);
  }

  /** Socket Mode connections that completed the hello handshake so far. */
  get connectionCount(): number {
    return this.helloCount;
  }

  /** Resolves once `count` Socket Mode connections have received hello (in total, since start). */
  waitForConnection(count = 1, timeoutMs = 15_000): Promise<void> {
    if (this.helloCount >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.connectionWaiters = this.connectionWaiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for Socket Mode connection #${count} (have ${this.helloCount})`,
          ),
        );
      }, timeoutMs);
      this.connectionWaiters.push(waiter);
    });
  }

  // ---------------------------------------------------------------- fault injection

  /** Slack's own limits start full again, as after a quiet minute (tests that share an emulator). */
  resetRateLimits(): void {
    this.tierLimits?.reset();
  }

  /** The next `times` calls of `method` get HTTP 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitNext(method: string, options: { retryAfterSeconds?: number; times?: number } = {}): void {
    this.rateLimits.push({
      matches: (m) => m === method,
      retryAfterSeconds: options.retryAfterSeconds ?? 1,
      remaining: options.times ?? 1,
    });
  }

  /**
   * Drops the Socket Mode connection. `drop` (default) kills the TCP socket without a close frame,
   * like a network failure; `refresh` sends Slack's `{type:'disconnect'}` message. Either way the
   * SDK opens a new connection (after its reconnect delay, 5 s in @slack/socket-mode 3), and
   * deliveries made meanwhile wait and are sent on the new connection.
   */
  disconnect(how: 'drop' | 'refresh' = 'drop'): void {
    for (const ws of this.sockets) {
      if (how === 'drop') ws.terminate();
      else
        ws.send(
          JSON.stringify({
            type: 'disconnect',
            reason: 'refresh_requested',
            debug_info: { host: 'squall-emulator' },
          }),
        );
    }
    if (how === 'drop') this.active = undefined;
  }

  // ---------------------------------------------------------------- user actions

  /**
   * A person posts in a channel (or thread). Delivers a `message` event, plus an `app_mention` event
   * when `mention` is set (the text then starts with `<@BOTUSER>`, as Slack renders mentions).
   * Resolves with the new message's ts once the bot acked the event(s).
   */
  async userSays(input: {
    text: string;
    user?: string;
    channel?: string;
    thread_ts?: string;
    mention?: boolean;
  }): Promise<string> {
    const user = this.requireUser(input.user ?? this.defaultUser);
    const channel = this.resolveChannel(input.channel ?? this.defaultChannel);
    let text = input.text;
    const mentionTag = `<@${this.botUserId}>`;
    if (input.mention && !text.includes(mentionTag)) text = `${mentionTag} ${text}`;
    if (input.thread_ts && !this.history.get(channel.id)?.some((m) => m.ts === input.thread_ts)) {
      throw new Error(
        `Slack emulator: no message ${input.thread_ts} in ${channel.id} to reply to in a thread`,
      );
    }
    const message: SlackMessage = {
      type: 'message',
      ts: this.nextTs(),
      channel: channel.id,
      user: user.id,
      text,
      ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
    };
    this.store(message);
    const event = {
      type: 'message',
      channel: channel.id,
      channel_type: channel.is_im ? 'im' : channel.is_private ? 'group' : 'channel',
      user: user.id,
      text,
      ts: message.ts,
      event_ts: message.ts,
      team: this.teamId,
      ...(input.thread_ts
        ? { thread_ts: input.thread_ts, parent_user_id: this.findMessage(channel.id, input.thread_ts)?.user }
        : {}),
    };
    await this.expectAccepted(await this.sendEnvelope('events_api', this.eventCallback(event)));
    if (input.mention) {
      const mention = {
        type: 'app_mention',
        channel: channel.id,
        user: user.id,
        text,
        ts: message.ts,
        event_ts: message.ts,
        team: this.teamId,
        ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
      };
      await this.expectAccepted(await this.sendEnvelope('events_api', this.eventCallback(mention)));
    }
    return message.ts;
  }

  /** A person runs a slash command. Resolves with the bot's ack (its payload is the visible reply). */
  slashCommand(
    input: { command: string; text?: string; user?: string; channel?: string },
    options: SlackDeliveryOptions = {},
  ): Promise<SlackAck> {
    const user = this.requireUser(input.user ?? this.defaultUser);
    const channel = this.resolveChannel(input.channel ?? this.defaultChannel);
    const command = input.command.startsWith('/') ? input.command : `/${input.command}`;
    const payload = {
      token: 'emulator-verification-token',
      team_id: this.teamId,
      team_domain: this.teamDomain,
      channel_id: channel.id,
      channel_name: channel.is_im ? 'directmessage' : channel.name,
      user_id: user.id,
      user_name: user.name,
      command,
      text: input.text ?? '',
      api_app_id: this.appId,
      is_enterprise_install: 'false',
      response_url: this.newResponseUrl({ channel: channel.id, user: user.id }),
      trigger_id: this.views.issued(this.nextId('trigger'), user.id),
    };
    return this.sendEnvelope('slash_commands', payload, options);
  }

  /**
   * A person clicks a Block Kit button on a message the bot posted. The button (by `action_id`,
   * and `value` when several share an id) must exist in the message's blocks.
   */
  clickButton(
    input: {
      action_id: string;
      message_ts?: string;
      message?: { ts: string; channel: string };
      channel?: string;
      value?: string;
      user?: string;
      /**
       * A button with a `confirm` object opens Slack's dialog first: `true` presses its confirm
       * button (the click is delivered), `false` its deny button (nothing is sent).
       */
      confirm?: boolean;
    },
    options: SlackDeliveryOptions = {},
  ): Promise<SlackAck> {
    const user = this.requireUser(input.user ?? this.defaultUser);
    const ts = input.message?.ts ?? input.message_ts;
    if (!ts) throw new Error('clickButton needs message_ts or message');
    const message = this.locateMessage(ts, input.message?.channel ?? input.channel);
    const channel = this.resolveChannel(message.channel);
    const button = findButton(message.blocks ?? [], input.action_id, input.value);
    if (!button) {
      throw new Error(
        `clickButton: message ${ts} in ${channel.id} has no button with action_id '${input.action_id}'` +
          `${input.value !== undefined ? ` and value '${input.value}'` : ''}`,
      );
    }
    if (button.element.confirm && input.confirm === undefined)
      throw new Error(
        `clickButton: '${input.action_id}' of message ${ts} opens a confirm dialog; say confirm: true or false`,
      );
    if (button.element.confirm && input.confirm === false)
      return Promise.resolve({ status: 0, payload: 'the person backed out of the confirm dialog' });
    const payload = this.blockActions(user, channel, button, input.action_id, {
      container: {
        type: 'message',
        message_ts: message.ts,
        channel_id: channel.id,
        is_ephemeral: false,
        ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      },
      message: structuredClone(message),
      response_url: this.newResponseUrl({
        channel: channel.id,
        user: user.id,
        message_ts: message.ts,
        thread_ts: message.thread_ts,
      }),
    });
    return this.sendEnvelope('interactive', payload, options);
  }

  /**
   * A person clicks a button on an ephemeral message the bot whispered to them. Slack sends no
   * `message` for an ephemeral one: the container says `is_ephemeral: true`.
   */
  clickEphemeralButton(
    input: { ephemeral: SlackEphemeral; action_id: string; value?: string },
    options: SlackDeliveryOptions = {},
  ): Promise<SlackAck> {
    const e = input.ephemeral;
    const user = this.requireUser(e.user);
    const channel = this.resolveChannel(e.channel);
    const button = findButton(e.blocks ?? [], input.action_id, input.value);
    if (!button) throw new Error(`clickEphemeralButton: no button '${input.action_id}' on ${e.message_ts}`);
    const payload = this.blockActions(user, channel, button, input.action_id, {
      container: {
        type: 'message',
        message_ts: e.message_ts,
        channel_id: channel.id,
        is_ephemeral: true,
        ...(e.thread_ts ? { thread_ts: e.thread_ts } : {}),
      },
      response_url: this.newResponseUrl({ channel: channel.id, user: user.id, thread_ts: e.thread_ts }),
    });
    return this.sendEnvelope('interactive', payload, options);
  }

  /** The fields every interaction payload starts with; its trigger_id may open one modal. */
  private interactionHead(type: string, user: SlackUser): Record<string, unknown> {
    return {
      type,
      team: { id: this.teamId, domain: this.teamDomain },
      user: { id: user.id, username: user.name, name: user.name, team_id: this.teamId },
      api_app_id: this.appId,
      token: 'emulator-verification-token',
      trigger_id: this.views.issued(this.nextId('trigger'), user.id),
      is_enterprise_install: false,
    };
  }

  /** A block_actions payload for a press of `button` (where it sits: `where`). */
  private blockActions(
    user: SlackUser,
    channel: SlackChannel,
    button: { block_id?: string; element: ButtonElement },
    actionId: string,
    where: { container: Record<string, unknown>; message?: unknown; response_url: string },
  ): Record<string, unknown> {
    return {
      ...this.interactionHead('block_actions', user),
      container: where.container,
      channel: { id: channel.id, name: channel.name },
      ...(where.message ? { message: where.message } : {}),
      response_url: where.response_url,
      state: { values: {} },
      actions: [
        {
          type: 'button',
          action_id: actionId,
          block_id: button.block_id,
          text: button.element.text,
          ...(button.element.value !== undefined ? { value: button.element.value } : {}),
          ...(button.element.style ? { style: button.element.style } : {}),
          action_ts: this.nextTs(),
        },
      ],
    };
  }

  /** A person runs a message shortcut (the "…" menu of a message). */
  messageShortcut(
    input: { callback_id: string; message_ts: string; channel?: string; user?: string },
    options: SlackDeliveryOptions = {},
  ): Promise<SlackAck> {
    const user = this.requireUser(input.user ?? this.defaultUser);
    const message = this.locateMessage(input.message_ts, input.channel);
    const channel = this.resolveChannel(message.channel);
    return this.sendEnvelope(
      'interactive',
      {
        ...this.interactionHead('message_action', user),
        callback_id: input.callback_id,
        channel: { id: channel.id, name: channel.name },
        message: withoutChannel(structuredClone(message)),
        message_ts: message.ts,
        response_url: this.newResponseUrl({ channel: channel.id, user: user.id, message_ts: message.ts }),
        action_ts: this.nextTs(),
      },
      options,
    );
  }

  /**
   * A person fills in an open modal and presses Submit: `values` by block_id (a select by option
   * value); inputs not named keep what the view shows. The bot's ack is applied to the view
   * (errors shown, replaced, or closed). Slack's client does not submit with a required input
   * empty, so that throws here.
   */
  async submitView(
    input: { view_id: string; values?: Record<string, string>; user?: string },
    options: SlackDeliveryOptions = {},
  ): Promise<SlackAck> {
    const view = this.views.all.get(input.view_id);
    if (!view || !view.open) throw new Error(`submitView: view ${input.view_id} is not open`);
    const user = this.requireUser(input.user ?? view.user);
    if (user.id !== view.user)
      throw new Error(`submitView: view ${view.id} is open for ${view.user}, not ${user.id}`);
    const state = this.views.stateOf(view, input.values ?? {});
    const missing = this.views.missingRequired(view, state);
    if (missing.length) throw new Error(`submitView: required inputs empty: ${missing.join(', ')}`);
    view.state = state;
    // Not acked within 3 s, Slack's modal stays open saying "We had some trouble connecting" and
    // drops a late ack (errors, update): the person sees nothing of it.
    const ack = await this.sendEnvelope(
      'interactive',
      {
        ...this.interactionHead('view_submission', user),
        view: SlackViews.shown(view),
        response_urls: [],
        enterprise: null,
      },
      options,
    ).catch((err: unknown) => {
      throw new Error(
        `view_submission of ${view.id}: ${(err as Error).message}; Slack would keep the modal open with "We had some trouble connecting" and ignore a later ack`,
      );
    });
    this.views.applyAck(view, ack.payload);
    return ack;
  }

  /**
   * Delivers any payload as Slack would (Socket Mode envelope, or a signed HTTP POST in HTTP
   * mode). `tamper` (HTTP mode only) signs wrongly or with a stale timestamp.
   */
  sendEnvelope(
    type: SlackEnvelopeType,
    payload: unknown,
    options: SlackDeliveryOptions = {},
  ): Promise<SlackAck> {
    if (this.mode === 'http') return this.postToBot(type, payload, options);
    if (options.tamper)
      throw new Error('tamper only applies to HTTP mode: Socket Mode has no request signatures');
    return new Promise<SlackAck>((resolve, reject) => {
      const pending: Pending = {
        envelope: {
          envelope_id: this.nextId('env'),
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          retry_attempt: 0,
          retry_reason: '',
        },
        resolve,
        reject,
      };
      this.enqueue(pending, 'end');
      this.flush();
    });
  }

  /** Signs `body` as Slack does: `v0=` + hex HMAC-SHA256 of `v0:<ts>:<body>`. */
  sign(body: string, timestamp: number, secret = this.signingSecret): string {
    return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  }

  // ---------------------------------------------------------------- HTTP routing

  protected async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'POST' && parts[0] === 'api' && parts.length === 2) {
      await this.handleApi(parts[1], req, res);
    } else if (req.method === 'POST' && parts[0] === 'upload' && parts.length === 2) {
      await this.handleUpload(parts[1], req, res);
    } else if (req.method === 'POST' && parts[0] === 'response_url' && parts.length === 2) {
      await this.handleResponseUrl(parts[1], req, res);
    } else {
      await readRaw(req);
      sendJson(res, 404, { ok: false, error: 'not_found', path: url.pathname });
    }
  }

  private async handleApi(
    method: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const body = await readBody(req);
    const params: Params = { ...body.fields };
    for (const key of JSON_PARAMS) {
      const v = params[key];
      if (typeof v === 'string' && /^\s*[[{]/.test(v)) params[key] = JSON.parse(v);
    }
    const header = String(req.headers.authorization ?? '');
    const token = header.startsWith('Bearer ')
      ? header.slice(7)
      : typeof params.token === 'string'
        ? params.token
        : undefined;
    delete params.token;

    const channelRef = typeof params.channel === 'string' ? params.channel : undefined;
    const retryAfter =
      takeRateLimit(this.rateLimits, method)?.retryAfterSeconds ??
      this.tierLimits?.take(method, channelRef && (this.lookupChannel(channelRef)?.id ?? channelRef));
    if (retryAfter !== undefined) {
      const response = { ok: false, error: 'ratelimited' };
      this.calls.push({ method, params, token, status: 429, response });
      sendJson(res, 429, response, { 'retry-after': String(retryAfter) });
      return;
    }

    let response: Record<string, unknown>;
    try {
      const handler = this.methods[method];
      if (!handler) throw new SlackApiError('unknown_method');
      this.authorize(method, token);
      response = { ok: true, ...handler(params, token) };
    } catch (err) {
      if (!(err instanceof SlackApiError)) throw err;
      response = { ok: false, error: err.error, ...err.extra };
    }
    this.calls.push({ method, params, token, status: 200, response });
    sendJson(res, 200, response);
  }

  private authorize(method: string, token: string | undefined): void {
    if (!token) throw new SlackApiError('not_authed');
    if (method === 'apps.connections.open') {
      if (token === this.botToken) throw new SlackApiError('not_allowed_token_type');
      if (token !== this.appToken) throw new SlackApiError('invalid_auth');
    } else {
      if (token === this.appToken) throw new SlackApiError('not_allowed_token_type');
      if (token !== this.botToken) throw new SlackApiError('invalid_auth');
    }
    const needed = METHOD_SCOPES[method];
    const granted = token === this.appToken ? this.appScopes : this.botScopes;
    if (needed && !granted.includes(needed))
      throw new SlackApiError('missing_scope', { needed, provided: granted.join(',') });
  }

  private async handleUpload(
    fileId: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const body = await readBody(req);
    const upload = this.pendingUploads.get(fileId);
    if (!upload) {
      res.writeHead(404).end('unknown upload');
      return;
    }
    // The SDK sends the bytes as a multipart part named `body`; a raw body works too.
    upload.data = body.files.find((f) => f.field === 'body')?.data ?? body.files[0]?.data ?? body.raw;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${upload.data.length}`);
  }

  private async handleResponseUrl(
    id: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const body = await readBody(req);
    const context = this.responseUrls.get(id);
    if (!context) {
      res.writeHead(404).end('unknown response_url');
      return;
    }
    const payload = (body.json ?? body.fields) as Record<string, unknown>;
    this.responses.push({ id, body: payload });
    const refused =
      Date.now() - context.issued > RESPONSE_URL_TTL_MS
        ? 'expired_url'
        : context.uses >= RESPONSE_URL_USES
          ? 'used_url'
          : undefined;
    if (refused) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(refused);
      return;
    }
    const text = typeof payload.text === 'string' ? payload.text : '';
    const blocks = Array.isArray(payload.blocks) ? payload.blocks : undefined;
    // A response_url is an incoming webhook: the same Block Kit limits, refused as webhooks refuse
    // (HTTP 400, the error as plain text; nothing is posted), which Bolt's respond() throws.
    if (payload.blocks !== undefined && !blocks) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_blocks_format');
      return;
    }
    if (blockErrors(blocks ?? []).length > 0) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_blocks');
      return;
    }
    // A refused body (above) shows nothing; what counts towards the 5 is a post Slack took.
    context.uses += 1;
    if (payload.delete_original === true && context.message_ts) {
      this.remove(context.channel, context.message_ts);
    } else if (payload.replace_original === true && context.message_ts) {
      this.applyUpdate(context.channel, context.message_ts, text, blocks, 'response_url');
    } else if (payload.response_type === 'in_channel') {
      const thread_ts = payload.thread_ts === undefined ? context.thread_ts : String(payload.thread_ts);
      this.botPost({ channel: context.channel, text, blocks, thread_ts }, 'response_url');
    } else {
      this.ephemerals.push({
        channel: context.channel,
        user: context.user,
        text,
        blocks,
        message_ts: this.nextTs(),
        via: 'response_url',
      });
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  }

  // ---------------------------------------------------------------- Web API methods

  private buildMethods(): Record<string, Handler> {
    const str = (p: Params, key: string): string | undefined =>
      p[key] === undefined || p[key] === '' ? undefined : String(p[key]);
    const need = (p: Params, key: string): string => {
      const v = str(p, key);
      if (v === undefined) throw new SlackApiError(`invalid_arguments`);
      return v;
    };
    const blocksOf = (p: Params): unknown[] | undefined => (Array.isArray(p.blocks) ? p.blocks : undefined);
    // What Slack refuses in any message the bot writes (limits.ts).
    const checkMessage = (p: Params): void => {
      if ((str(p, 'text') ?? '').length > TEXT_MAX) fail('msg_too_long');
      if (p.blocks !== undefined && !Array.isArray(p.blocks)) fail('invalid_blocks_format');
      const errors = blockErrors(blocksOf(p) ?? []);
      if (errors.length > 0)
        throw new SlackApiError('invalid_blocks', {
          errors,
          response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
        });
    };
    // The bot writes only where it is a member (chat:write.public aside, which this app lacks).
    const member = (channel: SlackChannel): SlackChannel =>
      channel.is_member === false ? fail('not_in_channel') : channel;
    const channelFor = (p: Params, key = 'channel'): SlackChannel => {
      const ref = str(p, key);
      if (!ref) throw new SlackApiError('channel_not_found');
      return this.lookupChannel(ref) ?? fail('channel_not_found');
    };
    const fail = (error: string): never => {
      throw new SlackApiError(error);
    };
    // Message metadata (https://api.slack.com/metadata): an event_type and an event_payload object.
    const metadataOf = (p: Params): SlackMessage['metadata'] => {
      const m = p.metadata as { event_type?: unknown; event_payload?: unknown } | string | undefined;
      if (m === undefined || m === '') return undefined;
      if (typeof m !== 'object' || m === null) return fail('invalid_metadata_format');
      if (typeof m.event_type !== 'string' || !m.event_payload || typeof m.event_payload !== 'object')
        return fail('invalid_metadata_schema');
      return { event_type: m.event_type, event_payload: m.event_payload as Record<string, unknown> };
    };
    // conversations.history/replies return metadata only when asked to (include_all_metadata).
    const listed = (p: Params) => {
      const all = str(p, 'include_all_metadata') === 'true' || str(p, 'include_all_metadata') === '1';
      return (m: SlackMessage) => {
        const shown = withoutChannel(m);
        if (!all) delete shown.metadata;
        return shown;
      };
    };

    return {
      'auth.test': () => ({
        url: `https://${this.teamDomain}.slack.com/`,
        team: 'Squall Emulator',
        user: this.botName,
        team_id: this.teamId,
        user_id: this.botUserId,
        bot_id: this.botId,
        is_enterprise_install: false,
      }),
      'apps.connections.open': () => {
        const ticket = randomBytes(8).toString('hex');
        this.tickets.add(ticket);
        return { url: this.socketUrl(`/link/?ticket=${ticket}&app_id=${this.appId}`) };
      },
      'chat.postMessage': (p) => {
        const channel = member(channelFor(p));
        checkMessage(p);
        const text = str(p, 'text') ?? '';
        const blocks = blocksOf(p);
        if (!text && !blocks && !p.attachments) fail('no_text');
        const thread_ts = str(p, 'thread_ts');
        if (thread_ts && !this.history.get(channel.id)?.some((m) => m.ts === thread_ts))
          fail('thread_not_found');
        const metadata = metadataOf(p);
        const message = this.botPost(
          { channel: channel.id, text, blocks, thread_ts, ...(metadata ? { metadata } : {}) },
          'chat.postMessage',
        );
        return { channel: channel.id, ts: message.ts, message: withoutChannel(message) };
      },
      'chat.update': (p) => {
        const channel = channelFor(p);
        const ts = need(p, 'ts');
        checkMessage(p);
        const existing = this.findMessage(channel.id, ts) ?? fail('message_not_found');
        if (existing.user !== this.botUserId) fail('cant_update_message');
        const message = this.applyUpdate(
          channel.id,
          ts,
          str(p, 'text') ?? existing.text,
          blocksOf(p) ?? existing.blocks,
          'chat.update',
        );
        return { channel: channel.id, ts, text: message.text, message: withoutChannel(message) };
      },
      'chat.delete': (p) => {
        const channel = channelFor(p);
        const ts = need(p, 'ts');
        const existing = this.findMessage(channel.id, ts) ?? fail('message_not_found');
        if (existing.user !== this.botUserId) fail('cant_delete_message');
        this.remove(channel.id, ts);
        return { channel: channel.id, ts };
      },
      'chat.postEphemeral': (p) => {
        const channel = member(channelFor(p));
        const user = this.users.get(need(p, 'user')) ?? fail('user_not_found');
        if (channel.members && !channel.members.includes(user.id)) fail('user_not_in_channel');
        checkMessage(p);
        const message_ts = this.nextTs();
        this.ephemerals.push({
          channel: channel.id,
          user: user.id,
          text: str(p, 'text') ?? '',
          blocks: blocksOf(p),
          thread_ts: str(p, 'thread_ts'),
          message_ts,
          via: 'chat.postEphemeral',
        });
        return { message_ts };
      },
      'views.open': (p) => ({ view: SlackViews.shown(viewCall(() => this.views.open(p))) }),
      'views.update': (p) => ({ view: SlackViews.shown(viewCall(() => this.views.update(p))) }),
      'chat.getPermalink': (p) => {
        const channel = channelFor(p);
        const ts = need(p, 'message_ts');
        if (!this.findMessage(channel.id, ts)) fail('message_not_found');
        return {
          channel: channel.id,
          permalink: `https://${this.teamDomain}.slack.com/archives/${channel.id}/p${ts.replace('.', '')}`,
        };
      },
      'conversations.info': (p) => ({ channel: this.channelInfo(channelFor(p)) }),
      'conversations.history': (p) => {
        const channel = channelFor(p);
        const limit = Number(str(p, 'limit') ?? 100);
        return {
          messages: [...(this.history.get(channel.id) ?? [])].reverse().slice(0, limit).map(listed(p)),
          has_more: false,
        };
      },
      'conversations.replies': (p) => {
        const channel = channelFor(p);
        const messages = this.thread(channel.id, need(p, 'ts'));
        if (messages.length === 0) fail('thread_not_found');
        return { messages: messages.map(listed(p)), has_more: false };
      },
      'conversations.open': (p) => {
        const userIds = need(p, 'users').split(',');
        if (userIds.length !== 1) fail('not_supported');
        const user = this.users.get(userIds[0]) ?? fail('user_not_found');
        let dm = [...this.channels.values()].find((c) => c.is_im && c.user === user.id);
        if (!dm) {
          dm = { id: `D0${user.name.toUpperCase()}`, name: user.name, is_im: true, user: user.id };
          this.addChannel(dm);
        }
        return { channel: { id: dm.id } };
      },
      'conversations.join': (p) => {
        const channel = channelFor(p);
        channel.is_member = true;
        return { channel: this.channelInfo(channel) };
      },
      'users.info': (p) => {
        const user = this.users.get(need(p, 'user')) ?? fail('user_not_found');
        return {
          user: {
            id: user.id,
            team_id: this.teamId,
            name: user.name,
            real_name: user.real_name ?? user.name,
            is_bot: user.is_bot ?? false,
            deleted: false,
            profile: { display_name: user.name, real_name: user.real_name ?? user.name, email: user.email },
          },
        };
      },
      'reactions.add': (p) => {
        const channel = channelFor(p);
        const message = this.findMessage(channel.id, need(p, 'timestamp')) ?? fail('message_not_found');
        const name = need(p, 'name');
        message.reactions ??= [];
        const reaction = message.reactions.find((r) => r.name === name);
        if (reaction?.users.includes(this.botUserId)) fail('already_reacted');
        if (reaction) {
          reaction.users.push(this.botUserId);
          reaction.count += 1;
        } else {
          message.reactions.push({ name, users: [this.botUserId], count: 1 });
        }
        this.reactions.push({ channel: channel.id, ts: message.ts, name, op: 'add' });
        return {};
      },
      'reactions.remove': (p) => {
        const channel = channelFor(p);
        const message = this.findMessage(channel.id, need(p, 'timestamp')) ?? fail('message_not_found');
        const name = need(p, 'name');
        const reaction = message.reactions?.find((r) => r.name === name);
        if (!reaction || !reaction.users.includes(this.botUserId)) return fail('no_reaction');
        reaction.users = reaction.users.filter((u) => u !== this.botUserId);
        reaction.count -= 1;
        if (reaction.count === 0) message.reactions = message.reactions!.filter((r) => r !== reaction);
        this.reactions.push({ channel: channel.id, ts: message.ts, name, op: 'remove' });
        return {};
      },
      'files.getUploadURLExternal': (p) => {
        const filename = need(p, 'filename');
        const length = Number(need(p, 'length'));
        const file_id = `F0${String(++this.counter).padStart(6, '0')}`;
        this.pendingUploads.set(file_id, { file_id, filename, length, completed: false });
        return { upload_url: `${this.baseUrl}/upload/${file_id}`, file_id };
      },
      'files.completeUploadExternal': (p) => {
        const files = Array.isArray(p.files)
          ? (p.files as { id: string; title?: string }[])
          : fail('invalid_arguments');
        const channel = str(p, 'channel_id') ? channelFor(p, 'channel_id') : undefined;
        const thread_ts = str(p, 'thread_ts');
        const initial_comment = str(p, 'initial_comment');
        const refs = files.map((f) => {
          const upload = this.pendingUploads.get(f.id) ?? fail('file_not_found');
          if (!upload.data) fail('file_upload_incomplete');
          return { upload, title: f.title ?? upload.filename };
        });
        const shared = refs.map(({ upload, title }) => {
          upload.completed = true;
          upload.title = title;
          upload.channel_id = channel?.id;
          upload.thread_ts = thread_ts;
          upload.initial_comment = initial_comment;
          this.pendingUploads.delete(upload.file_id);
          return {
            id: upload.file_id,
            name: upload.filename,
            title,
            size: upload.data?.length ?? 0,
            mimetype: 'text/plain',
          };
        });
        if (channel) {
          this.botPost(
            { channel: channel.id, text: initial_comment ?? '', thread_ts, files: shared },
            'files.completeUploadExternal',
          );
        }
        for (const { upload } of refs) this.uploads.push(upload);
        return { files: shared.map((f) => ({ id: f.id, title: f.title })) };
      },
    };
  }

  // ---------------------------------------------------------------- model mutations

  private botPost(
    input: {
      channel: string;
      text: string;
      blocks?: unknown[];
      thread_ts?: string;
      files?: SlackMessage['files'];
      metadata?: SlackMessage['metadata'];
    },
    via: SlackPost['via'],
  ): SlackMessage {
    const message: SlackMessage = {
      type: 'message',
      ts: this.nextTs(),
      channel: input.channel,
      text: input.text,
      user: this.botUserId,
      bot_id: this.botId,
      ...(input.blocks ? { blocks: input.blocks } : {}),
      ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
      ...(input.files ? { files: input.files } : {}),
      ...(input.metadata ? { metadata: input.metadata } : {}),
    };
    this.store(message);
    this.posts.push({ ...structuredClone(message), via });
    if (this.echo) {
      const channel = this.channels.get(input.channel);
      const event = {
        type: 'message',
        channel: input.channel,
        channel_type: channel?.is_im ? 'im' : 'channel',
        user: this.botUserId,
        bot_id: this.botId,
        text: input.text,
        ts: message.ts,
        event_ts: message.ts,
        team: this.teamId,
        ...(input.blocks ? { blocks: input.blocks } : {}),
        ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
      };
      this.sendEnvelope('events_api', this.eventCallback(event)).catch((err: Error) =>
        this.deliveryErrors.push(err),
      );
    }
    return message;
  }

  private applyUpdate(
    channel: string,
    ts: string,
    text: string,
    blocks: unknown[] | undefined,
    via: SlackUpdate['via'],
  ): SlackMessage {
    const message = this.findMessage(channel, ts);
    if (!message) throw new SlackApiError('message_not_found');
    message.text = text;
    if (blocks) message.blocks = blocks;
    else delete message.blocks;
    message.edited = { user: this.botUserId, ts: this.nextTs() };
    this.updates.push({ channel, ts, text, blocks, via, message: structuredClone(message) });
    return message;
  }

  private store(message: SlackMessage): void {
    if (message.thread_ts && message.thread_ts !== message.ts) {
      const key = `${message.channel}/${message.thread_ts}`;
      const list = this.replies.get(key) ?? [];
      list.push(message);
      this.replies.set(key, list);
      const parent = this.history.get(message.channel)?.find((m) => m.ts === message.thread_ts);
      if (parent) {
        parent.thread_ts = parent.ts;
        parent.reply_count = list.length;
        parent.latest_reply = message.ts;
        parent.reply_users = [...new Set([...(parent.reply_users ?? []), message.user ?? ''])].filter(
          Boolean,
        );
      }
    } else {
      this.history.get(message.channel)?.push(message);
    }
  }

  private remove(channel: string, ts: string): void {
    const top = this.history.get(channel);
    const i = top?.findIndex((m) => m.ts === ts) ?? -1;
    if (top && i >= 0) top.splice(i, 1);
    for (const [key, list] of this.replies) {
      if (!key.startsWith(`${channel}/`)) continue;
      const j = list.findIndex((m) => m.ts === ts);
      if (j >= 0) list.splice(j, 1);
    }
  }

  private channelInfo(channel: SlackChannel): Record<string, unknown> {
    return {
      id: channel.id,
      name: channel.name,
      is_channel: !channel.is_im && !channel.is_private,
      is_group: Boolean(channel.is_private),
      is_im: Boolean(channel.is_im),
      is_private: Boolean(channel.is_private || channel.is_im),
      is_member: channel.is_member !== false,
      is_archived: false,
      created: 1_700_000_000,
      ...(channel.user ? { user: channel.user } : {}),
    };
  }

  private lookupChannel(ref: string): SlackChannel | undefined {
    const bare = ref.replace(/^#/, '');
    const direct =
      this.channels.get(bare) ?? [...this.channels.values()].find((c) => !c.is_im && c.name === bare);
    if (direct) return direct;
    // chat.postMessage accepts a user id and posts to the DM with that user.
    if (this.users.has(bare)) return [...this.channels.values()].find((c) => c.is_im && c.user === bare);
    return undefined;
  }

  private resolveChannel(ref: string): SlackChannel {
    const channel = this.lookupChannel(ref);
    if (!channel) throw new Error(`Slack emulator: unknown channel '${ref}' (add it with addChannel)`);
    return channel;
  }

  private requireUser(id: string): SlackUser {
    const user = this.users.get(id);
    if (!user) throw new Error(`Slack emulator: unknown user '${id}' (add it with addUser)`);
    return user;
  }

  private locateMessage(ts: string, channel?: string): SlackMessage {
    const candidates = channel ? [this.resolveChannel(channel).id] : [...this.channels.keys()];
    for (const ch of candidates) {
      const m = this.findMessage(ch, ts);
      if (m) return m;
    }
    throw new Error(`Slack emulator: no message with ts ${ts}${channel ? ` in ${channel}` : ''}`);
  }

  private newResponseUrl(context: ResponseUrlContext): string {
    const id = this.nextId('resp');
    this.responseUrls.set(id, { ...context, uses: 0, issued: Date.now() });
    return `${this.baseUrl}/response_url/${id}`;
  }

  /** Makes every response_url handed out so far `ms` older (its 30 minutes, without waiting them). */
  ageResponseUrls(ms: number): void {
    for (const context of this.responseUrls.values()) context.issued -= ms;
  }

  private eventCallback(event: Record<string, unknown>): Record<string, unknown> {
    return {
      token: 'emulator-verification-token',
      team_id: this.teamId,
      api_app_id: this.appId,
      event,
      type: 'event_callback',
      event_id: this.nextId('Ev'),
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [
        {
          enterprise_id: null,
          team_id: this.teamId,
          user_id: this.botUserId,
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
    };
  }

  private async expectAccepted(ack: SlackAck): Promise<void> {
    if (ack.status !== 200) throw new Error(`the bot answered the event delivery with HTTP ${ack.status}`);
  }

  /** Slack ts: unique, increasing, `seconds.micros`. */
  private nextTs(): string {
    const micros = Math.max(Date.now() * 1000, this.lastTsMicros + 1);
    this.lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  private nextId(prefix: string): string {
    return `${prefix}${Date.now().toString(36)}${(++this.counter).toString(36)}`;
  }

  // ---------------------------------------------------------------- Socket Mode

  protected upgrade(url: URL, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const ticket = url.searchParams.get('ticket') ?? '';
    if (!url.pathname.startsWith('/link') || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    this.accept(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: { envelope_id?: string; payload?: unknown };
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return; // Slack ignores frames it cannot parse, and so does the emulator.
      }
      if (!msg.envelope_id) return;
      const pending = this.inFlight.get(msg.envelope_id);
      if (!pending) return;
      this.inFlight.delete(msg.envelope_id);
      clearTimeout(pending.timer);
      pending.resolve({ status: 200, payload: msg.payload });
    });
    ws.on('close', () => {
      if (this.active === ws) this.active = undefined;
      // Unacked envelopes are retried on the next connection, as Slack does.
      for (const [id, pending] of this.inFlight) {
        if (pending.socket !== ws) continue;
        clearTimeout(pending.timer);
        this.inFlight.delete(id);
        pending.envelope.retry_attempt += 1;
        pending.envelope.retry_reason = 'timeout';
        this.enqueue(pending, 'front');
      }
    });
    ws.on('error', (err) => this.deliveryErrors.push(err));
    this.active = ws;
    this.helloCount += 1;
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.size,
        debug_info: { host: 'squall-emulator', approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
    const ready = this.connectionWaiters.filter((w) => w.count <= this.helloCount);
    this.connectionWaiters = this.connectionWaiters.filter((w) => w.count > this.helloCount);
    for (const w of ready) w.resolve();
    this.flush();
  }

  /** Holds a delivery until a connection is up (Slack keeps events for an offline app for a while). */
  private enqueue(pending: Pending, where: 'front' | 'end'): void {
    pending.timer = setTimeout(() => {
      const i = this.outbox.indexOf(pending);
      if (i >= 0) this.outbox.splice(i, 1);
      pending.reject(
        new Error(
          `no Socket Mode connection took ${pending.envelope.type} envelope within ${this.connectTimeoutMs} ms (did the bot start?)`,
        ),
      );
    }, this.connectTimeoutMs);
    if (where === 'front') this.outbox.unshift(pending);
    else this.outbox.push(pending);
  }

  private flush(): void {
    const ws = this.active;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    while (this.outbox.length > 0) {
      const pending = this.outbox.shift() as Pending;
      clearTimeout(pending.timer);
      pending.socket = ws;
      this.inFlight.set(pending.envelope.envelope_id, pending);
      pending.timer = setTimeout(() => {
        this.inFlight.delete(pending.envelope.envelope_id);
        pending.reject(
          new Error(
            `the bot did not ack ${pending.envelope.type} envelope ${pending.envelope.envelope_id} within ${this.ackTimeoutMs} ms`,
          ),
        );
      }, this.ackTimeoutMs);
      const { retry_attempt, retry_reason, ...rest } = pending.envelope;
      ws.send(JSON.stringify(retry_attempt > 0 ? { ...rest, retry_attempt, retry_reason } : rest));
    }
  }

  // ---------------------------------------------------------------- HTTP mode

  private async postToBot(
    type: SlackEnvelopeType,
    payload: unknown,
    options: SlackDeliveryOptions,
  ): Promise<SlackAck> {
    const url =
      (type === 'slash_commands'
        ? this.commandsUrl
        : type === 'interactive'
          ? this.interactivityUrl
          : undefined) ?? this.requestUrl;
    if (!url)
      throw new Error('Slack emulator in HTTP mode needs requestUrl (setRequestUrl) before delivering');
    let body: string;
    let contentType: string;
    if (type === 'events_api') {
      body = JSON.stringify(payload);
      contentType = 'application/json';
    } else if (type === 'slash_commands') {
      body = new URLSearchParams(payload as Record<string, string>).toString();
      contentType = 'application/x-www-form-urlencoded';
    } else {
      body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
      contentType = 'application/x-www-form-urlencoded';
    }
    const now = Math.floor(Date.now() / 1000);
    const timestamp = options.tamper === 'stale-timestamp' ? now - 10 * 60 : now;
    const signature = this.sign(
      body,
      timestamp,
      options.tamper === 'bad-signature' ? `${this.signingSecret}-wrong` : this.signingSecret,
    );
    const res = await fetch(url, {
      method: 'POST',
      // Bolt compares content-type with ===, so it must be sent exactly, without a charset.
      headers: {
        'content-type': contentType,
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': signature,
      },
      body,
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('application/json') && text)
      parsed = JSON.parse(text);
    return { status: res.status, payload: parsed };
  }
}

function withoutChannel(message: SlackMessage): Omit<SlackMessage, 'channel'> {
  const { channel: _channel, ...rest } = structuredClone(message);
  return rest;
}

interface ButtonElement {
  type: string;
  action_id?: string;
  value?: string;
  text?: unknown;
  style?: string;
  confirm?: unknown;
}

/** A views.* failure as the Web API reports it. */
function viewCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SlackViewError) throw new SlackApiError(err.error.split(':')[0]);
    throw err;
  }
}

function findButton(
  blocks: unknown[],
  actionId: string,
  value?: string,
): { block_id?: string; element: ButtonElement } | undefined {
  for (const block of blocks as {
    type?: string;
    block_id?: string;
    elements?: ButtonElement[];
    accessory?: ButtonElement;
  }[]) {
    const elements = [...(block.elements ?? []), ...(block.accessory ? [block.accessory] : [])];
    const element = elements.find(
      (e) => e.type === 'button' && e.action_id === actionId && (value === undefined || e.value === value),
    );
    if (element) return { block_id: block.block_id, element };
  }
  return undefined;
}
