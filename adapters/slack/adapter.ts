import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import {
  FORM_PAYLOAD_PREFIX,
  SquallError,
  type FormHandlers,
  type FormReply,
  type FormOutcome,
  type ButtonChoice,
  type ButtonHandler,
  type CardReaction,
  type ChatAdapter,
  type ChatCard,
  type ChatCapabilities,
  type ChatUser,
  type IncomingMessage,
  type MessageHandler,
  type MessageUpdate,
  type OutgoingMessage,
  type PostedMessage,
  type Question,
  type TextUpload,
} from '../../src/chatops/index.js';
import { SeenSet, type AdapterLogger, consoleLogger, inTime } from '../util.js';
import { FORM_CALLBACK, FORM_SHORTCUT, checkingView, doneView, formView, submittedValues } from './forms.js';

export interface SlackAdapterOptions {
  /** Socket Mode (an outbound WebSocket, needs `appToken`) or HTTP (Events API; needs `signingSecret`). */
  mode: 'socket' | 'http';
  botToken: string;
  appToken?: string;
  signingSecret?: string;
  /** The slash command answered as a chat command ("/squall"). */
  slashCommand?: string;
  /** Web API base (the emulator's in tests); Slack's own by default. */
  apiUrl?: string;
  /** HTTP mode: path of the Events API / interactivity / commands endpoint. */
  eventsPath?: string;
  /** HTTP mode: port of Bolt's receiver (0 = any free port). */
  port?: number;
  /** Web API retries (the SDK's own backoff, 429s included); the SDK default when absent. */
  retries?: number;
  logger?: AdapterLogger;
}

/** Slack takes an interaction's ack within 3 s; a view submission still being checked then is answered first. */
const ACK_WITHIN_MS = 2_000;

/** Slack's limit for one section block's text; longer text is split over several sections. */
const SECTION_LIMIT = 3000;
const BUTTON_BLOCK = 'squall-ask';
/** The metadata event_type of a post carrying an idempotency key (OutgoingMessage.idempotencyKey). */
const KEYED_POST_EVENT = 'squall_post';

function sections(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < text.length && out.length < 45; i += SECTION_LIMIT)
    out.push({ type: 'section', text: { type: 'mrkdwn', text: text.slice(i, i + SECTION_LIMIT) } });
  return out;
}

/** Slack's mrkdwn needs &, < and > escaped; the pipeline's text is plain. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack's names of the card's reactions. */
const REACTIONS: Record<CardReaction, string> = {
  working: 'hourglass_flowing_sand',
  succeeded: 'white_check_mark',
  failed: 'x',
};

/** Block Kit's limits: a block_id 255 characters, a button's value 2,000. */
const BLOCK_ID_MAX = 255;
const BUTTON_VALUE_MAX = 2000;
/** The block_id of a row whose payload was too long for it: each button's value carries both. */
const PAYLOAD_IN_VALUE = `${BUTTON_BLOCK}:~`;

/**
 * Where a row's payload rides: in its block_id when it fits, so a press needs no state on our
 * side; else (a "Fill in…" for a long action ref and alias) in every button's value beside the
 * choice's own value, as JSON. Cutting it instead would open the wrong form or none.
 */
function buttonValues(payload: string, choices: ButtonChoice[]): { blockId: string; values: string[] } {
  const inBlock = `${BUTTON_BLOCK}:${payload}`;
  if (inBlock.length <= BLOCK_ID_MAX)
    return { blockId: inBlock, values: choices.map((c) => c.value.slice(0, BUTTON_VALUE_MAX)) };
  const values = choices.map((c) => JSON.stringify({ p: payload, v: c.value }));
  const longest = Math.max(...values.map((v) => v.length));
  if (longest > BUTTON_VALUE_MAX)
    throw Object.assign(
      new Error(
        `a button row's payload and value take ${longest} characters; Slack takes ${BUTTON_VALUE_MAX} in a button's value`,
      ),
      { code: 'CHAT_BUTTON_PAYLOAD_TOO_LONG', context: { payload_chars: payload.length } },
    );
  return { blockId: PAYLOAD_IN_VALUE, values };
}

