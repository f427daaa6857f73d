import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import {
  SquallError,
  type ApiRouter,
  type ButtonHandler,
  type CardReaction,
  type ChatAdapter,
  type ChatCard,
  type ChatCapabilities,
  type ChatUser,
  type MessageHandler,
  type MessageUpdate,
  type OutgoingMessage,
  type PostedMessage,
  type Question,
  type TextUpload,
} from '../../src/chatops/index.js';

/** What a terminal sees: the bot's posts, edits, files and questions in its channel. */
export type ShellEvent =
  | {
      type: 'message';
      id: string;
      channel: string;
      thread?: string;
      text: string;
      from: string;
      whisperTo?: string;
      /** An execution's live card (edited in place by later `update` events). */
      card?: ChatCard;
    }
  | { type: 'update'; id: string; channel: string; text: string; card?: ChatCard }
  | { type: 'reaction'; id: string; channel: string; emoji: string; removed?: string }
  | {
      type: 'upload';
      id: string;
      channel: string;
      thread?: string;
      filename: string;
      title?: string;
      content: string;
    }
  | {
      type: 'ask';
      id: string;
      channel: string;
      thread?: string;
      question: string;
      choices: Array<{ label: string; value: string; style?: string; url?: string; disabled?: boolean }>;
      payload: string;
      /** Only this user's terminal shows the question (as a whisper). */
      whisperTo?: string;
    };

interface Session {
  id: string;
  user: ChatUser;
  /** The Squall user who opened it (null when the API runs without auth): only they may use it. */
  owner: string | null;
  channel: string;
  listeners: Set<(event: ShellEvent) => void>;
  backlog: ShellEvent[];
}

export interface ShellAdapterOptions {
  /** Longest post before the pipeline uploads the text as a file (default 2,000). */
  maxMessageLength?: number;
  /** The bot's display name in transcripts. */
  botName?: string;
}

const BACKLOG = 200;

/**
 * The terminal chat adapter. Sessions (one per `squall chat`) live in the server process; a
 * terminal posts lines over HTTP and reads the bot's posts from an SSE stream
 * (`/api/v1/chatops/shell/sessions/*`). Everything posted to a channel reaches every session in it,
 * so two terminals in "ops" see each other's notifications. Tests drive it in-process with
 * `say()` / `press()` and read `transcript()`.
 */
export class ShellAdapter implements ChatAdapter {
  readonly name = 'shell';
  readonly capabilities: ChatCapabilities;
  private readonly sessions = new Map<string, Session>();
  private readonly history: ShellEvent[] = [];
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly buttonHandlers: ButtonHandler[] = [];
  private readonly watchers = new Set<(event: ShellEvent) => void>();
  private readonly knownUsers = new Map<string, ChatUser>();
  private readonly questions = new Map<string, Extract<ShellEvent, { type: 'ask' }>>();
  private connected = false;
  private readonly botName: string;

  constructor(options: ShellAdapterOptions = {}) {
    this.capabilities = {
      threads: true,
      updates: true,
      uploads: true,
      buttons: true,
      maxMessageLength: options.maxMessageLength ?? 2000,
    };
    this.botName = options.botName ?? 'squall';
  }

  async connect(): Promise<void> {
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    for (const s of this.sessions.values()) s.listeners.clear();
    this.sessions.clear();
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandlers.push(handler);
  }

  onButton(handler: ButtonHandler): void {
    this.buttonHandlers.push(handler);
  }

  private emit(event: ShellEvent): void {
    this.history.push(event);
    if (this.history.length > 5 * BACKLOG) this.history.splice(0, this.history.length - 5 * BACKLOG);
    for (const w of this.watchers) w(event);
    for (const s of this.sessions.values()) {
      if (s.channel !== event.channel) continue;
      if (
        (event.type === 'message' || event.type === 'ask') &&
        event.whisperTo &&
        event.whisperTo !== s.user.id
      )
        continue;
      if (s.listeners.size === 0) {
        s.backlog.push(event);
        if (s.backlog.length > BACKLOG) s.backlog.shift();
      }
      for (const l of s.listeners) l(event);
    }
  }

  private ensureConnected(what: string): void {
    if (!this.connected)
      throw new SquallError('CHAT_NOT_CONNECTED', `the shell chat adapter is not connected (${what})`, {
        adapter: this.name,
      });
  }

  async post(message: OutgoingMessage): Promise<PostedMessage> {
    this.ensureConnected('post');
    const id = randomUUID();
    this.emit({
      type: 'message',
      id,
      channel: message.channel,
      ...(message.thread ? { thread: message.thread } : {}),
      text: message.text,
      from: this.botName,
      ...(message.whisperTo ? { whisperTo: message.whisperTo } : {}),
      ...(message.card ? { card: message.card } : {}),
    });
    this.cardButtons(id, message.channel, message.thread, message.card);
    return { messageId: id, thread: message.thread ?? id };
  }

