import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  ChannelType,
  Client,
  EmbedBuilder,
  Events,
  GatewayIntentBits,
  Partials,
  MessageFlags,
  Routes,
  type ButtonInteraction,
  type Interaction,
  type Message,
  type RepliableInteraction,
  type SendableChannels,
} from 'discord.js';
import {
  FORM_PAYLOAD_PREFIX,
  SquallError,
  type ChatForm,
  type FormHandlers,
  type FormOutcome,
  type FormReply,
  type FormRequest,
  type ButtonChoice,
  type ButtonConfirm,
  type ButtonHandler,
  type CardReaction,
  type ChatAdapter,
  type ChatCard,
  type ChatCapabilities,
  type ChatStateStore,
  type ChatUser,
  type IncomingMessage,
  type MessageHandler,
  type MessageUpdate,
  type OutgoingMessage,
  type PostedMessage,
  type Question,
  type TextUpload,
} from '../../src/chatops/index.js';
import { SeenSet, consoleLogger, inTime, type AdapterLogger } from '../util.js';
import { MODAL_PREFIX, errorsText, formModal } from './forms.js';

/** A post's idempotency key as a Discord nonce (a string of at most 25 characters). */
export function discordNonce(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 25);
}

/** Discord returns the earlier message for a nonce it saw from this bot in the last minutes. */
function nonced(key: string | undefined): { nonce?: string; enforceNonce?: boolean } {
  return key ? { nonce: discordNonce(key), enforceNonce: true } : {};
}

export interface DiscordAdapterOptions {
  token: string;
  /** REST base without /v10 (the emulator's in tests); the gateway URL comes from GET /gateway/bot. */
  apiUrl?: string;
  /** Register the slash command here (instant) instead of globally. */
  guildId?: string;
  /** Slash command name ("squall" → /squall command:<text>); empty registers none. */
  slashCommand?: string;
  /** Messages starting with this are commands on Discord (translated for the pipeline, which sees them as addressed). */
  prefix?: string;
  /** REST retries for 5xx/network errors (discord.js default 3); 429s are always waited out by the SDK. */
  retries?: number;
  /** How long to wait for guilds at login (discord.js default 15 s). */
  waitGuildTimeout?: number;
  /**
   * Ask for the privileged Message Content intent (default true; the app must have it switched on
   * in the Developer Portal). Without it Discord sends the text of mentions and DMs only.
   */
  messageContent?: boolean;
  logger?: AdapterLogger;
}

/** Discord's content limit; longer text (up to an embed's 4,096) goes in an embed. */
const CONTENT_LIMIT = 2000;
const EMBED_LIMIT = 4096;
const BUTTON_PREFIX = 'sq|';
/** A button that asks "are you sure?" first (Discord has no confirm dialog); the rest is as for BUTTON_PREFIX. */
const CONFIRM_PREFIX = 'sq?|';
/**
 * "Confirm" on an "are you sure?" follow-up: `sq!<message id>|` and the rest as for BUTTON_PREFIX,
 * naming the message whose button asked (the press is that message's, e.g. a card to redraw).
 */
const CONFIRMED_PREFIX = 'sq!';
/** "Keep" on an "are you sure?" follow-up: nothing happens. */
const KEEP_ID = 'sq-keep';
const REACTIONS: Record<CardReaction, string> = { working: '⏳', succeeded: '✅', failed: '❌' };

/** The embed colour of a card: green, red, grey, or blurple while it runs. */
function cardColor(card: ChatCard): number {
  if (card.emoji === '✅') return 0x2eb67d;
  if (card.emoji === '❌') return 0xe01e5a;
  if (card.emoji === '🚫') return 0x808080;
  return 0x5865f2;
}

/** Discord keeps an interaction's token for 15 minutes; stay clear of the edge. */
const INTERACTION_TTL_MS = 14 * 60_000;
/** Discord takes an interaction's first answer within 3 s; work still running after this is deferred. */
const DEFER_AFTER_MS = 2_000;
/** How long a long button value or a confirmation text is kept: a card's buttons outlive an interaction. */
const BUTTON_TTL_MS = 24 * 3600_000;
/** Kept values remembered in this process too (the store is read when one is not here). */
const KEPT_IN_MEMORY = 5000;

/**
 * The Discord transport on discord.js 14. Commands come from messages with the prefix, mentions,
 * DMs and the /squall slash command; answers go into a thread started from the command message
 * (Discord threads take the id of the message they start from, so `thread` is that id); multi-line
 * text (results) is sent as an embed, files as attachments. The client reconnects and resumes by
 * itself.
 */
