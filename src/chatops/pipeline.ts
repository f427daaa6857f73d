import {
  aliasRef,
  applyImmutableParameters,
  castAliasParameters,
  defaultAckText,
  executionOutput,
  failureReason,
  joinPretext,
  formatExecutionResult,
  humanDisplay,
  normaliseFormats,
  partialMatches,
  matchAlias,
  type AliasLike,
  type AliasParameters,
  type ExecutionLike,
} from '../../aliases/index.js';
import { SquallError, errorMessage } from '../errors.js';
import { FAILED_STATUSES, type ExecutionService } from '../executions/index.js';
import { newId } from '../ids.js';
import type { Services } from '../service/index.js';
import type { ActionRecord, ExecutionRecord } from '../store/index.js';
import { renderTemplate } from '../workflows/expressions/jinja/index.js';
import { replyTarget, type ChatAdapter, type IncomingMessage, type PostedMessage } from './adapter.js';
import { runBuiltin, helpReply, type BuiltinContext } from './builtins.js';
import { Deliverer, postLong } from './delivery.js';
import { refusalText, resolveIdentity, type RolesLookup, type SquallIdentity } from './identity.js';
import { LiveAcks } from './live.js';

/** What happened to a chat command; stored in the audit record and shown in the chat log. */
export type CommandOutcome =
  | 'executed'
  | 'builtin'
  | 'no_match'
  | 'ambiguous'
  | 'bad_parameters'
  | 'forbidden'
  | 'action_disabled'
  | 'too_long'
  | 'wrong_channel'
  | 'error';

export interface ChatCommandAudit {
  id: string;
  kind: 'chat.command';
  timestamp: string;
  actor: string;
  adapter: string;
  channel: string;
  thread: string | null;
  user: { id: string; name: string };
  text: string;
  alias: string | null;
  execution_id: string | null;
  execution_ids: string[];
  outcome: CommandOutcome;
  reply: string | null;
  ack_message_id: string | null;
  [k: string]: unknown;
}

/** The chat part of an execution's context (st2 keeps `source_channel`; Squall adds the thread). */
export interface ChatOrigin {
  adapter: string;
  channel: string;
  thread: string;
  user: { id: string; name: string };
  message: string;
  ack?: string;
  /** A live card shows this execution and its result (live.ts). */
  card?: boolean;
}

const SMART_QUOTES: Array<[RegExp, string]> = [
  [/[\u2018\u2019]/g, "'"],
  [/[\u201c\u201d]/g, '"'],
  [/\u00a0/g, ' '],
];

function present(executions: ExecutionService, record: ExecutionRecord): Record<string, unknown> {
  return executions.present(record);
}

/**
 * The chat pipeline (st2-reference.md §5.3–5.5): is the message for the bot, which alias does it
 * mean, who is asking and may they, run it, acknowledge in the thread, and (through the notifier)
 * post the result there when it ends. Every failure becomes a polite reply and an audit record;
 * nothing a user types can make it throw.
 */
export class ChatPipeline {
  private aliases: AliasLike[] = [];
  /** Acks being posted, by execution id: a quick result waits for its ack so the thread reads in order. */
  private readonly acks = new Map<string, Promise<unknown>>();
  readonly deliverer: Deliverer;
  /** Keeps acks up to date while their executions run (started with the notifier). */
  readonly live: LiveAcks;

  constructor(
    private readonly services: Services,
    private readonly executions: () => ExecutionService,
    readonly adapters: Map<string, ChatAdapter>,
    private readonly rolesOf?: RolesLookup,
  ) {
    this.deliverer = new Deliverer(services, adapters);
    this.live = new LiveAcks(services, executions, services.config.chatops.card_edit_interval_ms, (r) =>
      this.resultNote(r),
    );
  }

  private get config() {
    return this.services.config.chatops;
  }

  /** Re-reads the enabled aliases (on alias change events and periodically; no query per message). */
  async reloadAliases(): Promise<void> {
    const records = await this.services.store.aliases.find({}, { sort: { ref: 1 } });
    this.aliases = records.map((r) => r as unknown as AliasLike).filter((a) => a.enabled !== false);
  }

  enabledAliases(): AliasLike[] {
    return this.aliases;
  }

  attach(adapter: ChatAdapter): void {
    this.adapters.set(adapter.name, adapter);
    adapter.onMessage((message) => this.handle(adapter, message));
  }

