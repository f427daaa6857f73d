import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { ChatEmulator } from '../shared/emulator.js';
import { Recorder } from '../shared/recorder.js';
import { messageErrors, type FormErrors } from './limits.js';
import { DiscordRateLimits } from './rate-limits.js';
import { modalOf, modalProblem, submitData, type DiscordModal } from './modals.js';
import {
  readBody,
  sendEmpty,
  sendJson,
  takeRateLimit,
  type FilePart,
  type RateLimitRule,
} from '../shared/http.js';
import type {
  DiscordAttachment,
  DiscordCall,
  DiscordChannel,
  DiscordCommand,
  DiscordGatewayEvent,
  DiscordInteractionResponse,
  DiscordMessage,
  DiscordPost,
  DiscordUpdate,
  DiscordUpload,
  DiscordUser,
} from './types.js';

export interface DiscordEmulatorOptions {
  botToken?: string;
  /** Sent in HELLO. discord.js beats at this interval (first beat after a random fraction of it). */
  heartbeatIntervalMs?: number;
  /** Discord sends a bot its own messages as MESSAGE_CREATE; on by default (discord.js does not filter them). */
  echoBotMessages?: boolean;
  /**
   * The initial-response window (Discord: 3 s): slashCommand/clickButton/submitModal wait this long
   * for the callback, and a later callback is refused 404 Unknown interaction (10062).
   */
  interactionTimeoutMs?: number;
  /**
   * Discord's per-channel limits on posting, editing and reacting (rate-limits.ts): X-RateLimit-*
   * headers on those routes and 429 over them. On by default.
   */
  rateLimits?: boolean;
  /**
   * Whether the app has the privileged Message Content intent switched on (Developer Portal → the
   * app → Bot → Privileged Gateway Intents); on by default. Off, an IDENTIFY asking for it is
   * closed 4014 "Disallowed intent(s).", as Discord does.
   */
  messageContentIntent?: boolean;
  users?: DiscordUser[];
  /** Text channels of the guild (type 0 unless given). */
  channels?: { id: string; name: string; type?: number }[];
}

/** Thrown by route handlers; answered as Discord answers errors: JSON `{message, code}`. */
class DiscordApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: number,
    /** Invalid Form Body (50035): which fields broke which limit, nested as Discord nests them. */
    readonly errors?: FormErrors,
  ) {
    super(message);
  }
}

/** Refuses a message body over Discord's limits as Discord does (400, 50035, `errors`). */
function checkMessageBody(body: Record<string, unknown>): void {
  const errors = messageErrors(body);
  if (errors) throw new DiscordApiError(400, 'Invalid Form Body', 50035, errors);
}

/** GatewayIntentBits.MessageContent (privileged). */
const MESSAGE_CONTENT_INTENT = 1 << 15;

interface Session {
  id: string;
  /** The intents the client identified with. */
  intents: number;
  seq: number;
  log: { op: 0; s: number; t: string; d: unknown }[];
  ws?: WebSocket;
  resumable: boolean;
}

interface Interaction {
  id: string;
  token: string;
  type: number;
  channel_id: string;
  user: DiscordUser;
  /** When it was dispatched: Discord takes its initial response within 3 s of that only. */
  at: number;
  /** The message a component interaction came from. */
  message_id?: string;
  responded?: DiscordInteractionResponse;
  /** The reply message (type 4/5), which `@original` refers to. */
  original_id?: string;
  /** A deferred reply whose content has not been filled in yet. */
  deferred?: boolean;
  ephemeral?: boolean;
  settle?: { resolve: (r: DiscordInteractionResponse) => void; timer: NodeJS.Timeout };
}

interface Request {
  method: string;
  path: string;
  segments: string[];
  query: Record<string, string>;
  body: Record<string, unknown>;
  /** The raw JSON value (bulk command registration sends an array). */
  json: unknown;
  files: FilePart[];
  auth: string;
}

type Reply = { status: number; body?: unknown };

const EPHEMERAL = 1 << 6;
const LOADING = 1 << 7;
const DISCORD_EPOCH = 1420070400000n;
/** Administrator: every permission check in discord.js passes. */
const ALL_PERMISSIONS = '8';

/**
 * A Discord guild on 127.0.0.1 that the unmodified discord.js Client talks to: REST v10 and the
 * Gateway (JSON, no compression). One guild with a couple of text channels and two people.
 */
export class DiscordEmulator extends ChatEmulator<
  DiscordCall,
  DiscordPost,
  DiscordUpdate,
  DiscordUpload,
  DiscordPost