  async update(update: MessageUpdate): Promise<void> {
    this.ensureConnected('update');
    this.emit({
      type: 'update',
      id: update.messageId,
      channel: update.channel,
      text: update.text,
      ...(update.card ? { card: update.card } : {}),
    });
    const before = this.questions.get(update.messageId);
    if (update.card) this.cardButtons(update.messageId, update.channel, before?.thread, update.card);
    else this.questions.delete(update.messageId);
  }

  /** A card's buttons can be pressed like a question's. */
  private cardButtons(id: string, channel: string, thread: string | undefined, card?: ChatCard): void {
    if (!card?.buttons) {
      this.questions.delete(id);
      return;
    }
    this.questions.set(id, {
      type: 'ask',
      id,
      channel,
      ...(thread ? { thread } : {}),
      question: card.action,
      choices: card.buttons.choices,
      payload: card.buttons.payload,
    });
  }

  async react(
    target: { channel: string; messageId: string },
    add: CardReaction,
    remove?: CardReaction,
  ): Promise<void> {
    this.ensureConnected('react');
    const emoji = { working: '⏳', succeeded: '✅', failed: '❌' };
    this.emit({
      type: 'reaction',
      id: target.messageId,
      channel: target.channel,
      emoji: emoji[add],
      ...(remove && remove !== add ? { removed: emoji[remove] } : {}),
    });
  }

  async uploadText(upload: TextUpload): Promise<PostedMessage> {
    this.ensureConnected('upload');
    const id = randomUUID();
    this.emit({
      type: 'upload',
      id,
      channel: upload.channel,
      ...(upload.thread ? { thread: upload.thread } : {}),
      filename: upload.filename,
      ...(upload.title ? { title: upload.title } : {}),
      content: upload.content,
    });
    return { messageId: id, thread: upload.thread ?? id };
  }

  async ask(question: Question): Promise<PostedMessage> {
    this.ensureConnected('ask');
    const id = randomUUID();
    const event: Extract<ShellEvent, { type: 'ask' }> = {
      type: 'ask',
      id,
      channel: question.channel,
      ...(question.thread ? { thread: question.thread } : {}),
      question: question.question,
      choices: question.choices,
      payload: question.payload,
      ...(question.whisperTo ? { whisperTo: question.whisperTo } : {}),
    };
    this.questions.set(id, event);
    this.emit(event);
    return { messageId: id, thread: question.thread ?? id };
  }

  async lookupUser(id: string): Promise<ChatUser | null> {
    return this.knownUsers.get(id) ?? null;
  }

  /** A person types `text` in `channel` (optionally in a thread); resolves once the bot has handled it. */
  async say(
    user: ChatUser,
    text: string,
    where: { channel?: string; thread?: string; isDirect?: boolean } = {},
  ): Promise<string> {
    this.ensureConnected('say');
    this.knownUsers.set(user.id, user);
    const messageId = randomUUID();
    const channel = where.channel ?? 'general';
    this.history.push({
      type: 'message',
      id: messageId,
      channel,
      ...(where.thread ? { thread: where.thread } : {}),
      text,
      from: user.name,
    });
    const mention = new RegExp(`^@${this.botName}\\b[:,]?\\s*`, 'i');
    const mentionsBot = mention.test(text);
    for (const handler of this.messageHandlers) {
      await handler({
        text: mentionsBot ? text.replace(mention, '') : text,
        user,
        channel,
        ...(where.thread ? { thread: where.thread } : {}),
        messageId,
        isDirect: where.isDirect ?? false,
        mentionsBot,
      });
    }
    return messageId;
  }

  /** A person presses button `value` (or the n-th, 1-based) under question message `messageId`. */
  async press(user: ChatUser, messageId: string, choice: string | number): Promise<void> {
    const q = this.questions.get(messageId);
    if (!q) throw new SquallError('CHAT_NO_QUESTION', `message ${messageId} has no buttons`, { messageId });
    const picked =
      typeof choice === 'number'
        ? q.choices[choice - 1]
        : q.choices.find((c) => c.value === choice || c.label === choice);
    if (!picked)
      throw new SquallError(
        'CHAT_NO_CHOICE',
        `question ${messageId} has no choice ${String(choice)} (choices: ${q.choices.map((c) => c.label).join(', ')})`,
        {
          messageId,
        },
      );
    if (picked.url)
      throw new SquallError('CHAT_LINK_BUTTON', `"${picked.label}" is a link: ${picked.url}`, { messageId });
    if (picked.disabled)
      throw new SquallError('CHAT_BUTTON_DISABLED', `"${picked.label}" can no longer be pressed`, {
        messageId,
      });
    this.knownUsers.set(user.id, user);
    for (const handler of this.buttonHandlers)
      await handler({
        user,
        payload: q.payload,
        value: picked.value,
        messageId,
        channel: q.channel,
        ...(q.thread ? { thread: q.thread } : {}),
      });
  }

  /** Everything said in a channel (people and bot), oldest first. */
  transcript(channel?: string): ShellEvent[] {
    return this.history.filter((e) => channel === undefined || e.channel === channel);
  }