  /**
   * The command in a message, or null when it is not addressed to the bot: `<prefix>command`,
   * a mention ("@squall command"), or anything in a direct conversation.
   */
  commandOf(message: IncomingMessage): string | null {
    if (message.fromBot) return null;
    let text = message.text;
    for (const [re, to] of SMART_QUOTES) text = text.replace(re, to);
    text = text.trim();
    const prefix = this.config.prefix;
    if (prefix && text.startsWith(prefix)) return text.slice(prefix.length).trim();
    const mention = new RegExp(`^@?${escapeRegex(this.config.bot_name)}\\b[:,]?\\s*`, 'i');
    if (message.mentionsBot || message.isDirect) return text.replace(mention, '').trim();
    return null;
  }

  /** Handles one incoming message; never throws (errors become replies and are logged). */
  async handle(adapter: ChatAdapter, message: IncomingMessage): Promise<void> {
    const command = this.commandOf(message);
    if (command === null || command === '') return;
    const where = replyTarget(message);
    const audit: ChatCommandAudit = {
      id: newId(),
      kind: 'chat.command',
      timestamp: new Date().toISOString(),
      actor: '',
      adapter: adapter.name,
      channel: message.channel,
      thread: where.thread,
      user: { id: message.user.id, name: message.user.name },
      text: command.slice(0, 500),
      alias: null,
      execution_id: null,
      execution_ids: [],
      outcome: 'error',
      reply: null,
      ack_message_id: null,
    };
    /** A post in the thread; `privately`: only the asker sees it (refusals and mistakes). */
    const reply: Reply = async (text, privately = false) => {
      audit.reply ??= text.slice(0, 1000);
      return this.deliverer.send({
        target: {
          kind: 'chat',
          adapter: adapter.name,
          ...where,
          ...(privately ? { whisperTo: message.user.id } : {}),
        },
        text,
        what: `reply to ${adapter.name}:${message.messageId}`,
      });
    };
    try {
      if (command.length > this.config.max_command_length) {
        audit.outcome = 'too_long';
        await reply(
          `That command is ${command.length} characters long; the limit is ${this.config.max_command_length}. Shorten it, or run the action with \`squall run\`.`,
          true,
        );
        return;
      }
      const identity = await resolveIdentity(
        this.services,
        adapter.name,
        message.user,
        this.rolesOf,
        message.workspace ?? '',
      );
      audit.actor = identity.name;
      await this.dispatch(adapter, message, command, identity, audit, reply);
    } catch (err) {
      audit.outcome = 'error';
      this.services.logger.error(
        { err, adapter: adapter.name, channel: message.channel, command: command.slice(0, 200) },
        'chat command failed',
      );
      await reply(`Something went wrong on Squall's side: ${errorMessage(err)}`, true).catch(() => undefined);
    } finally {
      await this.services.store.audit
        .insert(audit as never)
        .catch((err: unknown) =>
          this.services.logger.error({ err, audit }, 'could not write the audit record of a chat command'),
        );
      this.services.bus.publish('squall.chatops.command', audit);
    }
  }

