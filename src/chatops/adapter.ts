import type { RouteModule } from '../api/index.js';
import type { FormHandlers } from './forms.js';

/**
 * The one contract every chat transport implements (Slack, Discord, the terminal). An adapter
 * turns its provider's events into IncomingMessage / ButtonPress and carries posts back; it knows
 * nothing of aliases, executions or RBAC. See README.md in this folder.
 */

/** A person (or bot) on the chat provider. `id` is the provider's stable id. */
export interface ChatUser {
  id: string;
  name: string;
  email?: string;
  /**
   * The Squall user this person has already proven to be (the terminal's session, opened with
   * their token). Set only by an adapter that authenticated them; the pipeline then acts as this
   * user and nobody else, ignoring `chatops.users` and the default user.
   */
  squallUser?: string;
}

/** A message seen by the adapter, normalised. */
export interface IncomingMessage {
  /** The text as typed (the adapter strips its provider's mention markup of the bot, if any). */
  text: string;
  user: ChatUser;
  channel: string;
  /** The thread the message was posted in (absent for a top-level message). */
  thread?: string;
  messageId: string;
  /** A direct (one-to-one) conversation with the bot. */
  isDirect: boolean;
  /** The bot was mentioned (@squall). */
  mentionsBot: boolean;
  /** Posted by a bot (including this one): never answered. */
  fromBot?: boolean;
  /**
   * The provider's workspace the message came from (Slack team id, Discord guild id): with the
   * adapter and the user id it names the chat identity a `!link` binds. Absent: none ('').
   */
  workspace?: string;
}

export interface OutgoingMessage {
  channel: string;
  /** Reply in this thread (a message id or a thread id, as the provider defines it). */
  thread?: string;
  text: string;
  /** Provider-specific rich content (Slack blocks, Discord embeds); adapters ignore what they do not know. */
  rich?: Record<string, unknown>;
  /** Address only this chat user (st2's whisper); adapters without ephemeral messages DM them. */
  whisperTo?: string;
  /** An execution's live card: adapters that know cards render it natively, others post `text`. */
  card?: ChatCard;
  /**
   * Posts with the same key are one post: work done once per claim (a notification) posts with a
   * key derived from the claim, so that a process taking it over from one killed after posting
   * does not post again. Discord dedups by `nonce`; Slack has no such key, so the post carries the
   * key in its metadata and, when `mayRepeat`, the adapter first looks for an earlier post with it.
   */
  idempotencyKey?: string;
  /** An earlier attempt with this `idempotencyKey` may have posted (a taken-over claim, a retry). */
  mayRepeat?: boolean;
}

/** Where a post landed: reply in `thread` to continue the conversation, edit `messageId`. */
export interface PostedMessage {
  messageId: string;
  thread: string;
}

export interface MessageUpdate {
  channel: string;
  messageId: string;
  text: string;
  rich?: Record<string, unknown>;
  card?: ChatCard;
}

/**
 * One execution's card (live.ts): a header (status emoji, action, requester), a context line
 * (execution id linked to the web UI, status, elapsed time), the tail of the output as a code
 * block, a note, and one row of buttons. `text` of the post carrying it is the same as plain text.
 */
export interface ChatCard {
  status: string;
  emoji: string;
  action: string;
  requester: { id: string; name: string };
  executionId: string;
  /** The execution in the web UI. */
  url: string;
  /** "0.4 s", "2 min 5 s". */
  elapsed: string;
  /** Shown as a fenced code block (the last lines of the output). */
  code?: string;
  /** Shown as text under the code (the alias's result.format, a failure's reason, who canceled). */
  note?: string;
  buttons?: { payload: string; choices: ButtonChoice[] };
}

/** What the reaction on the person's command says. */
export type CardReaction = 'working' | 'succeeded' | 'failed';

export interface TextUpload {
  channel: string;
  thread?: string;
  filename: string;
  content: string;
  title?: string;
}

export interface ButtonChoice {
  label: string;
  value: string;
  style?: 'primary' | 'danger' | 'default';
  /** A link button: opens the URL, never comes back as a press. */
  url?: string;
  /** Shown but not clickable (a press of it is ignored where the provider cannot grey it out). */
  disabled?: boolean;
  /**
   * Ask "are you sure?" before the press counts: Slack shows its confirm dialog, Discord (which has
   * none) an ephemeral follow-up with `confirm` and `deny` buttons, the terminal a private question
   * with both; the press arrives once confirmed.
   */
  confirm?: ButtonConfirm;
}

export interface ButtonConfirm {
  title: string;
  text: string;
  /** The label that goes ahead ("Cancel run") and the one that backs out ("Keep running"). */
  confirm: string;
  deny: string;
}