export class DiscordAdapter implements ChatAdapter {
  readonly name = 'discord';
  readonly capabilities: ChatCapabilities = {
    threads: true,
    updates: true,
    uploads: true,
    buttons: true,
    maxMessageLength: EMBED_LIMIT,
  };
  private client: Client | undefined;
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly buttonHandlers: ButtonHandler[] = [];
  private readonly users = new Map<string, ChatUser>();
  /** Where a message we posted lives (a thread is its own channel), for edits. */
  private readonly homes = new Map<string, string>();
  /** Thread (channel) ids known to exist. */
  private readonly threads = new Set<string>();
  /**
   * What buttons and modals need beyond their custom_id, by key: `button:<hash>` a value too long
   * for Discord's 100-character custom_id, `confirm:<custom id>` what its "are you sure?" says,
   * `modal:<key>` an open modal's context (taken once), `retry:<key>` a form to offer again. Kept
   * in the store given by useState (so a restart or another process finds them) and here.
   */
  private readonly kept = new Map<string, { json: string; expires: number }>();
  /**
   * Store writes of keep() not yet landed, by key: a modal goes out before its context is written,
   * and a submit that comes first must take the context once written, not find nothing.
   */
  private readonly writing = new Map<string, Promise<void>>();
  private state: ChatStateStore | undefined;
  private readonly seen = new SeenSet(2000);
  private formHandlers: FormHandlers | undefined;
  /** A Discord modal holds five inputs; bigger forms get a link to the web UI instead. */
  readonly forms = { maxFields: 5 };
  /**
   * The latest interaction (slash command or button) per conversation (the thread key the pipeline
   * answers in) and user: a whisper there goes out as its ephemeral follow-up.
   */
  private readonly interactions = new Map<string, { i: RepliableInteraction; at: number }>();
  private readonly log: AdapterLogger;

  /** Messages that arrived without their text since connecting (the Message Content intent is off). */
  private unreadable = 0;

  constructor(private readonly options: DiscordAdapterOptions) {
    this.log = options.logger ?? consoleLogger('discord');
  }

  private get readsContent(): boolean {
    return this.options.messageContent ?? true;
  }