/** The payload and value a press of a button from buttonBlocks carries. */
function pressedPayload(blockId: string, value: string): { payload: string; value: string } {
  if (blockId !== PAYLOAD_IN_VALUE) return { payload: blockId.replace(/^squall-ask:/, ''), value };
  try {
    const both = JSON.parse(value) as { p?: unknown; v?: unknown };
    if (typeof both.p === 'string' && typeof both.v === 'string') return { payload: both.p, value: both.v };
  } catch {
    // Not ours (a message posted by another version): reported below as an empty payload.
  }
  return { payload: '', value };
}

/** A row of buttons; Slack buttons cannot be greyed out, so a disabled one is shown as text. */
function buttonBlocks(payload: string, choices: ButtonChoice[]): Array<Record<string, unknown>> {
  const live = choices.filter((c) => !c.disabled);
  const off = choices.filter((c) => c.disabled);
  const blocks: Array<Record<string, unknown>> = [];
  if (off.length)
    blocks.push({
      type: 'context',
      elements: off.map((c) => ({ type: 'mrkdwn', text: escapeMrkdwn(c.label) })),
    });
  if (live.length) {
    const where = buttonValues(payload, live);
    blocks.push({
      type: 'actions',
      block_id: where.blockId,
      elements: live.map((c, i) => ({
        type: 'button',
        action_id: c.url ? `squall-open:${choices.indexOf(c)}` : `squall:${choices.indexOf(c)}`,
        text: { type: 'plain_text', text: c.label.slice(0, 75) },
        ...(c.url ? { url: c.url } : { value: where.values[i]! }),
        ...(c.style === 'primary' || c.style === 'danger' ? { style: c.style } : {}),
        ...(c.confirm && !c.url ? { confirm: confirmDialog(c) } : {}),
      })),
    });
  }
  return blocks;
}

/** Block Kit's confirmation dialog object (its length limits: 100, 300, 30 and 30 characters). */
function confirmDialog(c: ButtonChoice): Record<string, unknown> {
  const plain = (text: string, max: number) => ({ type: 'plain_text', text: text.slice(0, max) });
  const confirm = c.confirm!;
  return {
    title: plain(confirm.title, 100),
    text: plain(confirm.text, 300),
    confirm: plain(confirm.confirm, 30),
    deny: plain(confirm.deny, 30),
    ...(c.style === 'danger' ? { style: 'danger' } : {}),
  };
}

/** An execution's card in Block Kit: header, context line, output, note, buttons. */
function cardBlocks(card: ChatCard): Array<Record<string, unknown>> {
  const who = /^[UW][A-Z0-9]+$/.test(card.requester.id)
    ? `<@${card.requester.id}>`
    : escapeMrkdwn(card.requester.name);
  const blocks: Array<Record<string, unknown>> = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `${card.emoji} *${escapeMrkdwn(card.action)}* · ${who}` },
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `<${card.url}|Execution ${card.executionId}> · ${escapeMrkdwn(card.status)} · ${card.elapsed}`,
        },
      ],
    },
  ];
  if (card.code) blocks.push(...sections('```\n' + escapeMrkdwn(card.code) + '\n```'));
  if (card.note) blocks.push(...sections(escapeMrkdwn(card.note)));
  if (card.buttons) blocks.push(...buttonBlocks(card.buttons.payload, card.buttons.choices));
  return blocks;
}

type SlackMessageEvent = {
  type: string;
  subtype?: string;
  channel: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  team?: string;
};

/**
 * The Slack transport on @slack/bolt (Socket Mode or the Events API over HTTP). Commands come from
 * channel messages, mentions, DMs and the slash command; everything the bot says goes out as Block
 * Kit sections with the plain text as the notification fallback. Slack ids pass through untouched
 * so the pipeline maps `slack:<U…>` to a Squall user.
 */