  /** Calls `fn` for every bot event from now on; returns an unsubscribe. */
  watch(fn: (event: ShellEvent) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  openSession(user: ChatUser, channel = 'general', owner: string | null = null): Session {
    const session: Session = { id: randomUUID(), user, channel, owner, listeners: new Set(), backlog: [] };
    this.sessions.set(session.id, session);
    this.knownUsers.set(user.id, user);
    return session;
  }

  /** The session `id`, when the caller of `req` opened it (someone else's session is as good as unknown). */
  private session(id: string, req: Request): Session {
    const s = this.sessions.get(id);
    if (!s || s.owner !== callerOf(req))
      throw new SquallError(
        'CHAT_SESSION_UNKNOWN',
        `shell chat session "${id}" does not exist (the server may have restarted)`,
        { session: id },
        404,
      );
    return s;
  }

  /** The terminal's HTTP API: open a session, post lines, press buttons, stream the bot's posts. */
  routes = (router: ApiRouter): void => {
    const base = '/api/v1/chatops/shell/sessions';
    router.add({
      method: 'post',
      path: base,
      summary: 'Open a terminal chat session (squall chat)',
      tag: 'chatops',
      status: 201,
      body: {
        type: 'object',
        properties: {
          user: { type: 'string', pattern: '^[\\w.@-]{1,64}$' },
          channel: { type: 'string', pattern: '^[\\w.#-]{1,64}$' },
        },
      },
      handler: ({ req, body }) => {
        this.ensureConnected('open session');
        const b = (body ?? {}) as { user?: string; channel?: string };
        const name = sessionUser(req, b.user);
        const owner = callerOf(req);
        // The session acts as whoever opened it: --user changes the name shown in chat, not the Squall user.
        const user: ChatUser = { id: name, name, ...(owner ? { squallUser: owner } : {}) };
        const s = this.openSession(user, b.channel ?? 'general', owner);
        return { session: s.id, user: s.user, channel: s.channel };
      },
    });
    router.add({
      method: 'post',
      path: `${base}/:id/messages`,
      summary: 'Say something in the session',
      tag: 'chatops',
      status: 202,
      body: {
        type: 'object',
        properties: {
          text: { type: 'string', maxLength: 100000 },
          thread: { type: 'string' },
          direct: { type: 'boolean' },
        },
        required: ['text'],
      },
      handler: async ({ req, params, body }) => {
        const s = this.session(params.id, req);
        const b = body as { text: string; thread?: string; direct?: boolean };
        const messageId = await this.say(s.user, b.text, {
          channel: s.channel,
          thread: b.thread,
          isDirect: b.direct,
        });
        return { messageId };
      },
    });
    router.add({
      method: 'post',
      path: `${base}/:id/buttons`,
      summary: 'Press a button of a question',
      tag: 'chatops',
      status: 202,
      body: {
        type: 'object',
        properties: { messageId: { type: 'string' }, choice: { type: ['string', 'integer'] } },
        required: ['messageId', 'choice'],
      },
      handler: async ({ req, params, body }) => {
        const s = this.session(params.id, req);
        const b = body as { messageId: string; choice: string | number };
        await this.press(s.user, b.messageId, b.choice);
        return { pressed: true };
      },
    });
    router.add({
      method: 'delete',
      path: `${base}/:id`,
      summary: 'Close a terminal chat session',
      tag: 'chatops',
      status: 204,
      handler: ({ req, params }) => {
        const s = this.session(params.id, req);
        s.listeners.clear();
        this.sessions.delete(s.id);
        return undefined;
      },
    });
    router.add({
      method: 'get',
      path: `${base}/:id/events`,
      summary: "Server-sent events: the bot's posts, edits, files and questions in the session's channel",
      tag: 'chatops',
      handler: ({ params, req, res }) => {
        const s = this.session(params.id, req);
        streamEvents(s, req, res);
        return undefined;
      },
    });
  };
}

type AuthedRequest = Request & { auth?: { user: string; roles?: string[]; method?: string } };

/** The authenticated Squall user of a request; null when the API runs without auth. */
function callerOf(req: Request): string | null {
  const auth = (req as AuthedRequest).auth;
  return !auth || auth.method === 'anonymous' ? null : auth.user;
}

/** The chat name of a session: admins may pick any; everyone else is named as themselves. */
function sessionUser(req: Request, asked: string | undefined): string {
  const auth = (req as AuthedRequest).auth;
  if (!auth || auth.method === 'anonymous') return asked ?? 'shell-user';
  const admin = (auth.roles ?? []).some((r) => r === 'admin' || r === 'system_admin');
  if (asked && asked !== auth.user && !admin)
    throw new SquallError(
      'FORBIDDEN',
      `only admins may chat as another user (you are "${auth.user}", asked for "${asked}")`,
      { user: asked },
      403,
    );
  return asked ?? auth.user;
}

function streamEvents(s: Session, req: Request, res: Response): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.write(`event: hello\ndata: ${JSON.stringify({ session: s.id, user: s.user, channel: s.channel })}\n\n`);
  const send = (event: ShellEvent) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  for (const e of s.backlog.splice(0)) send(e);
  s.listeners.add(send);
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  ping.unref();
  req.on('close', () => {
    clearInterval(ping);
    s.listeners.delete(send);
  });
}