  notes(): string[] {
    if (this.readsContent) return [];
    const seen = this.unreadable
      ? ` ${this.unreadable} message(s) since connecting arrived without their text.`
      : '';
    return [`${NO_CONTENT_NOTE}${seen}`];
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

  useState(state: ChatStateStore): void {
    this.state = state;
  }

  /** Keeps `value` under `key` for `ttlMs`, here and in the store; a value kept already is not written again. */
  private async keep(key: string, value: unknown, ttlMs: number): Promise<void> {
    const json = JSON.stringify(value);
    const now = Date.now();
    const had = this.kept.get(key);
    // The same value with more than half its life left: a card redraw, nothing to write.
    if (had && had.json === json && had.expires - now > ttlMs / 2) return;
    this.kept.delete(key);
    this.kept.set(key, { json, expires: now + ttlMs });
    if (this.kept.size > KEPT_IN_MEMORY) this.kept.delete(this.kept.keys().next().value!);
    if (!this.state) return;
    const write = this.state.put(key, value, ttlMs);
    this.writing.set(key, write);
    try {
      await write;
    } finally {
      if (this.writing.get(key) === write) this.writing.delete(key);
    }
  }

  /** The value kept under `key` (here, else in the store), or null when unknown or expired. */
  private async recall(key: string): Promise<unknown> {
    const had = this.kept.get(key);
    if (had && had.expires > Date.now()) return JSON.parse(had.json) as unknown;
    if (!this.state) return null;
    return this.state.get(key).catch((err: unknown) => {
      this.log.warn({ err: errorText(err), key }, 'reading discord button state failed');
      return null;
    });
  }

  /** The value kept under `key`, removed: only one caller (in any process) gets it. */
  private async take(key: string): Promise<unknown> {
    const had = this.kept.get(key);
    this.kept.delete(key);
    // Its write failing is reported by keep()'s caller; the take then finds nothing.
    await this.writing.get(key)?.catch(() => undefined);
    if (this.state) return this.state.take(key);
    return had && had.expires > Date.now() ? (JSON.parse(had.json) as unknown) : null;
  }

  /**
   * Answers an interaction with the form as a modal, or privately with why not. A modal cannot be
   * deferred and Discord takes the first answer within 3 s (10062 after): a form still being built
   * (or read back) after DEFER_AFTER_MS is answered privately instead, and once built it follows
   * with a "Fill in…" that opens it at once (kept as a retry form).
   */
  private async showForm(
    i: Extract<RepliableInteraction, { showModal: unknown }>,
    request: Omit<FormRequest, 'maxFields' | 'user'>,
    retryKey?: string,
  ): Promise<void> {
    const building = this.buildForm(i, request, retryKey);
    const built = await inTime(building, DEFER_AFTER_MS);
    if (built === 'late') {
      await i.reply({
        content: 'Preparing the form took too long — it follows here when ready.',
        flags: MessageFlags.Ephemeral,
      });
      const reply = await building;
      if ('text' in reply) {
        await i.followUp({ ...this.body(reply.text), flags: MessageFlags.Ephemeral });
        return;
      }
      const key = randomBytes(12).toString('base64url');
      await this.keep(`retry:${key}`, { form: reply.form }, INTERACTION_TTL_MS);
      await i.followUp({
        content: `The form **${reply.form.title}** is ready.`,
        flags: MessageFlags.Ephemeral,
        components: [
          await this.buttonRow(`${FORM_PAYLOAD_PREFIX}${reply.form.context}`, [
            { label: 'Fill in…', value: `retry:${key}`, style: 'primary' as const },
          ]),
        ],
      });
      return;
    }
    const reply = built.value;
    if ('text' in reply) {
      await i.reply({ ...this.body(reply.text), flags: MessageFlags.Ephemeral });
      return;
    }
    const key = randomBytes(12).toString('base64url');
    // The modal goes out first (the window is short); its context is kept meanwhile, in memory at
    // once, so its submit (seconds later at the earliest) finds it.
    const keeping = this.keep(`modal:${key}`, { context: reply.form.context }, INTERACTION_TTL_MS).then(
      () => undefined,
      (err: unknown) => err,
    );
    await i.showModal(formModal(reply.form, `${MODAL_PREFIX}${key}`) as never);
    const failed = await keeping;
    if (failed) throw failed;
  }

  /** The form to show: the one kept for a retry, else the pipeline's for this request. */
  private async buildForm(
    i: Extract<RepliableInteraction, { showModal: unknown }>,
    request: Omit<FormRequest, 'maxFields' | 'user'>,
    retryKey?: string,
  ): Promise<FormReply> {
    const retry = retryKey
      ? ((await this.recall(`retry:${retryKey}`)) as { form: ChatForm } | null)?.form
      : undefined;
    if (retry) return { form: retry };
    return this.formHandlers!.open({
      ...request,
      workspace: i.guildId ?? this.options.guildId ?? '',
      user: this.user(i.user),
      maxFields: this.forms.maxFields,
    });
  }

  async connect(): Promise<void> {
    if (this.client) return;
    const o = this.options;
    const client = new Client({
      intents: [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.GuildMessages,
        ...(this.readsContent ? [GatewayIntentBits.MessageContent] : []),
        GatewayIntentBits.DirectMessages,
      ],
      partials: [Partials.Channel],
      rest: {
        ...(o.apiUrl ? { api: o.apiUrl } : {}),
        ...(o.retries !== undefined ? { retries: o.retries } : {}),
      },
      ...(o.waitGuildTimeout !== undefined ? { waitGuildTimeout: o.waitGuildTimeout } : {}),
    });
    // Without an error listener a throwing async listener would crash the process.
    client.on(Events.Error, (err) => this.log.error({ err: err.message }, 'discord client error'));
    client.on(Events.ShardDisconnect, (_e, shard) =>
      this.log.warn({ shard }, 'discord gateway disconnected'),
    );
    client.on(Events.MessageCreate, (m) => void this.incoming(m));
    client.on(Events.InteractionCreate, (i) => void this.interaction(i));
    client.on(Events.ThreadCreate, (t) => {
      this.threads.add(t.id);
    });
    const ready = once(client, Events.ClientReady);
    try {
      await client.login(o.token);
      await ready;
      await this.registerCommand(client);
    } catch (err) {
      await client.destroy().catch(() => undefined);
      throw connectError(err);
    }
    this.unreadable = 0;
    this.client = client;
  }

  async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.destroy();
  }

  private async registerCommand(client: Client): Promise<void> {
    const name = this.options.slashCommand ?? 'squall';
    if (!name) return;
    const command = {
      name,
      description: 'Run a Squall chat command',
      options: [{ name: 'command', description: 'e.g. "help"', type: 3, required: true }],
    };
    if (this.options.guildId) await client.application!.commands.set([command], this.options.guildId);
    else await client.application!.commands.set([command]);
  }

  private user(u: { id: string; username: string; globalName?: string | null }): ChatUser {
    const user = { id: u.id, name: u.username };
    this.users.set(u.id, user);
    return user;
  }