export class SlackAdapter implements ChatAdapter {
  readonly name = 'slack';
  readonly capabilities: ChatCapabilities = {
    threads: true,
    updates: true,
    uploads: true,
    buttons: true,
    maxMessageLength: 4000,
  };
  private app: App | undefined;
  private server: Server | undefined;
  private botUserId = '';
  /** The workspace (team) the bot is installed in, for messages whose event names none. */
  private teamId = '';
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly buttonHandlers: ButtonHandler[] = [];
  private formHandlers: FormHandlers | undefined;
  /** A modal holds at most 100 blocks. */
  readonly forms = { maxFields: 100 };
  private readonly users = new Map<string, ChatUser>();
  /** Messages already handed to the pipeline: a Socket Mode redelivery or app_mention + message twin is dropped. */
  private readonly seen = new SeenSet(2000);
  private readonly log: AdapterLogger;

  constructor(private readonly options: SlackAdapterOptions) {
    this.log = options.logger ?? consoleLogger('slack');
    if (options.mode === 'socket' && !options.appToken)
      throw new SquallError(
        'CHAT_CONFIG_INVALID',
        'chatops.slack.app_token is required in Socket Mode (an xapp- token with connections:write)',
        { adapter: 'slack' },
      );
    if (options.mode === 'http' && !options.signingSecret)
      throw new SquallError(
        'CHAT_CONFIG_INVALID',
        'chatops.slack.signing_secret is required in HTTP mode (requests are verified with it)',
        { adapter: 'slack' },
      );
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandlers.push(handler);
  }

  onButton(handler: ButtonHandler): void {
    this.buttonHandlers.push(handler);
  }

  onForm(handlers: FormHandlers): void {
    this.formHandlers = handlers;
  }

  /**
   * Opens the form someone asked for with `trigger_id` (valid for 3 s, once), or whispers why
   * not (no such action, not permitted).
   */
  private async openForm(
    triggerId: string,
    request: {
      workspace?: string;
      userId: string;
      userName?: string;
      channel: string;
      thread?: string;
      payload?: string;
      command?: string;
    },
  ): Promise<void> {
    if (!this.formHandlers) return;
    const user = await this.userOf(request.userId, request.userName);
    const reply: FormReply = await this.formHandlers.open({
      user,
      channel: request.channel,
      ...(request.thread ? { thread: request.thread } : {}),
      ...(request.payload !== undefined ? { payload: request.payload } : {}),
      ...(request.command !== undefined ? { command: request.command } : {}),
      maxFields: this.forms.maxFields,
      workspace: request.workspace || this.teamId,
    });
    if ('form' in reply) {
      await this.client().views.open({ trigger_id: triggerId, view: formView(reply.form) as never });
      return;
    }
    await this.post({
      channel: request.channel,
      ...(request.thread ? { thread: request.thread } : {}),
      text: reply.text,
      whisperTo: user.id,
    });
  }