  private async dispatch(
    adapter: ChatAdapter,
    message: IncomingMessage,
    command: string,
    identity: SquallIdentity,
    audit: ChatCommandAudit,
    reply: Reply,
  ): Promise<void> {
    // Aliases limited to other channels (`channels`, a Squall extension) neither match nor show in help here.
    const aliases = this.aliases.filter((a) => answersIn(a, adapter.name, message.channel));
    const ctx: BuiltinContext = {
      services: this.services,
      executions: this.executions,
      identity,
      chatUser: message.user,
      prefix: this.config.prefix,
      aliases,
      chat: { adapter: adapter.name, ...replyTarget(message), workspace: message.workspace ?? '' },
    };
    const helpAlias = aliases.find((a) => extraBuiltin(a) === 'help');
    if (helpAlias && /^help(\s|$)/i.test(command)) {
      audit.alias = aliasRef(helpAlias);
      audit.outcome = 'builtin';
      await reply(helpReply(ctx, command.replace(/^help\s*/i, '')));
      return;
    }
    const match = matchAlias(aliases, command);
    if (match.kind === 'none') {
      const elsewhere = aliases.length < this.aliases.length ? matchAlias(this.aliases, command) : match;
      if (elsewhere.kind === 'match') {
        audit.outcome = 'wrong_channel';
        audit.alias = aliasRef(elsewhere.alias);
        await reply(
          `"${command.slice(0, 100)}" can't be used here; it answers only in ${(elsewhere.alias.channels ?? []).join(', ')}. Say it there.`,
          true,
        );
        return;
      }
      const partial = partialMatches(aliases, command);
      if (partial.length > 0) {
        // It names a command but leaves out parameters: show how to say it.
        audit.outcome = 'bad_parameters';
        audit.alias = aliasRef(partial[0].alias);
        const usages = partial.map((p) => `  ${this.config.prefix}${humanDisplay(p.display)}`);
        await reply(
          `"${command.slice(0, 100)}" is missing something. Usage:\n${usages.join('\n')}\n` +
            '(<name> is required, [name] has a default; quote values with spaces.)',
          true,
        );
        return;
      }
      audit.outcome = 'no_match';
      const tips = match.suggestions.map((s) => `  ${this.config.prefix}${humanDisplay(s.display)}`);
      await reply(
        `I don't know "${command.slice(0, 100)}".` +
          (tips.length ? ` Did you mean:\n${tips.join('\n')}` : '') +
          `\nSay ${this.config.prefix}help for the list of commands.`,
        true,
      );
      return;
    }
    if (match.kind === 'ambiguous') {
      audit.outcome = 'ambiguous';
      const options = match.candidates.map(
        (c) => `  ${this.config.prefix}${humanDisplay(c.display)} (${aliasRef(c.alias)})`,
      );
      await reply(
        `"${command.slice(0, 100)}" matches more than one command; say it the way one of these reads:\n${options.join('\n')}`,
        true,
      );
      return;
    }
    const alias = match.alias;
    audit.alias = aliasRef(alias);
    const builtin = extraBuiltin(alias);
    if (builtin) {
      audit.outcome = 'builtin';
      const params = match.matchMultiple ? (match.parameters[0] ?? {}) : match.parameters;
      const answer = await runBuiltin(ctx, builtin, stripNulls(params));
      audit.outcome = answer.outcome;
      if (answer.secret) {
        // Straight to the asker, once: a retry job would keep the secret in the job store.
        audit.reply = answer.secret.audit;
        await adapter.post({ ...replyTarget(message), text: answer.text, whisperTo: message.user.id });
        return;
      }
      await reply(answer.text, answer.outcome !== 'builtin');
      return;
    }
    await this.execute(adapter, message, command, identity, alias, match, audit, reply);
  }

  private async execute(
    adapter: ChatAdapter,
    message: IncomingMessage,
    command: string,
    identity: SquallIdentity,
    alias: AliasLike,
    match: { matchMultiple: boolean; parameters: AliasParameters | AliasParameters[] },
    audit: ChatCommandAudit,
    reply: Reply,
  ): Promise<void> {
    const action = await this.services.store.actions.findOne({ ref: alias.action_ref });
    if (!action) {
      audit.outcome = 'error';
      await reply(
        `"${aliasRef(alias)}" runs action ${alias.action_ref}, which is not installed. Ask an admin to install its pack (\`squall pack install\`).`,
        true,
      );
      return;
    }
    if (action.enabled === false) {
      audit.outcome = 'action_disabled';
      await reply(
        `Action ${action.ref} is disabled, so "${aliasRef(alias)}" cannot run right now. Ask an admin to enable it.`,
        true,
      );
      return;
    }
    try {
      this.services.rbac?.assertCan({ name: identity.name, roles: identity.roles }, 'action_execute', {
        uid: action.uid ?? `action:${action.pack}:${action.name}`,
        pack: action.pack,
      });
    } catch (err) {
      if (!(err instanceof SquallError) || err.status !== 403) throw err;
      audit.outcome = 'forbidden';
      await reply(
        refusalText(identity, `run ${action.ref}`, 'action_execute', action.ref, this.config.prefix),
        true,
      );
      return;
    }
    const where = replyTarget(message);
    const source_channel = message.channel;
    const chat: ChatOrigin = {
      adapter: adapter.name,
      channel: message.channel,
      thread: where.thread,
      user: { id: message.user.id, name: message.user.name },
      message: message.messageId,
    };
    // The card is the ack (and shows the result); without an ack st2 posts only the result.
    if (alias.ack?.enabled !== false) chat.card = true;
    const context = {
      source_channel,
      api_user: message.user.name,
      user: identity.name,
      chat,
      action_alias_ref: aliasRef(alias),
    };
    let sets: AliasParameters[];
    try {
      const raw = match.matchMultiple
        ? (match.parameters as AliasParameters[])
        : [match.parameters as AliasParameters];
      const withImmutable = applyImmutableParameters(raw, alias, (template) =>
        renderTemplate(
          template,
          { ...context, action_context: context },
          { source: `${aliasRef(alias)} immutable_parameters` },
        ),
      );
      const specs = (action.merged_parameters ?? action.parameters ?? {}) as Record<
        string,
        { type?: string }
      >;
      sets = withImmutable.map((p) => castAliasParameters(p, specs));
    } catch (err) {
      if (!(err instanceof SquallError)) throw err;
      audit.outcome = 'bad_parameters';
      await reply(`I couldn't use those parameters: ${err.message}\n${this.usage(alias)}`, true);
      return;
    }
    const ids: string[] = [];
    for (const parameters of sets) {
      let record: ExecutionRecord;
      try {
        record = await this.executions().request({
          action: action.ref,
          parameters,
          context,
          user: identity.name,
          notify: {
            'on-complete': {
              routes: ['chat'],
              data: { user: message.user.name, source_channel, source_context: chat },
            },
          },
        });
      } catch (err) {
        if (!(err instanceof SquallError)) throw err;
        audit.outcome = err.code === 'ACTION_DISABLED' ? 'action_disabled' : 'bad_parameters';
        await reply(`${action.ref} did not start: ${err.message}\n${this.usage(alias)}`, true);
        if (ids.length === 0) return;
        continue;
      }
      ids.push(record.id);
      audit.execution_id ??= record.id;
      audit.execution_ids.push(record.id);
      audit.outcome = 'executed';
      if (!context.chat.card) {
        // ack.enabled false: no card; the result is posted when the run ends (st2 §5.5).
        continue;
      }
      const opening = this.live.open(record.id, record.status, {
        adapter,
        ...where,
        action: action.ref,
        requester: { id: message.user.id, name: message.user.name },
        command: { channel: message.channel, messageId: message.messageId },
        ...(alias.ack?.format ? { note: this.ackText(alias, action, record, false) ?? undefined } : {}),
      });
      this.acks.set(record.id, opening);
      try {
        const cardId = await opening;
        audit.ack_message_id ??= cardId ?? null;
        audit.reply ??= `card of execution ${record.id}`;
        // The card could not go up: fall back to the plain ack.
        if (!cardId)
          await reply(this.ackText(alias, action, record) ?? `Started ${action.ref} (${record.id}).`);
      } finally {
        setTimeout(() => this.acks.delete(record.id), 60_000).unref();
      }
    }
    this.services.logger.info(
      {
        adapter: adapter.name,
        user: identity.name,
        alias: aliasRef(alias),
        executions: ids,
        command: command.slice(0, 200),
      },
      'chat command executed',
    );
  }