  private async incoming(m: Message): Promise<void> {
    try {
      const me = this.client?.user?.id ?? m.client.user?.id;
      if (m.author.id === me) return;
      if (!this.seen.add(m.id)) return;
      const mentionRe = me ? new RegExp(`<@!?${me}>`, 'g') : null;
      let text = m.content;
      let mentionsBot = Boolean(me && (m.mentions.users.has(me) || mentionRe?.test(text)));
      if (mentionRe) text = text.replace(mentionRe, '').replace(/^\s*[:,]?\s*/, '');
      const prefix = this.options.prefix;
      if (prefix && text.startsWith(prefix)) {
        // Discord's own prefix: hand the pipeline the bare command as addressed to the bot.
        text = text.slice(prefix.length).trim();
        mentionsBot = true;
      }
      const ch = m.channel;
      // Without the Message Content intent Discord blanks the text of every message that does not
      // mention the bot (DMs excepted): a prefix command cannot be read. Said (log, status) rather
      // than handed on as an empty message that is silently ignored.
      if (!this.readsContent && !text && !mentionsBot && ch.type !== ChannelType.DM && !m.author.bot) {
        this.unreadable += 1;
        if (this.unreadable === 1)
          this.log.warn(
            { channel: m.channelId },
            `a Discord message arrived without its text: ${NO_CONTENT_NOTE}`,
          );
        return;
      }
      const inThread = ch.isThread();
      if (inThread) this.threads.add(ch.id);
      this.homes.set(m.id, m.channelId);
      await this.emit({
        text: text.trim(),
        user: this.user(m.author),
        channel: inThread ? (ch.parentId ?? ch.id) : ch.id,
        ...(inThread ? { thread: ch.id } : {}),
        messageId: m.id,
        isDirect: ch.type === ChannelType.DM,
        mentionsBot,
        ...(m.author.bot ? { fromBot: true } : {}),
        workspace: m.guildId ?? this.options.guildId ?? '',
      });
    } catch (err) {
      this.log.error({ err: errorText(err), channel: m.channelId }, 'discord message handling failed');
    }
  }

  private async interaction(i: Interaction): Promise<void> {
    try {
      if (i.isChatInputCommand() && i.commandName === (this.options.slashCommand ?? 'squall')) {
        const text = i.options.getString('command', true);
        // "/squall run ACTION" alone answers with the action's form.
        if (this.formHandlers && /^\s*run\s+\S+\s*$/i.test(text)) {
          await this.showForm(i, { command: text, channel: i.channelId });
          return;
        }
        // The visible echo is the message the answer threads under.
        await i.reply({ content: `<@${i.user.id}> ran /${i.commandName} ${text}` });
        const root = await i.fetchReply();
        this.homes.set(root.id, root.channelId);
        this.remember(root.id, i);
        const ch = i.channel;
        const inThread = ch?.isThread() ?? false;
        await this.emit({
          text,
          user: this.user(i.user),
          channel: inThread ? (ch!.isThread() ? (ch.parentId ?? ch.id) : ch!.id) : i.channelId,
          ...(inThread ? { thread: i.channelId } : {}),
          messageId: root.id,
          isDirect: !i.guildId,
          mentionsBot: true,
          workspace: i.guildId ?? this.options.guildId ?? '',
        });
        return;
      }
      if (i.isModalSubmit() && i.customId.startsWith(MODAL_PREFIX)) {
        await this.submitted(i);
        return;
      }
      if (i.isButton() && i.customId.startsWith(CONFIRM_PREFIX)) {
        await this.askToConfirm(i);
        return;
      }
      if (i.isButton() && i.customId === KEEP_ID) {
        await i.update({ content: 'Kept: nothing was done.', embeds: [], components: [] });
        return;
      }
      if (i.isButton() && (i.customId.startsWith(BUTTON_PREFIX) || i.customId.startsWith(CONFIRMED_PREFIX))) {
        const confirmed = /^sq!(\d+)\|(.*)$/s.exec(i.customId);
        const customId = confirmed ? BUTTON_PREFIX + confirmed[2] : i.customId;
        // A long value is read from the store, which may be slow: Discord takes the first answer
        // within 3 s, so a lookup still running after DEFER_AFTER_MS is answered first.
        const lookup = this.decodeButton(customId);
        const found = await inTime(lookup, DEFER_AFTER_MS);
        const decoded = found === 'late' ? undefined : found.value;
        // "Fill in…" answers with the modal itself, so it is not deferred.
        if (decoded?.payload.startsWith(FORM_PAYLOAD_PREFIX) && this.formHandlers) {
          const ch = i.channel;
          const inThread = ch?.isThread() ?? false;
          await this.showForm(
            i,
            {
              payload: decoded.payload,
              channel: inThread && ch?.isThread() ? (ch.parentId ?? ch.id) : i.channelId,
              ...(inThread ? { thread: i.channelId } : {}),
            },
            decoded.value.startsWith('retry:') ? decoded.value.slice(6) : undefined,
          );
          return;
        }
        // Confirmed on an "are you sure?" follow-up: it loses its buttons, the press goes ahead.
        if (i.message.flags.has(MessageFlags.Ephemeral))
          await i.update({ content: `Confirmed by <@${i.user.id}>.`, embeds: [], components: [] });
        else await i.deferUpdate();
        const form = found === 'late' ? await lookup : decoded;
        if (!form) {
          await i.followUp({ content: 'This button has expired — run the command again.', ephemeral: true });
          return;
        }
        // Read too late to answer with the modal: the same "Fill in…" again, which now opens at once.
        if (form.payload.startsWith(FORM_PAYLOAD_PREFIX) && this.formHandlers) {
          await i.followUp({
            content: 'Loading the form took too long — press Fill in… again.',
            flags: MessageFlags.Ephemeral,
            components: [
              await this.buttonRow(form.payload, [
                { label: 'Fill in…', value: form.value, style: 'primary' as const },
              ]),
            ],
          });
          return;
        }
        const ch = i.channel;
        const inThread = ch?.isThread() ?? false;
        // A confirmed press is the press of the message that asked (it is in the follow-up's channel).
        const messageId = confirmed?.[1] ?? i.message.id;
        this.remember(inThread ? i.channelId : messageId, i);
        // Where the pressed message lives, for its edits (a card posted before a restart too).
        this.homes.set(messageId, i.message.channelId);
        const press = {
          user: this.user(i.user),
          payload: form.payload,
          value: form.value,
          messageId,
          channel: inThread && ch?.isThread() ? (ch.parentId ?? ch.id) : i.channelId,
          ...(inThread ? { thread: i.channelId } : {}),
        };
        for (const h of this.buttonHandlers) {
          try {
            await h(press);
          } catch (err) {
            this.log.error({ err: errorText(err) }, 'discord button handler failed');
          }
        }
      }
    } catch (err) {
      this.log.error({ err: errorText(err) }, 'discord interaction handling failed');
    }
  }