export interface Question {
  channel: string;
  thread?: string;
  question: string;
  choices: ButtonChoice[];
  /** Opaque to the adapter; comes back with the press (e.g. the inquiry id). */
  payload: string;
  /** As on OutgoingMessage: questions with the same key are one post. */
  idempotencyKey?: string;
  mayRepeat?: boolean;
  /** Provider user ids to notify (an approval's approvers); adapters that cannot mention ignore them. */
  mentions?: string[];
  /** Only this chat user sees the question (a private reply with buttons). */
  whisperTo?: string;
}

export interface ButtonPress {
  user: ChatUser;
  payload: string;
  value: string;
  /** The message carrying the buttons. */
  messageId: string;
  channel: string;
  thread?: string;
}

export interface ChatCapabilities {
  /** Replies can go into a thread under a message. */
  threads: boolean;
  /** Posted messages can be edited (update()). */
  updates: boolean;
  /** Files can be attached (uploadText()); without it long text is split into posts. */
  uploads: boolean;
  /** Buttons (ask()); without it the question lists numbered answers to type. */
  buttons: boolean;
  /** Longest text of one post; longer results are uploaded (or cut). */
  maxMessageLength: number;
}

export type MessageHandler = (message: IncomingMessage) => Promise<void> | void;
export type ButtonHandler = (press: ButtonPress) => Promise<void> | void;

export interface ChatAdapter {
  /** Short, unique, lower-case: "slack", "discord", "shell". Prefix of chat identities ("slack:U123"). */
  readonly name: string;
  readonly capabilities: ChatCapabilities;
  /**
   * The bot account it connects as, the same in every process that shares it. Optional: by
   * default it is the adapter name and a hash of the token in its config section; adapters
   * without a token (the terminal) are process-local. One process at a time connects a shared
   * identity (connections.ts).
   */
  readonly identity?: string;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Registers the handler of incoming messages (the pipeline calls this once, before connect()). */
  onMessage(handler: MessageHandler): void;
  onButton(handler: ButtonHandler): void;
  post(message: OutgoingMessage): Promise<PostedMessage>;
  update(update: MessageUpdate): Promise<void>;
  uploadText(upload: TextUpload): Promise<PostedMessage>;
  /** Posts a question with buttons (or numbered choices); returns the message. */
  ask(question: Question): Promise<PostedMessage>;
  /** The provider's user, or null when unknown. */
  lookupUser(id: string): Promise<ChatUser | null>;
  /**
   * Shows `add` as the bot's reaction on a person's message, taking `remove` away (optional; the
   * card's status as seen from the channel). Reacting twice or removing a missing one is not an error.
   */
  react?(
    target: { channel: string; messageId: string },
    add: CardReaction,
    remove?: CardReaction,
  ): Promise<void>;
  /** HTTP endpoints the transport needs (Slack's HTTP mode, the terminal's session API). */
  routes?: RouteModule;
  /**
   * Forms (modals) built from an action's parameters (forms.ts), for adapters that draw them:
   * `maxFields` is the most inputs one form holds. The pipeline registers its handlers once,
   * before connect(); a press of a button whose payload starts with FORM_PAYLOAD_PREFIX opens one.
   */
  readonly forms?: { maxFields: number };
  onForm?(handlers: FormHandlers): void;
  /**
   * Where the adapter keeps what its buttons and forms need beyond what the provider carries back
   * (Discord: values longer than a custom_id, confirmation texts, open modals' contexts), so a
   * restart or another process still has it (state.ts; the pipeline hands it over at attach).
   */
  useState?(state: ChatStateStore): void;
  /**
   * What a person setting the bot up should know while it is connected, e.g. that it cannot read
   * the text of messages (shown by GET /api/v1/chatops/adapters, with the fix).
   */
  notes?(): string[];
}

/** Small JSON values by key, with an expiry, kept in the store (see ChatAdapter.useState). */
export interface ChatStateStore {
  /** Keeps `value` (JSON) under `key` for `ttlMs`, replacing what was there. */
  put(key: string, value: unknown, ttlMs: number): Promise<void>;
  /** The value, or null when missing or expired. */
  get(key: string): Promise<unknown>;
  /** The value, removed so that only one caller gets it; null when missing, expired or taken. */
  take(key: string): Promise<unknown>;
}

/** A reply in the thread of `message` (the message itself starts the thread when it has none). */
export function replyTarget(message: Pick<IncomingMessage, 'channel' | 'thread' | 'messageId'>): {
  channel: string;
  thread: string;
} {
  return { channel: message.channel, thread: message.thread ?? message.messageId };
}

/** Chat identity key used in `chatops.users`: "<adapter>:<user id>". */
export function chatIdentity(adapter: string, userId: string): string {
  return `${adapter}:${userId}`;
}