> {
  readonly guildId = '1200000000000000001';
  readonly guildName = 'Squall Emulator';
  readonly botUserId = '1200000000000000100';
  /** Bots' application id equals their user id. */
  readonly applicationId = '1200000000000000100';
  readonly botUser: DiscordUser = { id: this.botUserId, username: 'squall', global_name: null, bot: true };
  /** The user `userSays` & co. act as when none is given. */
  readonly defaultUser = '1200000000000000101';
  /** The channel `userSays` & co. use when none is given ("ops"). */
  readonly defaultChannel = '1200000000000000010';
  readonly botToken: string;

  readonly calls = new Recorder<DiscordCall>('Discord REST call');
  readonly posts = new Recorder<DiscordPost>('Discord bot post');
  readonly ephemerals = new Recorder<DiscordPost>('Discord ephemeral reply');
  readonly updates = new Recorder<DiscordUpdate>('Discord message update');
  readonly uploads = new Recorder<DiscordUpload>('Discord attachment upload');
  /** The bot's own reactions, added and removed: `{channel_id, message_id, emoji, op}`. */
  readonly reactions = new Recorder<{
    channel_id: string;
    message_id: string;
    emoji: string;
    op: 'add' | 'remove';
  }>('Discord reaction');
  readonly interactionResponses = new Recorder<DiscordInteractionResponse>('Discord interaction callback');
  /** Modals the bot opened (interaction response type 9), with whether they are still open. */
  readonly modals = new Recorder<DiscordModal>('Discord modal');
  readonly gateway = new Recorder<DiscordGatewayEvent>('Discord gateway event');
  /** Errors inside the emulator itself (answered as HTTP 500): a test should expect none. */
  readonly errors: Error[] = [];

  private readonly users = new Map<string, DiscordUser>();
  /** Ephemeral messages by id (a button on one can still be pressed). */
  private readonly ephemeralMessages = new Map<string, DiscordMessage>();
  private readonly channels = new Map<string, DiscordChannel>();
  private readonly messages = new Map<string, DiscordMessage>();
  /** Nonces of created messages by `<author>:<nonce>`, for `enforce_nonce`. */
  private readonly nonces = new Map<string, { id: string; at: number }>();
  /** How long a nonce is enforced: Discord says "the past few minutes". */
  nonceWindowMs = 5 * 60_000;
  private readonly files = new Map<string, Buffer>();
  private readonly interactions = new Map<string, Interaction>();
  private readonly commands = new Map<string, DiscordCommand>();
  private readonly rateLimits: RateLimitRule[] = [];
  private session?: Session;
  private readonly messageContentIntent: boolean;
  private lastSnowflake = 0n;
  private readonly heartbeatIntervalMs: number;
  private readonly echo: boolean;
  private readonly interactionTimeoutMs: number;
  private readonly routeLimits?: DiscordRateLimits;
  private readonly botAccess = new Map<string, 'read' | 'none'>();
  private readyWaiters: (() => void)[] = [];

  constructor(options: DiscordEmulatorOptions = {}) {
    super();
    this.botToken = options.botToken ?? 'squall-emulator.discord.token';
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 41_250;
    this.echo = options.echoBotMessages ?? true;
    this.interactionTimeoutMs = options.interactionTimeoutMs ?? 3_000;
    this.messageContentIntent = options.messageContentIntent ?? true;
    if (options.rateLimits ?? true) this.routeLimits = new DiscordRateLimits();
    const people = options.users ?? [
      { id: '1200000000000000101', username: 'alice', global_name: 'Alice Ops' },
      { id: '1200000000000000102', username: 'bob', global_name: 'Bob Dev' },
    ];
    for (const u of [this.botUser, ...people]) this.users.set(u.id, u);
    const channels = options.channels ?? [
      { id: '1200000000000000010', name: 'ops' },
      { id: '1200000000000000011', name: 'general' },
    ];
    channels.forEach((c, position) =>
      this.addChannel({ id: c.id, name: c.name, type: c.type ?? 0, position }),
    );
  }

  // ---------------------------------------------------------------- lifecycle and addresses

  protected failed(error: Error, res: http.ServerResponse): void {
    this.errors.push(error);
    if (!res.headersSent) sendJson(res, 500, { message: `emulator error: ${error.message}`, code: 0 });
  }

  protected stopping(): void {
    for (const i of this.interactions.values()) if (i.settle) clearTimeout(i.settle.timer);
  }

  /** For discord.js `new Client({ rest: { api: emulator.apiUrl } })` (the SDK appends /v10). */
  get apiUrl(): string {
    return `${this.baseUrl}/api`;
  }

  /** What GET /gateway/bot returns; discord.js connects there by itself. */
  get gatewayUrl(): string {
    return this.socketUrl('/gateway');
  }

  // ---------------------------------------------------------------- guild model

  addChannel(channel: { id: string; name: string; type?: number } & Record<string, unknown>): void {
    this.channels.set(channel.id, {
      guild_id: this.guildId,
      position: 0,
      permission_overwrites: [],
      topic: null,
      nsfw: false,
      last_message_id: null,
      rate_limit_per_user: 0,
      parent_id: null,
      ...channel,
      type: channel.type ?? 0,
    });
  }

  /**
   * What the bot may do in a channel, as its role and the channel's overwrites would allow:
   * 'none' (no View Channel: every request is 403 Missing Access, 50001), 'read' (no Send
   * Messages: posting, editing and starting threads is 403 Missing Permissions, 50013) or 'full'.
   */
  setBotAccess(channelId: string, access: 'full' | 'read' | 'none'): void {
    this.requireChannel(channelId);
    if (access === 'full') this.botAccess.delete(channelId);
    else this.botAccess.set(channelId, access);
  }

  addUser(user: DiscordUser): void {
    this.users.set(user.id, user);
  }

  /** The bot's direct-message channel with a user (created on first use, as Discord does). */
  dmChannel(userId: string): DiscordChannel {
    const found = [...this.channels.values()].find(
      (c) => c.type === 1 && (c.recipients as Array<{ id: string }> | undefined)?.[0]?.id === userId,
    );
    if (found) return found;
    const user = this.requireUser(userId);
    const dm: DiscordChannel = {
      id: this.snowflake(),
      type: 1,
      recipients: [{ discriminator: '0', avatar: null, global_name: null, ...user }],
      last_message_id: null,
    };
    this.channels.set(dm.id, dm);
    return dm;
  }

  channel(id: string): DiscordChannel | undefined {
    return this.channels.get(id);
  }

  /** Messages of a channel or thread, oldest first. */
  channelMessages(channelId: string): DiscordMessage[] {
    return [...this.messages.values()].filter((m) => m.channel_id === channelId);
  }

  message(id: string): DiscordMessage | undefined {
    return this.messages.get(id) ?? this.ephemeralMessages.get(id);
  }

  /** Application commands the bot registered, global and per guild. */
  get registeredCommands(): DiscordCommand[] {
    return [...this.commands.values()];
  }

  // ---------------------------------------------------------------- waiting helpers

  waitForCall(
    method: string,
    path: RegExp | string,
    predicate: (c: DiscordCall) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<DiscordCall> {
    const matches = (p: string) => (typeof path === 'string' ? p === path : path.test(p));
    return this.calls.waitFor((c) => c.method === method && matches(c.path) && predicate(c), timeoutMs);
  }

  /** Resolves when the bot holds a gateway session that has received READY (or RESUMED). */
  waitForReady(timeoutMs = 15_000): Promise<void> {
    if (this.session?.ws?.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for the bot to identify or resume on the gateway`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  // ---------------------------------------------------------------- fault injection

  /** Discord's own per-channel limits start full again (tests that share an emulator). */
  resetRateLimits(): void {
    this.routeLimits?.reset();
  }

  /**
   * The next `times` REST calls matching `method` and `path` (below /api/v10, e.g.
   * /^\/channels\/\d+\/messages$/) get 429 with Retry-After; discord.js waits and retries.
   */
  rateLimitNext(
    match: { method?: string; path?: RegExp | string },
    options: { retryAfterSeconds?: number; times?: number; global?: boolean } = {},
  ): void {
    this.rateLimits.push({
      matches: (key) => {
        const [method, path] = key.split(' ');
        if (match.method && match.method.toUpperCase() !== method) return false;
        if (match.path === undefined) return true;
        return typeof match.path === 'string' ? match.path === path : match.path.test(path);
      },
      retryAfterSeconds: options.retryAfterSeconds ?? 1,
      remaining: options.times ?? 1,
      global: options.global ?? false,
    });
  }

  /**
   * Drops the gateway connection. With no code the TCP socket dies without a close frame (the
   * client sees 1006 and RESUMEs its session; events dispatched meanwhile are replayed). With a
   * code the server closes properly: 4000-range codes make discord.js resume, 1000 makes it
   * identify again with a fresh session (events sent meanwhile are then lost, as on Discord).
   */
  disconnect(code?: number): void {
    for (const ws of this.sockets) {
      if (code === undefined) ws.terminate();
      else ws.close(code, 'emulator disconnect');
    }
    if (code === 1000 && this.session) this.session.resumable = false;
  }

  /** Sends op 7 RECONNECT: the client closes and resumes. */
  requestReconnect(): void {
    this.session?.ws?.send(JSON.stringify({ op: 7, d: null, s: null, t: null }));
  }

  // ---------------------------------------------------------------- user actions

  /** A person posts in a channel or thread. Resolves with the message id once dispatched. */
  userSays(input: { content: string; user?: string; channel?: string; mention?: boolean }): string {
    const user = this.requireUser(input.user ?? this.defaultUser);
    const channel = this.requireChannel(input.channel ?? this.defaultChannel);
    const mention = `<@${this.botUserId}>`;
    const content =
      input.mention && !input.content.includes(mention) ? `${mention} ${input.content}` : input.content;
    const message = this.buildMessage(channel, user, { content });
    if (content.includes(mention)) message.mentions = [this.botUser];
    message.member = this.memberOf(user, false);
    this.store(message);
    // Without the Message Content intent Discord sends the text (content, embeds, attachments,
    // components) only of messages that mention the bot and of DMs; the rest arrive empty.
    const readable =
      ((this.session?.intents ?? 0) & MESSAGE_CONTENT_INTENT) !== 0 ||
      content.includes(mention) ||
      channel.type === 1;
    this.dispatch(
      'MESSAGE_CREATE',
      readable ? message : { ...message, content: '', embeds: [], attachments: [], components: [] },
    );
    return message.id;
  }

  /**
   * A person runs a slash command. Options are typed from the registered command when there is
   * one, otherwise from the JS value. Resolves with the bot's interaction callback.
   */
  slashCommand(input: {
    name: string;
    options?: Record<string, string | number | boolean>;
    user?: string;
    channel?: string;
  }): Promise<DiscordInteractionResponse> {
    const user = this.requireUser(input.user ?? this.defaultUser);
    const channel = this.requireChannel(input.channel ?? this.defaultChannel);
    const registered = [...this.commands.values()].find(
      (c) => c.name === input.name && (c.guild_id === undefined || c.guild_id === this.guildId),
    );
    const options = Object.entries(input.options ?? {}).map(([name, value]) => ({
      name,
      type: registered?.options?.find((o) => o.name === name)?.type ?? optionType(value),
      value,
    }));
    return this.interact(user, channel, 2, {
      id: registered?.id ?? this.snowflake(),
      name: input.name,
      type: 1,
      options,
      ...(registered?.guild_id ? { guild_id: registered.guild_id } : {}),
    });
  }

  /** A person clicks a button (by custom_id) on a message. Resolves with the bot's callback. */
  clickButton(input: {
    custom_id: string;
    message_id?: string;
    message?: { id: string };
    user?: string;
  }): Promise<DiscordInteractionResponse> {
    const user = this.requireUser(input.user ?? this.defaultUser);
    const id = input.message?.id ?? input.message_id;
    if (!id) throw new Error('clickButton needs message_id or message');
    const message = this.messages.get(id) ?? this.ephemeralMessages.get(id);
    if (!message) throw new Error(`Discord emulator: no message ${id}`);
    // An ephemeral message is shown to one person only: nobody else can press its buttons.
    const shownTo = (message.interaction_metadata as { user?: { id?: string } } | undefined)?.user?.id;
    if (this.ephemeralMessages.has(id) && shownTo !== user.id)
      throw new Error(`clickButton: ephemeral message ${id} is shown only to ${shownTo}, not ${user.id}`);
    const button = (
      message.components as { components?: { type: number; custom_id?: string; disabled?: boolean }[] }[]
    )
      .flatMap((row) => row.components ?? [])
      .find((c) => c.type === 2 && c.custom_id === input.custom_id);
    if (!button)
      throw new Error(`clickButton: message ${id} has no button with custom_id '${input.custom_id}'`);
    // Discord's client cannot press a greyed-out button: no interaction is ever sent.
    if (button.disabled)
      throw new Error(`clickButton: button '${input.custom_id}' of message ${id} is disabled`);
    const channel = this.requireChannel(message.channel_id);
    // A direct message is seen by its recipient only.
    const recipient = (channel.recipients as Array<{ id: string }> | undefined)?.[0]?.id;
    if (channel.type === 1 && recipient !== user.id)
      throw new Error(`clickButton: message ${id} is in a direct message to ${recipient}, not ${user.id}`);
    return this.interact(user, channel, 3, { custom_id: input.custom_id, component_type: 2 }, message);
  }

  /**
   * A person fills in an open modal and submits it: `values` by input custom_id; inputs not
   * named keep what they showed. Resolves with the bot's callback to the submit.
   */
  submitModal(input: {
    modal: DiscordModal;
    values?: Record<string, string>;
    user?: string;
  }): Promise<DiscordInteractionResponse> {
    const modal = input.modal;
    if (!modal.open) throw new Error(`submitModal: modal ${modal.custom_id} is closed`);
    const user = this.requireUser(input.user ?? modal.user);
    if (user.id !== modal.user)
      throw new Error(`submitModal: modal ${modal.custom_id} is open for ${modal.user}`);
    const data = submitData(modal, input.values ?? {});
    // Submitting closes a Discord modal, whatever the bot answers.
    modal.open = false;
    const message = modal.message_id
      ? (this.messages.get(modal.message_id) ?? this.ephemeralMessages.get(modal.message_id))
      : undefined;
    return this.interact(user, this.requireChannel(modal.channel_id), 5, data, message);
  }

  // ---------------------------------------------------------------- gateway

  protected upgrade(url: URL, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (url.pathname !== '/gateway') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    this.accept(req, socket, head, (ws) => this.onConnection(ws, Object.fromEntries(url.searchParams)));
  }

  private onConnection(ws: WebSocket, query: Record<string, string>): void {
    this.gateway.push({ kind: 'connect', query });
    const send = (payload: unknown) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(payload));
    };
    if (query.compress) {
      // Only JSON without transport compression is emulated (zlib-sync must not be installed).
      ws.close(4002, `compress=${query.compress} is not supported by the emulator`);
      return;
    }
    ws.on('message', (data) => {
      let msg: { op: number; d: any };
      try {
        msg = JSON.parse(data.toString());
      } catch {
        ws.close(4002, 'Error while decoding payload.');
        return;
      }
      switch (msg.op) {
        case 1:
          this.gateway.push({ kind: 'heartbeat', op: 1, data: msg.d });
          send({ op: 11, d: null, s: null, t: null });
          break;
        case 2:
          this.identify(ws, msg.d);
          break;
        case 6:
          this.resume(ws, msg.d);
          break;
        default:
          this.gateway.push({ kind: 'other', op: msg.op, data: msg.d });
      }
    });
    ws.on('close', (code) => {
      this.gateway.push({ kind: 'close', code });
      if (this.session?.ws === ws) {
        this.session.ws = undefined;
        // A client that closes normally ends its session (Discord invalidates it).
        if (code === 1000 || code === 1001) this.session.resumable = false;
      }
    });
    ws.on('error', (err) => this.errors.push(err));
    send({ op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs }, s: null, t: null });
  }

  private identify(ws: WebSocket, d: { token?: string; intents?: number; compress?: boolean }): void {
    this.gateway.push({ kind: 'identify', op: 2, data: { intents: d.intents, compress: d.compress } });
    if (d.token !== this.botToken) {
      ws.close(4004, 'Authentication failed.');
      return;
    }
    const intents = Number(d.intents ?? 0);
    if (intents & MESSAGE_CONTENT_INTENT && !this.messageContentIntent) {
      ws.close(4014, 'Disallowed intent(s).');
      return;
    }
    if (this.session) this.session.resumable = false;
    const session: Session = {
      id: randomBytes(16).toString('hex'),
      intents,
      seq: 0,
      log: [],
      ws,
      resumable: true,
    };
    this.session = session;
    this.dispatch('READY', {
      v: 10,
      user: {
        ...this.botUser,
        discriminator: '0',
        avatar: null,
        verified: true,
        flags: 0,
        mfa_enabled: false,
      },
      guilds: [{ id: this.guildId, unavailable: true }],
      session_id: session.id,
      resume_gateway_url: this.gatewayUrl,
      shard: [0, 1],
      application: { id: this.applicationId, flags: 0 },
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      user_settings: {},
      _trace: ['squall-emulator'],
    });
    this.dispatch('GUILD_CREATE', this.guildObject());
    this.notifyReady();
  }

  private resume(ws: WebSocket, d: { token?: string; session_id?: string; seq?: number }): void {
    this.gateway.push({ kind: 'resume', op: 6, data: { session_id: d.session_id, seq: d.seq } });
    const session = this.session;
    if (d.token !== this.botToken) {
      ws.close(4004, 'Authentication failed.');
      return;
    }
    if (!session || session.id !== d.session_id || !session.resumable) {
      ws.send(JSON.stringify({ op: 9, d: false, s: null, t: null }));
      return;
    }
    session.ws = ws;
    // Replay everything the client has not seen, then confirm: exactly what Discord does.
    for (const event of session.log) if (event.s > (d.seq ?? 0)) ws.send(JSON.stringify(event));
    this.dispatch('RESUMED', { _trace: ['squall-emulator'] });
    this.notifyReady();
  }

  private notifyReady(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  /** Sends a dispatch (op 0) on the session; while disconnected it is kept for RESUME's replay. */
  dispatch(t: string, d: unknown): void {
    const session = this.session;
    if (!session)
      throw new Error(
        `Discord emulator: cannot dispatch ${t}, the bot has not identified on the gateway yet`,
      );
    const event = { op: 0 as const, s: ++session.seq, t, d };
    session.log.push(event);
    if (session.ws?.readyState === WebSocket.OPEN) session.ws.send(JSON.stringify(event));
  }

  private guildObject(): Record<string, unknown> {
    const all = [...this.channels.values()].filter((c) => c.guild_id === this.guildId);
    return {
      id: this.guildId,
      name: this.guildName,
      icon: null,
      owner_id: this.defaultUser,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      features: [],
      mfa_level: 0,
      premium_tier: 0,
      preferred_locale: 'en-US',
      nsfw_level: 0,
      system_channel_id: null,
      emojis: [],
      stickers: [],
      roles: [
        {
          id: this.guildId,
          name: '@everyone',
          color: 0,
          hoist: false,
          position: 0,
          permissions: ALL_PERMISSIONS,
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
      joined_at: new Date(0).toISOString(),
      large: false,
      unavailable: false,
      member_count: this.users.size,
      members: [...this.users.values()].map((u) => this.memberOf(u, false)),
      channels: all.filter((c) => c.type !== 11 && c.type !== 12),
      threads: all.filter((c) => c.type === 11 || c.type === 12),
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
    };
  }

  // ---------------------------------------------------------------- interactions

  private interact(
    user: DiscordUser,
    channel: DiscordChannel,
    type: number,
    data: Record<string, unknown>,
    message?: DiscordMessage,
  ): Promise<DiscordInteractionResponse> {
    const interaction: Interaction = {
      id: this.snowflake(),
      token: `emu-interaction-${randomBytes(12).toString('hex')}`,
      type,
      channel_id: channel.id,
      user,
      at: Date.now(),
      message_id: message?.id,
    };
    this.interactions.set(interaction.token, interaction);
    const promise = new Promise<DiscordInteractionResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        interaction.settle = undefined;
        reject(
          new Error(
            `the bot did not answer interaction ${interaction.id} within ${this.interactionTimeoutMs} ms`,
          ),
        );
      }, this.interactionTimeoutMs);
      interaction.settle = { resolve, timer };
    });
    this.dispatch('INTERACTION_CREATE', {
      id: interaction.id,
      application_id: this.applicationId,
      type,
      token: interaction.token,
      version: 1,
      guild_id: this.guildId,
      channel_id: channel.id,
      channel: {
        id: channel.id,
        type: channel.type,
        name: channel.name,
        guild_id: this.guildId,
        parent_id: channel.parent_id ?? null,
      },
      member: { ...this.memberOf(user, true) },
      data,
      ...(message ? { message } : {}),
      app_permissions: ALL_PERMISSIONS,
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': this.guildId },
      context: 0,
      attachment_size_limit: 8 * 1024 * 1024,
    });
    return promise;
  }

  private interactionCallback(req: Request, id: string, token: string): Reply {
    const interaction = this.interactions.get(token);
    if (!interaction || interaction.id !== id) throw new DiscordApiError(404, 'Unknown interaction', 10062);
    // Past the initial-response window the token is unknown to the callback route (follow-ups and
    // @original stay usable for 15 minutes, but only after a response within the window).
    if (!interaction.responded && Date.now() - interaction.at > this.interactionTimeoutMs)
      throw new DiscordApiError(404, 'Unknown interaction', 10062);
    if (interaction.responded)
      throw new DiscordApiError(400, 'Interaction has already been acknowledged.', 40060);
    const type = Number(req.body.type);
    const data = (req.body.data ?? undefined) as Record<string, unknown> | undefined;
    const response: DiscordInteractionResponse = { interaction_id: id, type, ...(data ? { data } : {}) };
    interaction.responded = response;
    const channel = this.requireChannel(interaction.channel_id);
    let resource: DiscordMessage | undefined;
    if (type === 4 || type === 5) {
      const flags = Number(data?.flags ?? 0);
      interaction.ephemeral = (flags & EPHEMERAL) !== 0;
      interaction.deferred = type === 5;
      const message = this.botMessage(
        channel,
        type === 5 ? { flags: flags | LOADING } : (data ?? {}),
        req.files,
        {
          interaction_metadata: {
            id,
            type: interaction.type,
            user: interaction.user,
            authorizing_integration_owners: { '0': this.guildId },
          },
          webhook_id: this.applicationId,
          application_id: this.applicationId,
        },
      );
      interaction.original_id = message.id;
      if (type === 4) this.announce(message, interaction.ephemeral ? 'ephemeral' : 'interaction');
      resource = message;
    } else if (type === 7) {
      if (!interaction.message_id)
        throw new DiscordApiError(400, 'Interaction has no message to update', 50035);
      resource = this.edit(interaction.message_id, data ?? {}, req.files, 'interaction_update');
    } else if (type === 9) {
      // A modal answers a command or a component, never another modal's submit.
      if (interaction.type !== 2 && interaction.type !== 3)
        throw new DiscordApiError(400, 'Interaction response type 9 is not valid here', 50035);
      const problem = modalProblem(data);
      if (problem) throw new DiscordApiError(400, `Invalid Form Body (${problem})`, 50035);
      this.modals.push(
        modalOf(data!, {
          interaction_id: id,
          user: interaction.user.id,
          channel_id: interaction.channel_id,
          ...(interaction.message_id ? { message_id: interaction.message_id } : {}),
        }),
      );
    } else if (type === 6 && interaction.type === 5 && !interaction.message_id) {
      // A deferred update needs a message: only a modal opened from a component has one.
      throw new DiscordApiError(400, 'Interaction response type 6 needs a message', 50035);
    } else if (type !== 6) {
      throw new DiscordApiError(400, `Invalid interaction response type ${type}`, 50035);
    }
    this.interactionResponses.push(response);
    if (interaction.settle) {
      clearTimeout(interaction.settle.timer);
      interaction.settle.resolve(response);
      interaction.settle = undefined;
    }
    if (req.query.with_response === 'true') {
      return {
        status: 200,
        body: {
          interaction: { id, type: interaction.type },
          resource: { type, ...(resource ? { message: resource } : {}) },
        },
      };
    }
    return { status: 204 };
  }

  private webhook(req: Request, token: string, messageRef?: string): Reply {
    const interaction = this.interactions.get(token);
    if (!interaction) throw new DiscordApiError(404, 'Unknown Webhook', 10015);
    if (!interaction.responded) throw new DiscordApiError(404, 'Unknown Webhook', 10015);
    if (messageRef === undefined) {
      if (req.method !== 'POST') throw new DiscordApiError(405, '405: Method Not Allowed', 0);
      const channel = this.requireChannel(interaction.channel_id);
      const message = this.botMessage(channel, req.body, req.files, {
        // Follow-ups say whose interaction they answer, as Discord's do.
        interaction_metadata: {
          id: interaction.id,
          type: interaction.type,
          user: interaction.user,
          authorizing_integration_owners: { '0': this.guildId },
        },
        webhook_id: this.applicationId,
        application_id: this.applicationId,
      });
      this.announce(message, (Number(req.body.flags ?? 0) & EPHEMERAL) !== 0 ? 'ephemeral' : 'followup');
      return req.query.wait === 'true' ? { status: 200, body: message } : { status: 204 };
    }
    const targetId =
      messageRef === '@original' ? (interaction.original_id ?? interaction.message_id) : messageRef;
    // An ephemeral reply or follow-up is reachable through its interaction's token only.
    const message = targetId
      ? (this.messages.get(targetId) ?? this.ephemeralMessages.get(targetId))
      : undefined;
    if (!message) throw new DiscordApiError(404, 'Unknown Message', 10008);
    if (req.method === 'GET') return { status: 200, body: message };
    if (req.method === 'DELETE') {
      this.messages.delete(message.id);
      this.ephemeralMessages.delete(message.id);
      return { status: 204 };
    }
    if (req.method !== 'PATCH') throw new DiscordApiError(405, '405: Method Not Allowed', 0);
    if (messageRef === '@original' && interaction.deferred && message.id === interaction.original_id) {
      // The first edit of a deferred reply is when people see the answer: it counts as the post.
      interaction.deferred = false;
      const filled = this.edit(
        message.id,
        { ...req.body, flags: Number(message.flags) & ~LOADING },
        req.files,
        undefined,
      );
      this.announce(filled, interaction.ephemeral ? 'ephemeral' : 'interaction');
      return { status: 200, body: filled };
    }
    const via = messageRef === '@original' ? 'edit_original' : 'edit_followup';
    return { status: 200, body: this.edit(message.id, req.body, req.files, via) };
  }

  // ---------------------------------------------------------------- REST

  protected async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    if (req.method === 'GET' && url.pathname.startsWith('/attachments/')) {
      const data = this.files.get(url.pathname);
      if (!data) sendJson(res, 404, { message: '404: Not Found', code: 0 });
      else
        res
          .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length })
          .end(data);
      return;
    }
    const parsed = await readBody(req);
    const prefix = '/api/v10';
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(
      url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname,
    );
    const query = Object.fromEntries(url.searchParams);
    let body: Record<string, unknown> = parsed.fields;
    if (typeof parsed.fields.payload_json === 'string') body = JSON.parse(parsed.fields.payload_json);
    const call: DiscordCall = {
      method,
      path,
      query,
      body: parsed.json ?? (parsed.raw.length > 0 ? body : undefined),
      files: parsed.files.map((f) => ({
        field: f.field,
        filename: f.filename,
        contentType: f.contentType,
        size: f.data.length,
      })),
      status: 0,
    };

    let reply: Reply;
    const limited = takeRateLimit(this.rateLimits, `${method} ${path}`);
    if (limited) {
      const global = limited.global === true;
      call.status = 429;
      this.calls.push(call);
      sendJson(
        res,
        429,
        { message: 'You are being rate limited.', retry_after: limited.retryAfterSeconds, global },
        {
          'retry-after': String(limited.retryAfterSeconds),
          'x-ratelimit-limit': '1',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': String(limited.retryAfterSeconds),
          'x-ratelimit-scope': global ? 'global' : 'user',
          ...(global ? { 'x-ratelimit-global': 'true' } : {}),
        },
      );
      return;
    }
    const route = url.pathname.startsWith(`${prefix}/`)
      ? this.routeLimits?.take(method, path.split('/').filter(Boolean))
      : undefined;
    if (route?.retryAfter !== undefined) {
      call.status = 429;
      this.calls.push(call);
      sendJson(
        res,
        429,
        {
          message: 'You are being rate limited.',
          retry_after: Number(route.retryAfter.toFixed(3)),
          global: false,
        },
        route.headers,
      );
      return;
    }
    try {
      if (!url.pathname.startsWith(`${prefix}/`)) throw new DiscordApiError(404, '404: Not Found', 0);
      reply = this.handle({
        method,
        path,
        segments: path.split('/').filter(Boolean),
        query,
        body,
        json: parsed.json,
        files: parsed.files,
        auth: String(req.headers.authorization ?? ''),
      });
    } catch (err) {
      if (!(err instanceof DiscordApiError)) throw err;
      reply = {
        status: err.status,
        body: { message: err.message, code: err.code, ...(err.errors ? { errors: err.errors } : {}) },
      };
    }
    call.status = reply.status;
    this.calls.push(call);
    if (reply.status === 204) sendEmpty(res, 204, route?.headers);
    else sendJson(res, reply.status, reply.body ?? {}, route?.headers);
  }

  private handle(req: Request): Reply {
    const s = req.segments;
    const m = req.method;
    // Interaction callbacks and webhooks authenticate with the interaction token in the path.
    if (s[0] === 'interactions' && s.length === 4 && s[3] === 'callback' && m === 'POST') {
      return this.interactionCallback(req, s[1], s[2]);
    }
    if (s[0] === 'webhooks' && s[1] === this.applicationId && s.length >= 3) {
      if (s.length === 3) return this.webhook(req, s[2]);
      if (s.length === 5 && s[3] === 'messages') return this.webhook(req, s[2], s[4]);
    }
    if (req.auth !== `Bot ${this.botToken}`) throw new DiscordApiError(401, '401: Unauthorized', 0);

    const ok = (body: unknown): Reply => ({ status: 200, body });
    if (s[0] === 'gateway') {
      return ok({
        url: this.gatewayUrl,
        ...(s[1] === 'bot'
          ? {
              shards: 1,
              session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
            }
          : {}),
      });
    }
    if (s[0] === 'users' && s[1] === '@me' && s.length === 2 && m === 'GET')
      return ok({ ...this.botUser, discriminator: '0', avatar: null });
    if (s[0] === 'users' && s[1] === '@me' && s[2] === 'channels' && s.length === 3 && m === 'POST') {
      const recipient = this.users.get(String(req.body.recipient_id ?? ''));
      if (!recipient) throw new DiscordApiError(400, 'Invalid Recipient(s)', 50033);
      return ok(this.dmChannel(recipient.id));
    }
    if (s[0] === 'users' && s.length === 2 && m === 'GET') {
      const user = this.users.get(s[1]);
      if (!user) throw new DiscordApiError(404, 'Unknown User', 10013);
      return ok({ discriminator: '0', avatar: null, global_name: null, ...user });
    }
    if (s[0] === 'applications' && s[1] === '@me' && m === 'GET') {
      return ok({
        id: this.applicationId,
        name: 'Squall',
        description: '',
        bot_public: false,
        flags: 0,
        bot: this.botUser,
      });
    }
    if (s[0] === 'applications' && s[1] === this.applicationId) return this.commandsRoute(req);
    if (s[0] === 'guilds' && s[1] === this.guildId && s.length === 2 && m === 'GET')
      return ok(this.guildObject());
    if (s[0] === 'channels' && s.length >= 2) return this.channelRoute(req);
    throw new DiscordApiError(404, '404: Not Found', 0);
  }

  private channelRoute(req: Request): Reply {
    const [, channelId, sub, messageId, action, ...rest] = req.segments;
    const m = req.method;
    const channel = this.channels.get(channelId);
    if (!channel) throw new DiscordApiError(404, 'Unknown Channel', 10003);
    // A thread inherits its parent's permissions.
    const access = this.botAccess.get(channel.id) ?? this.botAccess.get(String(channel.parent_id ?? ''));
    if (access === 'none') throw new DiscordApiError(403, 'Missing Access', 50001);
    if (
      access === 'read' &&
      (m === 'POST' || m === 'PATCH') &&
      (sub === 'messages' || sub === 'threads') &&
      action !== 'reactions'
    )
      throw new DiscordApiError(403, 'Missing Permissions', 50013);
    if (sub === undefined && m === 'GET') return { status: 200, body: channel };
    if (sub === 'typing' && m === 'POST') return { status: 204 };
    if (sub === 'threads' && messageId === undefined && m === 'POST') {
      const thread = this.createThread(channel, this.snowflake(), req.body);
      return { status: 201, body: thread };
    }
    if (sub !== 'messages') throw new DiscordApiError(404, '404: Not Found', 0);
    if (messageId === undefined) {
      if (m === 'POST') {
        const nonce = this.nonceOf(req.body);
        const earlier =
          nonce !== undefined && req.body.enforce_nonce === true ? this.nonced(nonce) : undefined;
        if (earlier) return { status: 200, body: earlier };
        const message = this.botMessage(channel, req.body, req.files, nonce !== undefined ? { nonce } : {});
        if (nonce !== undefined)
          this.nonces.set(`${this.botUserId}:${nonce}`, { id: message.id, at: Date.now() });
        this.announce(message, 'channel');
        return { status: 200, body: message };
      }
      if (m === 'GET') {
        const limit = Number(req.query.limit ?? 50);
        return { status: 200, body: this.channelMessages(channelId).reverse().slice(0, limit) };
      }
    }
    const message = messageId ? this.messages.get(messageId) : undefined;
    if (!message || message.channel_id !== channelId)
      throw new DiscordApiError(404, 'Unknown Message', 10008);
    if (action === undefined) {
      if (m === 'GET') return { status: 200, body: message };
      if (m === 'PATCH') {
        if (message.author.id !== this.botUserId)
          throw new DiscordApiError(403, 'Cannot edit a message authored by another user', 50005);
        return { status: 200, body: this.edit(message.id, req.body, req.files, 'edit') };
      }
      if (m === 'DELETE') {
        this.messages.delete(message.id);
        return { status: 204 };
      }
    }
    if (action === 'threads' && m === 'POST') {
      if (message.thread)
        throw new DiscordApiError(400, 'A thread has already been created for this message', 160004);
      // A thread started from a message shares the message's id, as on Discord.
      const thread = this.createThread(channel, message.id, req.body);
      message.thread = thread;
      return { status: 201, body: thread };
    }
    if (action === 'reactions' && rest.length === 2 && rest[1] === '@me' && (m === 'PUT' || m === 'DELETE')) {
      const emoji = rest[0];
      const reactions = (message.reactions ?? []) as {
        emoji: { name: string };
        count: number;
        me: boolean;
      }[];
      const existing = reactions.find((r) => r.emoji.name === emoji);
      // Both are idempotent on Discord: 204 whether or not the bot had reacted.
      if (m === 'PUT') {
        if (existing && !existing.me) {
          existing.count += 1;
          existing.me = true;
        } else if (!existing) {
          reactions.push({ emoji: { name: emoji }, count: 1, me: true });
        }
      } else if (existing?.me) {
        existing.me = false;
        existing.count -= 1;
        if (existing.count === 0) reactions.splice(reactions.indexOf(existing), 1);
      }
      message.reactions = reactions;
      this.reactions.push({
        channel_id: message.channel_id,
        message_id: message.id,
        emoji,
        op: m === 'PUT' ? 'add' : 'remove',
      });
      return { status: 204 };
    }
    throw new DiscordApiError(404, '404: Not Found', 0);
  }

  private commandsRoute(req: Request): Reply {
    const s = req.segments;
    const m = req.method;
    const guildId = s[2] === 'guilds' ? s[3] : undefined;
    const rest = guildId ? s.slice(4) : s.slice(2);
    if (rest[0] !== 'commands') throw new DiscordApiError(404, '404: Not Found', 0);
    if (guildId !== undefined && guildId !== this.guildId)
      throw new DiscordApiError(404, 'Unknown Guild', 10004);
    const inScope = () => [...this.commands.values()].filter((c) => c.guild_id === guildId);
    const save = (input: Record<string, unknown>): DiscordCommand => {
      const name = String(input.name ?? '');
      if (!/^[-_\p{L}\p{N}]{1,32}$/u.test(name))
        throw new DiscordApiError(400, `Invalid Form Body: name '${name}'`, 50035);
      const type = Number(input.type ?? 1);
      if (type === 1 && !input.description)
        throw new DiscordApiError(400, `Invalid Form Body: ${name} needs a description`, 50035);
      const existing = inScope().find((c) => c.name === name && c.type === type);
      const command: DiscordCommand = {
        default_member_permissions: null,
        dm_permission: true,
        nsfw: false,
        contexts: null,
        integration_types: [0],
        ...input,
        id: existing?.id ?? this.snowflake(),
        application_id: this.applicationId,
        ...(guildId ? { guild_id: guildId } : {}),
        name,
        description: String(input.description ?? ''),
        type,
        version: this.snowflake(),
      } as DiscordCommand;
      this.commands.set(command.id, command);
      return command;
    };
    if (rest.length === 1) {
      if (m === 'GET') return { status: 200, body: inScope() };
      if (m === 'PUT') {
        if (!Array.isArray(req.json))
          throw new DiscordApiError(400, 'Invalid Form Body: expected an array', 50035);
        for (const c of inScope()) this.commands.delete(c.id);
        return { status: 200, body: (req.json as Record<string, unknown>[]).map(save) };
      }
      if (m === 'POST') return { status: 201, body: save(req.body) };
    }
    const command = this.commands.get(rest[1]);
    if (!command || command.guild_id !== guildId)
      throw new DiscordApiError(404, 'Unknown application command', 10063);
    if (m === 'GET') return { status: 200, body: command };
    if (m === 'DELETE') {
      this.commands.delete(command.id);
      return { status: 204 };
    }
    if (m === 'PATCH') return { status: 200, body: save({ ...command, ...req.body }) };
    throw new DiscordApiError(405, '405: Method Not Allowed', 0);
  }

  // ---------------------------------------------------------------- model mutations

  private buildMessage(
    channel: DiscordChannel,
    author: DiscordUser,
    fields: Record<string, unknown>,
  ): DiscordMessage {
    return {
      id: this.snowflake(),
      channel_id: channel.id,
      guild_id: channel.guild_id,
      author: { discriminator: '0', avatar: null, global_name: null, ...author },
      content: '',
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      components: [],
      pinned: false,
      type: 0,
      flags: 0,
      ...fields,
    };
  }

  /** A create-message body's `nonce`: an integer or a string of at most 25 characters. */
  private nonceOf(body: Record<string, unknown>): string | number | undefined {
    const nonce = body.nonce;
    if (nonce === undefined || nonce === null) return undefined;
    if ((typeof nonce === 'string' && nonce.length <= 25) || Number.isInteger(nonce))
      return nonce as string | number;
    throw new DiscordApiError(400, 'Invalid Form Body (nonce: must be 25 or fewer in length)', 50035);
  }

  /**
   * `enforce_nonce`: the message this bot created with `nonce` within the last few minutes, which
   * Discord returns instead of creating another.
   */
  private nonced(nonce: string | number): DiscordMessage | undefined {
    const seen = this.nonces.get(`${this.botUserId}:${nonce}`);
    if (!seen || Date.now() - seen.at > this.nonceWindowMs) return undefined;
    return this.messages.get(seen.id);
  }

  private botMessage(
    channel: DiscordChannel,
    body: Record<string, unknown>,
    files: FilePart[],
    extra: Record<string, unknown>,
  ): DiscordMessage {
    checkMessageBody(body);
    const content = typeof body.content === 'string' ? body.content : '';
    const embeds = Array.isArray(body.embeds) ? body.embeds : [];
    const components = Array.isArray(body.components) ? body.components : [];
    const flags = Number(body.flags ?? 0);
    if (
      !content &&
      embeds.length === 0 &&
      components.length === 0 &&
      files.length === 0 &&
      (flags & LOADING) === 0
    ) {
      throw new DiscordApiError(400, 'Cannot send an empty message', 50006);
    }
    const reference = body.message_reference as { message_id?: string } | undefined;
    const referenced = reference?.message_id ? this.messages.get(reference.message_id) : undefined;
    if (reference?.message_id && !referenced)
      throw new DiscordApiError(400, 'Unknown message reference', 10008);
    const message = this.buildMessage(channel, this.botUser, {
      content,
      embeds,
      components,
      flags,
      ...(referenced
        ? {
            type: 19,
            message_reference: {
              type: 0,
              message_id: referenced.id,
              channel_id: referenced.channel_id,
              guild_id: referenced.guild_id,
            },
            referenced_message: referenced,
          }
        : {}),
      ...extra,
    });
    message.attachments = this.attach(message, body, files);
    this.store(message);
    return message;
  }

  private attach(
    message: DiscordMessage,
    body: Record<string, unknown>,
    files: FilePart[],
  ): DiscordAttachment[] {
    const described = (Array.isArray(body.attachments) ? body.attachments : []) as {
      id: string | number;
      filename?: string;
      description?: string;
    }[];
    const kept = message.attachments.filter((a) => described.some((d) => String(d.id) === a.id));
    const added = files.map((file, index) => {
      // discord.js names parts files[N] and describes them in payload_json.attachments by id N.
      const n = /^files\[(\d+)\]$/.exec(file.field)?.[1] ?? String(index);
      const meta = described.find((d) => String(d.id) === n);
      const id = this.snowflake();
      const filename = meta?.filename ?? file.filename;
      const path = `/attachments/${message.channel_id}/${id}/${encodeURIComponent(filename)}`;
      this.files.set(path, file.data);
      this.uploads.push({
        channel_id: message.channel_id,
        message_id: message.id,
        filename,
        contentType: file.contentType,
        ...(meta?.description ? { description: meta.description } : {}),
        data: file.data,
      });
      const attachment: DiscordAttachment = {
        id,
        filename,
        size: file.data.length,
        url: `${this.baseUrl}${path}`,
        proxy_url: `${this.baseUrl}${path}`,
        content_type: file.contentType,
        ...(meta?.description ? { description: meta.description } : {}),
      };
      return attachment;
    });
    return [...kept, ...added];
  }

  private edit(
    id: string,
    body: Record<string, unknown>,
    files: FilePart[],
    via: DiscordUpdate['via'] | undefined,
  ): DiscordMessage {
    const message = this.messages.get(id) ?? this.ephemeralMessages.get(id);
    if (!message) throw new DiscordApiError(404, 'Unknown Message', 10008);
    checkMessageBody(body);
    if (typeof body.content === 'string' || body.content === null) message.content = body.content ?? '';
    if (Array.isArray(body.embeds)) message.embeds = body.embeds;
    if (Array.isArray(body.components)) message.components = body.components;
    if (body.flags !== undefined) message.flags = Number(body.flags);
    if (Array.isArray(body.attachments) || files.length > 0) {
      message.attachments = this.attach(
        message,
        { attachments: body.attachments ?? message.attachments },
        files,
      );
    }
    message.edited_timestamp = new Date().toISOString();
    if (via) {
      this.updates.push({
        channel_id: message.channel_id,
        id,
        content: message.content,
        components: message.components,
        embeds: message.embeds,
        via,
        message: structuredClone(message),
      });
      if (this.echo && this.session && (Number(message.flags) & EPHEMERAL) === 0)
        this.dispatch('MESSAGE_UPDATE', message);
    }
    return message;
  }

  private announce(message: DiscordMessage, via: DiscordPost['via'] | 'ephemeral'): void {
    if (via === 'ephemeral') {
      this.ephemerals.push({ ...structuredClone(message), via: 'interaction' });
      return;
    }
    this.posts.push({ ...structuredClone(message), via });
    if (this.echo && this.session) this.dispatch('MESSAGE_CREATE', message);
  }

  private createThread(parent: DiscordChannel, id: string, body: Record<string, unknown>): DiscordChannel {
    const name = String(body.name ?? '');
    if (!name) throw new DiscordApiError(400, 'Invalid Form Body: name is required', 50035);
    const thread: DiscordChannel = {
      id,
      type: Number(body.type ?? 11),
      guild_id: this.guildId,
      parent_id: parent.id,
      owner_id: this.botUserId,
      name,
      last_message_id: null,
      rate_limit_per_user: Number(body.rate_limit_per_user ?? 0),
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      flags: 0,
      thread_metadata: {
        archived: false,
        auto_archive_duration: Number(body.auto_archive_duration ?? 1440),
        archive_timestamp: new Date().toISOString(),
        locked: false,
        create_timestamp: new Date().toISOString(),
      },
    };
    this.channels.set(id, thread);
    if (this.session) this.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
    return thread;
  }

  private store(message: DiscordMessage): void {
    if ((Number(message.flags) & EPHEMERAL) !== 0) {
      // Kept apart: not in the channel's history, but its buttons can be pressed by its one reader.
      this.ephemeralMessages.set(message.id, message);
      return;
    }
    this.messages.set(message.id, message);
    const channel = this.channels.get(message.channel_id);
    if (channel) {
      channel.last_message_id = message.id;
      if (typeof channel.message_count === 'number') channel.message_count += 1;
    }
  }

  private memberOf(user: DiscordUser, withPermissions: boolean): Record<string, unknown> {
    return {
      user: { discriminator: '0', avatar: null, global_name: null, ...user },
      roles: [],
      nick: null,
      joined_at: new Date(0).toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      ...(withPermissions ? { permissions: ALL_PERMISSIONS } : {}),
    };
  }

  private requireUser(id: string): DiscordUser {
    const user = this.users.get(id);
    if (!user) throw new Error(`Discord emulator: unknown user ${id} (add it with addUser)`);
    return user;
  }

  private requireChannel(id: string): DiscordChannel {
    const channel = this.channels.get(id);
    if (!channel) throw new Error(`Discord emulator: unknown channel ${id} (add it with addChannel)`);
    return channel;
  }

  /** Snowflakes must be real ones: discord.js reads the timestamp out of every id. */
  private snowflake(): string {
    let next = ((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (1n << 17n);
    if (next <= this.lastSnowflake) next = this.lastSnowflake + 1n;
    this.lastSnowflake = next;
    return next.toString();
  }
}

function optionType(value: string | number | boolean): number {
  if (typeof value === 'boolean') return 5;
  if (typeof value === 'number') return Number.isInteger(value) ? 4 : 10;
  return 3;
}