  /** The press of a button that asks first: an ephemeral "are you sure?" with Confirm and Keep. */
  private async askToConfirm(i: ButtonInteraction): Promise<void> {
    const direct = BUTTON_PREFIX + i.customId.slice(CONFIRM_PREFIX.length);
    const withOrigin = `${CONFIRMED_PREFIX}${i.message.id}|${i.customId.slice(CONFIRM_PREFIX.length)}`;
    const label = ('label' in i.component ? i.component.label : undefined) ?? 'do it';
    const confirm = ((await this.recall(`confirm:${direct}`)) as ButtonConfirm | null) ?? {
      title: 'Are you sure?',
      text: `${label}?`,
      confirm: label,
      deny: 'Keep',
    };
    await i.reply({
      content: `**${confirm.title}**\n${confirm.text}`,
      flags: MessageFlags.Ephemeral,
      allowedMentions: { parse: [] },
      components: [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder()
            .setCustomId(withOrigin.length <= 100 ? withOrigin : direct)
            .setLabel(confirm.confirm.slice(0, 80))
            .setStyle(ButtonStyle.Danger),
          new ButtonBuilder()
            .setCustomId(KEEP_ID)
            .setLabel(confirm.deny.slice(0, 80))
            .setStyle(ButtonStyle.Secondary),
        ),
      ],
    });
  }

  /**
   * A submitted modal: the pipeline validates it. Accepted, the modal's interaction is answered
   * quietly (the card follows); refused, the person gets the errors privately with "Fill in…",
   * which reopens the form as they typed it (a Discord modal cannot show errors itself).
   */
  private async submitted(
    i: Extract<Interaction, { isFromMessage(): boolean; fields: unknown }>,
  ): Promise<void> {
    const kept = (await this.take(`modal:${i.customId.slice(MODAL_PREFIX.length)}`)) as {
      context: string;
    } | null;
    if (!kept || !this.formHandlers) {
      await i.reply({
        content: 'This form has expired — press Fill in… or run the command again.',
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    const values: Record<string, string> = {};
    for (const [id, field] of i.fields.fields) if ('value' in field) values[id] = String(field.value ?? '');
    const submitting = this.formHandlers.submit({
      user: this.user(i.user),
      context: kept.context,
      values,
      workspace: i.guildId ?? this.options.guildId ?? '',
    });
    // Discord drops an interaction not answered within 3 s (10062): a submission still being
    // validated and started by then is deferred (the modal closes), and its answer follows.
    let deferring: Promise<unknown> | undefined;
    const timer = setTimeout(() => {
      deferring = (
        i.isFromMessage() ? i.deferUpdate() : i.deferReply({ flags: MessageFlags.Ephemeral })
      ).catch((err: unknown) =>
        this.log.error({ err: errorText(err) }, 'discord could not defer a slow form'),
      );
    }, DEFER_AFTER_MS);
    let outcome: FormOutcome;
    try {
      outcome = await submitting;
    } finally {
      clearTimeout(timer);
    }
    if (deferring) await deferring;
    const deferred = deferring !== undefined;
    if (!outcome.errors || Object.keys(outcome.errors).length === 0) {
      if (i.isFromMessage()) {
        if (!deferred) await i.deferUpdate();
      } else if (deferred) await i.editReply({ content: 'Running it…' });
      else await i.reply({ content: 'Running it…', flags: MessageFlags.Ephemeral });
      return;
    }
    const retryKey = outcome.retry ? randomBytes(12).toString('base64url') : undefined;
    if (retryKey) await this.keep(`retry:${retryKey}`, { form: outcome.retry }, INTERACTION_TTL_MS);
    const answer = {
      ...this.body(errorsText(outcome.errors)),
      components: retryKey
        ? [
            await this.buttonRow(`${FORM_PAYLOAD_PREFIX}${kept.context}`, [
              { label: 'Fill in…', value: `retry:${retryKey}`, style: 'primary' as const },
            ]),
          ]
        : [],
    };
    if (!deferred) await i.reply({ ...answer, flags: MessageFlags.Ephemeral });
    else if (i.isFromMessage()) await i.followUp({ ...answer, flags: MessageFlags.Ephemeral });
    else await i.editReply(answer);
  }

  private remember(conversation: string, i: RepliableInteraction): void {
    const now = Date.now();
    this.interactions.set(`${conversation}:${i.user.id}`, { i, at: now });
    // Interaction tokens live 15 minutes; forget older ones.
    for (const [key, v] of this.interactions)
      if (now - v.at > INTERACTION_TTL_MS) this.interactions.delete(key);
  }

  /**
   * A message only `userId` sees: the ephemeral follow-up of their interaction in that
   * conversation, else (a message command has none) a direct message.
   */
  private async whisper(
    message: OutgoingMessage,
    userId: string,
    buttons?: { payload: string; choices: ButtonChoice[] },
  ): Promise<PostedMessage> {
    const conversation = message.thread ?? message.channel;
    const recent = this.interactions.get(`${conversation}:${userId}`);
    const body = {
      ...this.body(message.text),
      ...(buttons ? { components: [await this.buttonRow(buttons.payload, buttons.choices)] } : {}),
    };
    if (recent && Date.now() - recent.at < INTERACTION_TTL_MS) {
      const sent = await recent.i.followUp({ ...body, flags: MessageFlags.Ephemeral });
      return { messageId: sent.id, thread: conversation };
    }
    const dm = await (await this.requireClient().users.fetch(userId)).createDM();
    const sent = await dm.send(body);
    this.homes.set(sent.id, sent.channelId);
    return { messageId: sent.id, thread: conversation };
  }

  private async emit(message: IncomingMessage): Promise<void> {
    for (const h of this.messageHandlers) {
      try {
        await h(message);
      } catch (err) {
        this.log.error({ err: errorText(err), channel: message.channel }, 'discord message handler failed');
      }
    }
  }

  private requireClient(): Client {
    if (!this.client)
      throw new SquallError('CHAT_NOT_CONNECTED', 'the discord chat adapter is not connected', {
        adapter: 'discord',
      });
    return this.client;
  }

  private async sendable(id: string): Promise<SendableChannels> {
    const ch = await this.requireClient().channels.fetch(id);
    if (!ch || !ch.isSendable())
      throw new SquallError('CHAT_CHANNEL_UNKNOWN', `discord channel ${id} is unknown or not writable`, {
        adapter: 'discord',
        channel: id,
      });
    return ch;
  }

  /**
   * The channel to post into: the thread itself when it exists, else a new thread started from
   * the message `thread` names (Discord gives the thread that message's id).
   */
  private async target(channel: string, thread?: string): Promise<SendableChannels> {
    if (!thread || thread === channel) return this.sendable(channel);
    const client = this.requireClient();
    const cached = client.channels.cache.get(thread);
    if (cached?.isSendable()) return cached;
    if (!this.threads.has(thread)) {
      const parent = await this.sendable(channel);
      if ('messages' in parent && parent.type !== ChannelType.DM) {
        const root = await parent.messages.fetch(thread).catch(() => null);
        if (root) {
          if (root.hasThread && root.thread) return root.thread;
          const name =
            (root.content || 'Squall')
              .replace(/<@!?\d+>/g, '')
              .trim()
              .slice(0, 90) || 'Squall';
          try {
            const created = await root.startThread({ name });
            this.threads.add(created.id);
            return created;
          } catch (err) {
            // Someone else (another process) may have started it meanwhile: use theirs.
            const again = await client.channels.fetch(thread).catch(() => null);
            if (again?.isSendable()) return again;
            throw err;
          }
        }
      }
      // A DM has no threads: answer in the conversation.
      if (parent.type === ChannelType.DM) return parent;
    }
    return this.sendable(thread);
  }

  private body(text: string) {
    if (!text.includes('\n') && text.length <= CONTENT_LIMIT)
      return { content: text, embeds: [], allowedMentions: { parse: [] } };
    return {
      content: '',
      embeds: [new EmbedBuilder().setDescription(text.slice(0, EMBED_LIMIT))],
      allowedMentions: { parse: [] },
    };
  }

  /** An execution's card: an embed coloured by status, and its buttons. */
  private async cardBody(card: ChatCard) {
    const who = /^\d{5,20}$/.test(card.requester.id) ? `<@${card.requester.id}>` : card.requester.name;
    const lines = [
      `${who}`,
      `[Execution ${card.executionId}](${card.url}) · ${card.status} · ${card.elapsed}`,
    ];
    if (card.code) lines.push('```\n' + card.code.replace(/```/g, '``\u200b`') + '\n```');
    if (card.note) lines.push(card.note);
    const embed = new EmbedBuilder()
      .setTitle(`${card.emoji} ${card.action}`.slice(0, 256))
      .setDescription(lines.join('\n').slice(0, EMBED_LIMIT))
      .setColor(cardColor(card));
    return {
      content: '',
      embeds: [embed],
      allowedMentions: { parse: [] },
      components: card.buttons ? [await this.buttonRow(card.buttons.payload, card.buttons.choices)] : [],
    };
  }

  private async buttonRow(payload: string, choices: ButtonChoice[]) {
    const buttons: ButtonBuilder[] = [];
    for (const c of choices.slice(0, 5)) {
      const b = new ButtonBuilder().setLabel(c.label.slice(0, 80));
      if (c.url) {
        buttons.push(b.setStyle(ButtonStyle.Link).setURL(c.url));
        continue;
      }
      const direct = await this.encodeButton(payload, c.value);
      if (c.confirm) await this.keep(`confirm:${direct}`, c.confirm, BUTTON_TTL_MS);
      buttons.push(
        b
          .setCustomId(c.confirm ? CONFIRM_PREFIX + direct.slice(BUTTON_PREFIX.length) : direct)
          .setDisabled(Boolean(c.disabled))
          .setStyle(
            c.style === 'primary'
              ? ButtonStyle.Success
              : c.style === 'danger'
                ? ButtonStyle.Danger
                : ButtonStyle.Secondary,
          ),
      );
    }
    return new ActionRowBuilder<ButtonBuilder>().addComponents(buttons);
  }

  async post(message: OutgoingMessage): Promise<PostedMessage> {
    if (message.whisperTo) return this.whisper(message, message.whisperTo);
    const ch = await this.target(message.channel, message.thread);
    const rich = message.rich?.embeds as unknown[] | undefined;
    const sent = await ch.send({
      ...(message.card
        ? await this.cardBody(message.card)
        : { ...this.body(message.text), ...(rich ? { embeds: rich as never } : {}) }),
      ...nonced(message.idempotencyKey),
    });
    this.homes.set(sent.id, sent.channelId);
    return { messageId: sent.id, thread: message.thread ?? sent.id };
  }

  async update(update: MessageUpdate): Promise<void> {
    const home = this.homes.get(update.messageId) ?? update.channel;
    const ch = await this.sendable(home);
    if (!('messages' in ch)) return;
    const rich = update.rich?.embeds as unknown[] | undefined;
    if (update.card) {
      await ch.messages.edit(update.messageId, await this.cardBody(update.card));
      return;
    }
    await ch.messages.edit(update.messageId, {
      ...this.body(update.text),
      ...(rich ? { embeds: rich as never } : {}),
      // An edit replaces the message, buttons included (as on Slack): an answered question or a
      // finished run must not keep buttons that can no longer do anything.
      components: [],
    });
  }

  async uploadText(upload: TextUpload): Promise<PostedMessage> {
    const ch = await this.target(upload.channel, upload.thread);
    const sent = await ch.send({
      ...(upload.title ? { content: upload.title } : {}),
      files: [
        new AttachmentBuilder(Buffer.from(upload.content, 'utf8'), {
          name: upload.filename,
          ...(upload.title ? { description: upload.title } : {}),
        }),
      ],
    });
    this.homes.set(sent.id, sent.channelId);
    return { messageId: sent.id, thread: upload.thread ?? sent.id };
  }

  private async encodeButton(payload: string, value: string): Promise<string> {
    const id = `${BUTTON_PREFIX}${payload}|${value}`;
    if (id.length <= 100) return id;
    // Too long for a custom_id: kept under its hash (the same button drawn again is the same key).
    const hash = createHash('sha256').update(id).digest('base64url').slice(0, 24);
    await this.keep(`button:${hash}`, { payload, value }, BUTTON_TTL_MS);
    return `${BUTTON_PREFIX}~${hash}`;
  }

  private async decodeButton(customId: string): Promise<{ payload: string; value: string } | null> {
    if (customId.startsWith(`${BUTTON_PREFIX}~`))
      return (await this.recall(`button:${customId.slice(BUTTON_PREFIX.length + 1)}`)) as {
        payload: string;
        value: string;
      } | null;
    const rest = customId.slice(BUTTON_PREFIX.length);
    const bar = rest.indexOf('|');
    return bar < 0 ? null : { payload: rest.slice(0, bar), value: rest.slice(bar + 1) };
  }

  async ask(question: Question): Promise<PostedMessage> {
    if (question.whisperTo)
      return this.whisper(
        {
          channel: question.channel,
          ...(question.thread ? { thread: question.thread } : {}),
          text: question.question,
        },
        question.whisperTo,
        { payload: question.payload, choices: question.choices },
      );
    const ch = await this.target(question.channel, question.thread);
    const row = await this.buttonRow(question.payload, question.choices);
    // Only the content's mentions notify (not an embed's), and only users listed as allowed.
    const mentions = (question.mentions ?? []).filter((id) => /^\d{5,20}$/.test(id));
    const body = this.body(question.question);
    const cc = mentions.length
      ? {
          content: [body.content, `cc ${mentions.map((id) => `<@${id}>`).join(' ')}`]
            .filter(Boolean)
            .join('\n'),
          allowedMentions: { users: mentions },
        }
      : {};
    const sent = await ch.send({ ...body, ...cc, components: [row], ...nonced(question.idempotencyKey) });
    this.homes.set(sent.id, sent.channelId);
    return { messageId: sent.id, thread: question.thread ?? sent.id };
  }

  async react(
    target: { channel: string; messageId: string },
    add: CardReaction,
    remove?: CardReaction,
  ): Promise<void> {
    const rest = this.requireClient().rest;
    // A command typed in a thread lives in the thread's channel.
    const channel = this.homes.get(target.messageId) ?? target.channel;
    const own = (r: CardReaction) =>
      Routes.channelMessageOwnReaction(channel, target.messageId, encodeURIComponent(REACTIONS[r]));
    // Adding a reaction already there, or removing one that is not, is a no-op on Discord.
    await rest.put(own(add));
    if (remove && remove !== add) await rest.delete(own(remove));
  }

  async lookupUser(id: string): Promise<ChatUser | null> {
    const cached = this.users.get(id);
    if (cached) return cached;
    if (!/^\d{5,20}$/.test(id)) return null;
    try {
      const u = await this.requireClient().users.fetch(id);
      return this.user(u);
    } catch {
      return null;
    }
  }
}

const PORTAL = 'discord.com/developers/applications → your app → Bot';

const NO_CONTENT_NOTE = `the Message Content intent is off (chatops.discord.message_content: false), so Discord sends the text only of messages that mention the bot and of DMs: prefix commands ("!help") cannot be read; mention the bot or use /squall, or switch on Message Content Intent (${PORTAL} → Privileged Gateway Intents) and set chatops.discord.message_content: true`;

/** A failed login as a SquallError that says which setting to change, and where. */
function connectError(err: unknown): SquallError {
  const text = errorText(err);
  const code = (err as { code?: unknown }).code;
  let why = text;
  let setting: string | undefined;
  if (/disallowed intents/i.test(text) || code === 4014) {
    setting = 'chatops.discord.message_content';
    why = `Discord refused the Message Content intent (gateway close 4014, Disallowed intent(s)): switch on Message Content Intent in ${PORTAL} → Privileged Gateway Intents, or set chatops.discord.message_content: false to take commands from mentions, DMs and /squall only`;
  } else if (code === 'TokenInvalid' || /invalid token|authentication failed/i.test(text) || code === 4004) {
    setting = 'chatops.discord.token';
    why = `Discord refused chatops.discord.token (${text}): copy the bot's token from ${PORTAL} → Reset Token`;
  }
  return new SquallError('CHAT_CONNECT_FAILED', `could not connect to Discord: ${why}`, {
    adapter: 'discord',
    ...(setting ? { setting } : {}),
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