  /** HTTP mode: the port Bolt's receiver listens on (after connect()). */
  httpPort(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async connect(): Promise<void> {
    if (this.app) return;
    const o = this.options;
    const clientOptions = {
      ...(o.apiUrl ? { slackApiUrl: o.apiUrl } : {}),
      ...(o.retries !== undefined
        ? { retryConfig: { retries: o.retries, minTimeout: 0, maxTimeout: 0 } }
        : {}),
    };
    const app = new App({
      token: o.botToken,
      logger: boltLogger(this.log),
      logLevel: LogLevel.WARN,
      // init() below reports a bad token as an error instead of an unhandled rejection.
      deferInitialization: true,
      clientOptions,
      ...(o.mode === 'socket'
        ? {
            socketMode: true,
            appToken: o.appToken,
            installerOptions: { clientOptions },
          }
        : {
            signingSecret: o.signingSecret,
            endpoints: o.eventsPath ?? '/slack/events',
          }),
    });
    this.wire(app);
    let token: 'bot_token' | 'app_token' = 'bot_token';
    try {
      await app.init();
      const auth = await app.client.auth.test();
      this.botUserId = String(auth.user_id ?? '');
      this.teamId = String(auth.team_id ?? '');
      if (o.mode === 'http') this.server = (await app.start(o.port ?? 3000)) as Server;
      else {
        // The SDK retries a refused app token for ever (only invalid_auth and a few more stop it):
        // asked once here, a bot token in its place or one without connections:write is reported.
        token = 'app_token';
        await app.client.apps.connections.open({ token: o.appToken! });
        await app.start();
      }
    } catch (err) {
      await app.stop().catch(() => undefined);
      throw setupError(err, o.mode, token);
    }
    this.app = app;
  }

  async disconnect(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    this.server = undefined;
    await app?.stop();
  }

  private wire(app: App): void {
    app.error(async (err) => {
      this.log.error({ err: errorText(err) }, 'slack listener failed');
    });
    app.event('message', async ({ event }) => {
      await this.incoming(event as unknown as SlackMessageEvent, false);
    });
    app.event('app_mention', async ({ event }) => {
      await this.incoming({ ...(event as unknown as SlackMessageEvent), type: 'message' }, true);
    });
    const command = this.options.slashCommand ?? '/squall';
    app.command(command, async ({ command: cmd, ack }) => {
      await ack();
      try {
        // "/squall run ACTION" alone opens the action's form.
        if (this.formHandlers && /^\s*run\s+\S+\s*$/i.test(cmd.text)) {
          await this.openForm(cmd.trigger_id, {
            userId: cmd.user_id,
            userName: cmd.user_name,
            channel: cmd.channel_id,
            command: cmd.text,
          });
          return;
        }
        // A slash command leaves no message to thread under: post one, so the answer has a home.
        const root = await this.app!.client.chat.postMessage({
          channel: cmd.channel_id,
          text: `<@${cmd.user_id}> ran ${command} ${cmd.text}`,
        });
        const user = await this.userOf(cmd.user_id, cmd.user_name);
        await this.emit({
          text: cmd.text,
          user,
          channel: cmd.channel_id,
          messageId: String(root.ts),
          isDirect: cmd.channel_name === 'directmessage' || cmd.channel_id.startsWith('D'),
          mentionsBot: true,
          workspace: cmd.team_id || this.teamId,
        });
      } catch (err) {
        this.log.error({ err: errorText(err), channel: cmd.channel_id }, 'slack slash command failed');
      }
    });
    // The message shortcut: the form of the command in that message, filled in from it.
    app.shortcut(FORM_SHORTCUT, async ({ ack, body }) => {
      await ack();
      const b = body as unknown as {
        trigger_id: string;
        user: { id: string; username?: string; name?: string };
        channel: { id: string };
        message: { ts: string; thread_ts?: string; text?: string };
      };
      try {
        await this.openForm(b.trigger_id, {
          userId: b.user.id,
          userName: b.user.username ?? b.user.name,
          channel: b.channel.id,
          thread: b.message.thread_ts ?? b.message.ts,
          command: unescapeMrkdwn(b.message.text ?? ''),
        });
      } catch (err) {
        this.log.error({ err: errorText(err) }, 'slack form shortcut failed');
      }
    });
    app.view(FORM_CALLBACK, async ({ ack, body, view }) => {
      const submitting: Promise<FormOutcome> = this.formHandlers
        ? this.formHandlers
            .submit({
              user: await this.userOf(body.user.id, body.user.name),
              context: view.private_metadata,
              workspace: body.team?.id || this.teamId,
              values: submittedValues(view.state as never),
            })
            .catch((err: unknown) => {
              this.log.error({ err: errorText(err) }, 'slack form submission failed');
              return {
                errors: { [view.blocks[0]?.block_id ?? '']: `Squall could not run it: ${errorText(err)}` },
              };
            })
        : Promise.resolve({});
      // Slack takes the ack within 3 s, else the modal says it had trouble connecting and a late
      // ack is dropped: a submission still being checked after ACK_WITHIN_MS turns the modal into
      // "Checking…", and views.update then shows the outcome (the form again with its errors, or
      // that it runs).
      const timely = await inTime(submitting, ACK_WITHIN_MS);
      if (timely === 'late') {
        await ack({ response_action: 'update', view: checkingView(view.title.text) as never });
        const outcome = await submitting;
        const failed = outcome.errors && Object.keys(outcome.errors).length > 0;
        await this.client().views.update({
          view_id: view.id,
          view: (failed && outcome.retry
            ? formView(outcome.retry, outcome.errors)
            : doneView(
                view.title.text,
                failed ? Object.values(outcome.errors!).join('\n') : 'Running it…',
              )) as never,
        });
        return;
      }
      const outcome = timely.value;
      // Errors stay in the modal, under their inputs (keyed by block_id).
      if (outcome.errors && Object.keys(outcome.errors).length)
        await ack({ response_action: 'errors', errors: outcome.errors });
      else await ack();
    });
    // A link button (Open) still sends an action, which must be acknowledged.
    app.action(/^squall-open:\d+$/, async ({ ack }) => {
      await ack();
    });
    app.action(/^squall:\d+$/, async ({ ack, body, action }) => {
      await ack();
      const b = body as unknown as {
        user: { id: string; username?: string; name?: string };
        channel?: { id: string };
        container?: { channel_id?: string; message_ts?: string; thread_ts?: string };
        message?: { ts: string; thread_ts?: string };
      };
      const a = action as unknown as { block_id?: string; value?: string };
      const { payload, value } = pressedPayload(a.block_id ?? '', a.value ?? '');
      if (payload.startsWith(FORM_PAYLOAD_PREFIX)) {
        const t = body as unknown as { trigger_id: string; user: { id: string; username?: string } };
        const c = b.container;
        try {
          await this.openForm(t.trigger_id, {
            userId: t.user.id,
            userName: t.user.username,
            channel: b.channel?.id ?? c?.channel_id ?? '',
            ...(c?.thread_ts ? { thread: c.thread_ts } : {}),
            payload,
          });
        } catch (err) {
          this.log.error({ err: errorText(err) }, 'slack form could not open');
        }
        return;
      }
      const messageId = b.message?.ts ?? b.container?.message_ts ?? '';
      const channel = b.channel?.id ?? b.container?.channel_id ?? '';
      const thread = b.message?.thread_ts ?? b.container?.thread_ts;
      const user = await this.userOf(b.user.id, b.user.username ?? b.user.name);
      for (const h of this.buttonHandlers) {
        try {
          await h({ user, payload, value, messageId, channel, ...(thread ? { thread } : {}) });
        } catch (err) {
          this.log.error({ err: errorText(err) }, 'slack button handler failed');
        }
      }
    });
  }

  private async incoming(event: SlackMessageEvent, mentioned: boolean): Promise<void> {
    // Edits, deletions, joins and the like are not commands.
    if (event.subtype && event.subtype !== 'bot_message' && event.subtype !== 'thread_broadcast') return;
    if (!this.seen.add(`${event.channel}:${event.ts}`)) return;
    const fromBot = Boolean(event.bot_id) || event.subtype === 'bot_message';
    const raw = event.text ?? '';
    const mention = this.botUserId ? new RegExp(`<@${this.botUserId}(\\|[^>]*)?>`, 'g') : null;
    const mentionsBot = mentioned || (mention ? mention.test(raw) : false);
    const text = mention ? raw.replace(mention, '').replace(/^\s*[:,]?\s*/, '') : raw;
    const user = event.user
      ? await this.userOf(event.user)
      : { id: event.bot_id ?? 'unknown', name: event.bot_id ?? 'bot' };
    await this.emit({
      text: unescapeMrkdwn(text.trim()),
      user,
      channel: event.channel,
      ...(event.thread_ts && event.thread_ts !== event.ts ? { thread: event.thread_ts } : {}),
      messageId: event.ts,
      isDirect: event.channel_type === 'im',
      mentionsBot,
      ...(fromBot ? { fromBot: true } : {}),
      workspace: event.team ?? this.teamId,
    });
  }

  private async emit(message: IncomingMessage): Promise<void> {
    for (const h of this.messageHandlers) {
      try {
        await h(message);
      } catch (err) {
        this.log.error({ err: errorText(err), channel: message.channel }, 'slack message handler failed');
      }
    }
  }

  private async userOf(id: string, fallbackName?: string): Promise<ChatUser> {
    const known = this.users.get(id) ?? (await this.lookupUser(id));
    return known ?? { id, name: fallbackName ?? id };
  }

  private client() {
    if (!this.app)
      throw new SquallError('CHAT_NOT_CONNECTED', 'the slack chat adapter is not connected', {
        adapter: 'slack',
      });
    return this.app.client;
  }

  async post(message: OutgoingMessage): Promise<PostedMessage> {
    const client = this.client();
    const blocks =
      (message.rich?.blocks as unknown[] | undefined) ??
      (message.card ? cardBlocks(message.card) : sections(escapeMrkdwn(message.text)));
    if (message.whisperTo) {
      const res = await client.chat
        .postEphemeral({
          channel: message.channel,
          user: message.whisperTo,
          text: message.text,
          blocks: blocks as never,
          ...(message.thread ? { thread_ts: message.thread } : {}),
        })
        .catch(slackRefusal('chat.postEphemeral', message.channel));
      const ts = String(res.message_ts ?? '');
      return { messageId: ts, thread: message.thread ?? ts };
    }
    const key = message.idempotencyKey;
    if (key && message.mayRepeat) {
      const earlier = await this.findKeyedPost(message.channel, message.thread, key);
      if (earlier) return { messageId: earlier, thread: message.thread ?? earlier };
    }
    const res = await client.chat
      .postMessage({
        channel: message.channel,
        text: message.text,
        blocks: blocks as never,
        ...(message.thread ? { thread_ts: message.thread } : {}),
        ...(key ? { metadata: { event_type: KEYED_POST_EVENT, event_payload: { key } } } : {}),
      })
      .catch(slackRefusal('chat.postMessage', message.channel));
    const ts = String(res.ts);
    return { messageId: ts, thread: message.thread ?? ts };
  }

  /**
   * The ts of the bot's post carrying idempotency key `key` among the channel's (or thread's)
   * latest messages, if there is one. Slack has no idempotency key on chat.postMessage, so a post
   * that may repeat an earlier one looks for it first. A lookup that fails posts anyway (logged):
   * a second post beats a lost one.
   */
  private async findKeyedPost(
    channel: string,
    thread: string | undefined,
    key: string,
  ): Promise<string | undefined> {
    const client = this.client();
    try {
      const res = thread
        ? await client.conversations.replies({ channel, ts: thread, include_all_metadata: true, limit: 200 })
        : await client.conversations.history({ channel, include_all_metadata: true, limit: 100 });
      const found = (res.messages ?? []).find(
        (m) =>
          m.user === this.botUserId &&
          m.metadata?.event_type === KEYED_POST_EVENT &&
          (m.metadata.event_payload as { key?: unknown } | undefined)?.key === key,
      );
      return found?.ts;
    } catch (err) {
      this.log.warn({ err, channel, key }, 'could not look for an earlier post with this key; posting');
      return undefined;
    }
  }

  async update(update: MessageUpdate): Promise<void> {
    const blocks =
      (update.rich?.blocks as unknown[] | undefined) ??
      (update.card ? cardBlocks(update.card) : sections(escapeMrkdwn(update.text)));
    await this.client()
      .chat.update({
        channel: update.channel,
        ts: update.messageId,
        text: update.text,
        blocks: blocks as never,
      })
      .catch(slackRefusal('chat.update', update.channel));
  }

  async uploadText(upload: TextUpload): Promise<PostedMessage> {
    const res = (await this.client()
      .filesUploadV2({
        channel_id: upload.channel,
        ...(upload.thread ? { thread_ts: upload.thread } : {}),
        content: upload.content,
        filename: upload.filename,
        ...(upload.title ? { title: upload.title } : {}),
      } as never)
      .catch(slackRefusal('files.uploadV2', upload.channel))) as unknown as {
      files?: Array<{ files?: Array<{ id?: string }> }>;
    };
    const id = res.files?.[0]?.files?.[0]?.id ?? upload.filename;
    return { messageId: id, thread: upload.thread ?? id };
  }

  async ask(question: Question): Promise<PostedMessage> {
    // A mention in the text is what notifies people; ids that are not Slack users are left out.
    const mentions = (question.mentions ?? []).filter((id) => /^[UW][A-Z0-9]+$/.test(id));
    const cc = mentions.length ? `cc ${mentions.map((id) => `<@${id}>`).join(' ')}` : '';
    return this.post({
      ...(question.whisperTo ? { whisperTo: question.whisperTo } : {}),
      channel: question.channel,
      ...(question.thread ? { thread: question.thread } : {}),
      text: cc ? `${question.question}\n${cc}` : question.question,
      idempotencyKey: question.idempotencyKey,
      mayRepeat: question.mayRepeat,
      rich: {
        blocks: [
          ...sections(escapeMrkdwn(question.question)),
          ...(cc ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: cc }] }] : []),
          ...buttonBlocks(question.payload, question.choices),
        ],
      },
    });
  }

  async react(
    target: { channel: string; messageId: string },
    add: CardReaction,
    remove?: CardReaction,
  ): Promise<void> {
    const client = this.client();
    const at = { channel: target.channel, timestamp: target.messageId };
    // Slack answers already_reacted / no_reaction when the reaction is already as wanted.
    const tolerate = (code: string) => (err: unknown) => {
      if ((err as { data?: { error?: string } }).data?.error !== code) throw err;
    };
    await client.reactions.add({ ...at, name: REACTIONS[add] }).catch(tolerate('already_reacted'));
    if (remove && remove !== add)
      await client.reactions.remove({ ...at, name: REACTIONS[remove] }).catch(tolerate('no_reaction'));
  }

  async lookupUser(id: string): Promise<ChatUser | null> {
    const cached = this.users.get(id);
    if (cached) return cached;
    try {
      const res = await this.client().users.info({ user: id });
      const u = res.user;
      if (!u?.id) return null;
      const user: ChatUser = {
        id: u.id,
        name: u.name ?? u.id,
        ...(u.profile?.email ? { email: u.profile.email } : {}),
      };
      this.users.set(id, user);
      return user;
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code !== 'user_not_found')
        this.log.warn({ err: errorText(err), user: id }, 'slack users.info failed');
      return null;
    }
  }
}