  /** How to say an alias: its formats as people read them. */
  usage(alias: AliasLike): string {
    const shown = normaliseFormats(alias).map((f) => `${this.config.prefix}${humanDisplay(f.display)}`);
    return `Usage: ${shown.join('  or  ')}`;
  }

  /** st2 §5.4: nothing with ack.enabled false; ack.format rendered, else a phrase; the UI link appended. */
  ackText(alias: AliasLike, action: ActionRecord, record: ExecutionRecord, withUrl = true): string | null {
    const ack = alias.ack ?? {};
    if (ack.enabled === false) return null;
    const webUrl = this.services.apiUrl;
    const appendUrl = withUrl && ack.append_url !== false;
    if (!ack.format) return defaultAckText(record.id, action.ref, appendUrl ? webUrl : undefined);
    let text: string;
    try {
      text = renderTemplate(
        ack.format,
        { execution: present(this.executions(), record), actionalias: alias },
        { source: `${aliasRef(alias)} ack.format` },
      );
    } catch (err) {
      text = `${defaultAckText(record.id, action.ref)} (ack.format of ${aliasRef(alias)} failed: ${errorMessage(err)})`;
    }
    return appendUrl
      ? `${text} (details available at ${webUrl.replace(/\/+$/, '')}/#/history/${record.id}/general)`
      : text;
  }