function unescapeMrkdwn(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** What Slack's answer names beyond `error`: missing_scope's `needed` and `provided`. */
type SlackErrorData = { error?: string; errors?: unknown; needed?: string; provided?: string };

/** Where in Slack's app settings (api.slack.com/apps → the app) each fix is made. */
const APP_TOKEN_FIX =
  'Socket Mode needs an app-level token (xapp-…) with the connections:write scope: api.slack.com/apps → your app → Basic Information → App-Level Tokens (and Settings → Socket Mode on)';
const BOT_TOKEN_FIX =
  'use the Bot User OAuth Token (xoxb-…) from api.slack.com/apps → your app → OAuth & Permissions, reinstalling the app if it was removed';
const AUTH_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'team_disabled',
]);

/** Why Slack refused, and what to change where, for the errors a new setup meets. */
function slackHint(code: string, data: SlackErrorData, channel?: string): string {
  if (code === 'missing_scope')
    return `the Slack app lacks the ${data.needed ?? '?'} scope (it has: ${data.provided || 'none'}); add it under api.slack.com/apps → your app → OAuth & Permissions → Bot Token Scopes and reinstall the app`;
  if (code === 'channel_not_found')
    return `Slack has no channel ${channel ?? ''} the bot can see; use the channel's id (C…, from the channel's "Copy link"), and invite the bot to a private channel (/invite @bot)`;
  if (code === 'not_in_channel')
    return `the bot is not a member of ${channel ?? 'the channel'}; invite it there (/invite @bot), or add the chat:write.public scope for public channels`;
  if (AUTH_ERRORS.has(code)) return `the bot token was refused; ${BOT_TOKEN_FIX}`;
  return '';
}

/** A failed connect as a SquallError that says which setting to change, and where. */
function setupError(err: unknown, mode: 'socket' | 'http', token: 'bot_token' | 'app_token'): SquallError {
  const e = err as { code?: string; data?: SlackErrorData };
  const code = e.code === 'slack_webapi_platform_error' ? e.data?.error : undefined;
  const context = {
    adapter: 'slack',
    mode,
    setting: `chatops.slack.${token}`,
    ...(code ? { error: code } : {}),
  };
  if (!code)
    return new SquallError(
      'CHAT_CONNECT_FAILED',
      `could not connect to Slack (${mode} mode): ${errorText(err)}`,
      context,
    );
  let why: string;
  if (token === 'app_token')
    why =
      code === 'not_allowed_token_type'
        ? `chatops.slack.app_token is not an app-level token (not_allowed_token_type; a bot's xoxb- token?). ${APP_TOKEN_FIX}`
        : code === 'missing_scope'
          ? `chatops.slack.app_token lacks the ${e.data?.needed ?? 'connections:write'} scope (missing_scope). ${APP_TOKEN_FIX}`
          : `Slack refused chatops.slack.app_token (${code}). ${APP_TOKEN_FIX}`;
  else
    why =
      code === 'not_allowed_token_type'
        ? `chatops.slack.bot_token is not a bot token (not_allowed_token_type; the xapp- app-level token?): ${BOT_TOKEN_FIX}`
        : AUTH_ERRORS.has(code)
          ? `Slack refused chatops.slack.bot_token (${code}): ${BOT_TOKEN_FIX}`
          : `Slack refused chatops.slack.bot_token (${code})${slackHint(code, e.data ?? {}) ? `: ${slackHint(code, e.data ?? {})}` : ''}`;
  return new SquallError('CHAT_CONNECT_FAILED', `could not connect to Slack (${mode} mode): ${why}`, {
    ...context,
    ...(e.data?.needed ? { needed: e.data.needed, provided: e.data.provided ?? '' } : {}),
  });
}