  /**
   * Posts the result of a finished chat execution in its thread (st2 §5.5 steps 3–5):
   * `result.format` (context execution, alias) or the default layout; nothing with
   * result.enabled false. Long text goes out as a file.
   */
  async postResult(
    record: ExecutionRecord,
    target?: { adapter: string; channel: string; thread?: string },
  ): Promise<void> {
    const origin = (record.context?.chat ?? null) as ChatOrigin | null;
    const to =
      target ?? (origin ? { adapter: origin.adapter, channel: origin.channel, thread: origin.thread } : null);
    if (!to) return;
    if (!target && origin?.card) {
      // Its card shows the result, unless the card could not be posted.
      await this.acks.get(record.id)?.catch(() => undefined);
      if (!this.live.cardFailed(record.id)) return;
    }
    const alias = await this.aliasOf(record);
    if (alias?.result?.enabled === false) return;
    await this.acks.get(record.id)?.catch(() => undefined);
    const adapter = this.adapters.get(to.adapter);
    const max = adapter?.capabilities.maxMessageLength ?? 4000;
    const shown = present(this.executions(), record);
    let text: string;
    let fullText: string | undefined;
    if (alias?.result?.format) {
      try {
        text = renderTemplate(
          alias.result.format,
          { execution: shown, alias },
          { source: `${aliasRef(alias)} result.format` },
        );
      } catch (err) {
        const fallback = formatExecutionResult(shown as unknown as ExecutionLike, { maxLength: max });
        text = `${fallback.text}\n(result.format of ${aliasRef(alias)} failed: ${errorMessage(err)})`;
        fullText = fallback.fullText;
      }
    } else {
      const formatted = formatExecutionResult(shown as unknown as ExecutionLike, { maxLength: max });
      text = formatted.text;
      fullText = formatted.truncated ? formatted.fullText : undefined;
    }
    // A template written for success (or one that drops `error`) must not hide why it failed.
    const reason = isFailed(record.status) ? failureReason(record) : undefined;
    const shownText = fullText ?? text;
    // Per-host lines read "host: why"; a template that shows `why` under the host has said it.
    const unsaid = (reason ?? '')
      .split('\n')
      .filter((l) => l && !shownText.includes(l) && !shownText.includes(l.replace(/^\S+?: /, '')));
    if (unsaid.length > 0) {
      text = `${text}\nError: ${unsaid.join('\n')}`;
      if (fullText) fullText = `${fullText}\nError: ${unsaid.join('\n')}`;
    }
    await this.deliverer.send({
      target: { kind: 'chat', ...to },
      text,
      fullText,
      what: `result of execution ${record.id}`,
      execution_id: record.id,
    });
  }

  /** The alias that started `record`, if any. */
  private async aliasOf(record: ExecutionRecord): Promise<AliasLike | null> {
    const ref = record.context?.action_alias_ref as string | undefined;
    if (!ref) return null;
    return (
      this.aliases.find((a) => aliasRef(a) === ref) ??
      ((await this.services.store.aliases.findOne({ ref })) as unknown as AliasLike | null)
    );
  }

  /**
   * What a finished card says under its output: the alias's `result.format` (context execution,
   * alias) and, for a failed run, why, when neither the template nor the output says it.
   */
  async resultNote(record: ExecutionRecord): Promise<string | undefined> {
    const alias = await this.aliasOf(record);
    const shown = present(this.executions(), record);
    let note = '';
    if (alias?.result?.enabled !== false && alias?.result?.format) {
      try {
        note = joinPretext(
          renderTemplate(
            alias.result.format,
            { execution: shown, alias },
            { source: `${aliasRef(alias)} result.format` },
          ),
        ).trim();
      } catch (err) {
        note = `(result.format of ${aliasRef(alias)} failed: ${errorMessage(err)})`;
      }
    }
    const said = `${note}\n${executionOutput(shown as unknown as ExecutionLike)}`;
    const reason = isFailed(record.status) ? failureReason(record) : undefined;
    const unsaid = (reason ?? '')
      .split('\n')
      .filter((l) => l && !said.includes(l) && !said.includes(l.replace(/^\S+?: /, '')));
    if (unsaid.length > 0) note = `${note}\nError: ${unsaid.join('\n')}`.trim();
    return note || undefined;
  }

  /** Posts straight to a chat channel (POST /chatops/message, chatops.post_message). */
  async postDirect(
    target: { adapter: string; channel: string; thread?: string; whisperTo?: string },
    text: string,
  ): Promise<PostedMessage> {
    const adapter = this.adapters.get(target.adapter);
    if (!adapter)
      throw new SquallError(
        'CHAT_ADAPTER_MISSING',
        `chat adapter "${target.adapter}" is not running in this process (known: ${[...this.adapters.keys()].join(', ') || 'none'})`,
        { adapter: target.adapter },
        404,
      );
    return postLong(adapter, target, text);
  }
}

type Reply = (text: string, privately?: boolean) => Promise<PostedMessage | undefined>;

function isFailed(status: string): boolean {
  return (FAILED_STATUSES as readonly string[]).includes(status);
}

/** Whether an alias answers in this channel: no `channels` list, or one naming it (bare or `<adapter>:`). */
function answersIn(alias: AliasLike, adapter: string, channel: string): boolean {
  return !alias.channels || alias.channels.some((c) => c === channel || c === `${adapter}:${channel}`);
}

function extraBuiltin(alias: AliasLike): string | undefined {
  const squall = (alias.extra?.squall ?? null) as { builtin?: unknown } | null;
  return typeof squall?.builtin === 'string' ? squall.builtin : undefined;
}

function stripNulls(params: AliasParameters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