/** HTTP statuses for Slack's refusals that name the caller's mistake; any other refusal is 502. */
const REFUSAL_STATUS: Record<string, number> = {
  missing_scope: 403,
  channel_not_found: 404,
  thread_not_found: 404,
  message_not_found: 404,
  not_in_channel: 403,
  user_not_in_channel: 403,
  is_archived: 403,
  restricted_action: 403,
  cant_update_message: 403,
  msg_too_long: 400,
  invalid_blocks: 400,
  no_text: 400,
};

/**
 * A Slack Web API refusal (`{ok:false, error}`, which the SDK throws) as a SquallError naming
 * Slack's error code, so the API answers with it rather than an opaque 500. Anything else (network,
 * HTTP, the SDK's own) is rethrown as it is.
 */
function slackRefusal(method: string, channel: string) {
  return (err: unknown): never => {
    const e = err as { code?: string; data?: SlackErrorData };
    const code = e.code === 'slack_webapi_platform_error' ? e.data?.error : undefined;
    if (!code) throw err;
    const hint = slackHint(code, e.data ?? {}, channel);
    throw new SquallError(
      'CHAT_PLATFORM_REFUSED',
      `Slack refused ${method} in ${channel}: ${code}${hint ? ` (${hint})` : ''}`,
      {
        adapter: 'slack',
        method,
        channel,
        error: code,
        ...(e.data?.errors ? { errors: e.data.errors } : {}),
        ...(e.data?.needed ? { needed: e.data.needed, provided: e.data.provided ?? '' } : {}),
      },
      REFUSAL_STATUS[code] ?? 502,
    );
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Bolt's logger interface on top of ours (Bolt never logs tokens; we keep it at warn). */
function boltLogger(log: AdapterLogger): BoltLogger {
  let level = LogLevel.WARN;
  const fmt = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ');
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (...msg: unknown[]) => log.warn({}, fmt(msg)),
    error: (...msg: unknown[]) => log.error({}, fmt(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
