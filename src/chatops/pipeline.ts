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
  type AliasCandidate,
  type AliasLike,
  type AliasParameters,
  type ExecutionLike,
} from '../../aliases/index.js';
import { SquallError, errorMessage } from '../errors.js';
import {
  FAILED_STATUSES,
  actionSpecs,
  executionWebUrl,
  castParameter,
  validateParameters,
  type ExecutionService,
} from '../executions/index.js';
import { newId } from '../ids.js';
import { escapeRegex } from '../regex.js';
import { chatStateStore } from './state.js';
import type { Services } from '../service/index.js';
import type { ActionRecord, ChatChoiceRecord, ExecutionRecord } from '../store/index.js';
import { renderTemplate } from '../workflows/expressions/jinja/index.js';
import {
  replyTarget,
  type ChatAdapter,
  type ButtonPress,
  type ChatUser,
  type IncomingMessage,
  type PostedMessage,
} from './adapter.js';
import { runBuiltin, helpReply, type BuiltinAnswer, type BuiltinContext } from './builtins.js';
import { Deliverer, postLong } from './delivery.js';
import {
  FORM_PAYLOAD_PREFIX,
  buildForm,
  decodeFormContext,
  encodeFormContext,
  validateForm,
  webRunFormUrl,
  type FormContext,
  type FormOutcome,
  type FormReply,
  type FormRequest,
  type FormSubmission,
} from './forms.js';
import { refusalText, resolveIdentity, type RolesLookup, type SquallIdentity } from './identity.js';
import { LiveAcks, type CardTarget } from './live.js';
import { st2DefaultResultMessage, type St2ExecutionView } from './st2-result.js';

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

/** Payload of the buttons offered for an ambiguous command; the rest is the key of the pending choice. */
export const CHOICE_PAYLOAD_PREFIX = 'alias-choice:';
/** How long the buttons of an ambiguous command can be pressed (stored: a restart keeps them). */
const CHOICE_TTL_MS = 15 * 60_000;

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
    adapter.onButton((press) => {
      if (press.payload.startsWith(CHOICE_PAYLOAD_PREFIX)) return this.choose(adapter, press);
    });
    adapter.onForm?.({
      open: (request) => this.openForm(adapter, request),
      submit: (submission) => this.submitForm(adapter, submission),
    });
    adapter.useState?.(chatStateStore(this.services.store, adapter.name));
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

  /**
   * Handles one incoming message; never throws (errors become replies and are logged). `chosen`:
   * the alias the asker picked from an ambiguous match (only it is matched).
   */
  async handle(adapter: ChatAdapter, message: IncomingMessage, chosen?: string): Promise<void> {
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
      await this.dispatch(adapter, message, command, identity, audit, reply, chosen);
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
    chosen?: string,
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
    if (helpAlias && !chosen && /^help(\s|$)/i.test(command)) {
      audit.alias = aliasRef(helpAlias);
      audit.outcome = 'builtin';
      await reply(helpReply(ctx, command.replace(/^help\s*/i, '')));
      return;
    }
    const match = matchAlias(chosen ? aliases.filter((a) => aliasRef(a) === chosen) : aliases, command);
    if (match.kind === 'none') {
      const elsewhere = aliases.length < this.aliases.length ? matchAlias(this.aliases, command) : match;
      if (elsewhere.kind === 'match') {
        audit.outcome = 'wrong_channel';
        audit.alias = aliasRef(elsewhere.alias);
        await reply(
          `"${command.slice(0, 100)}" can't be used here; it answers only in ${channelsOn(elsewhere.alias, adapter.name).join(', ')}. Say it there.`,
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
        const text =
          `"${command.slice(0, 100)}" is missing something. Usage:\n${usages.join('\n')}\n` +
          '(<name> is required, [name] has a default; quote values with spaces.)';
        audit.reply = text.slice(0, 1000);
        if (!(await this.offerForm(adapter, message, partial[0].alias, text))) await reply(text, true);
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
      if (await this.offerChoice(adapter, message, command, match.candidates, audit)) return;
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
    const refusal = this.refusalToRun(identity, action);
    if (refusal) {
      audit.outcome = 'forbidden';
      await reply(refusal, true);
      return;
    }
    const where = replyTarget(message);
    const chat: ChatOrigin = {
      adapter: adapter.name,
      channel: message.channel,
      thread: where.thread,
      user: { id: message.user.id, name: message.user.name },
      message: message.messageId,
    };
    // The card is the ack (and shows the result); without an ack st2 posts only the result.
    if (alias.ack?.enabled !== false) chat.card = true;
    const { context, notify } = chatRun(chat, identity, aliasRef(alias));
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
      const specs = actionSpecs(action);
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
          notify,
        });
      } catch (err) {
        if (!(err instanceof SquallError)) throw err;
        audit.outcome = err.code === 'ACTION_DISABLED' ? 'action_disabled' : 'bad_parameters';
        // The executions service names the action in some errors already (a missing parameter).
        const reason = err.message.startsWith(`${action.ref}: `)
          ? err.message.slice(action.ref.length + 2)
          : err.message;
        const text = `${action.ref} did not start: ${reason}\n${this.usage(alias)}`;
        audit.reply ??= text.slice(0, 1000);
        const offered =
          err.code.startsWith('PARAM_') && (await this.offerForm(adapter, message, alias, text));
        if (!offered) await reply(text, true);
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
      const cardId = await this.openCard(record, {
        adapter,
        ...where,
        action: action.ref,
        requester: { id: message.user.id, name: message.user.name },
        command: { channel: message.channel, messageId: message.messageId },
        ...(alias.ack?.format ? { note: this.ackText(alias, action, record, false) ?? undefined } : {}),
      });
      audit.ack_message_id ??= cardId ?? null;
      audit.reply ??= `card of execution ${record.id}`;
      // The card could not go up: fall back to the plain ack.
      if (!cardId)
        await reply(this.ackText(alias, action, record) ?? `Started ${action.ref} (${record.id}).`);
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

  /** Posts the live card of `record` (its result waits for it, so the thread reads in order). */
  private async openCard(record: ExecutionRecord, target: CardTarget): Promise<string | undefined> {
    const opening = this.live.open(record.id, record.status, target);
    this.acks.set(record.id, opening);
    try {
      return await opening;
    } finally {
      setTimeout(() => this.acks.delete(record.id), 60_000).unref();
    }
  }

  /**
   * The usage reply with a "Fill in…" button (private to the asker) when the adapter draws forms;
   * false when it does not (the caller replies with plain text).
   */
  private async offerForm(
    adapter: ChatAdapter,
    message: IncomingMessage,
    alias: AliasLike,
    text: string,
  ): Promise<boolean> {
    if (!adapter.forms || !adapter.onForm || !adapter.capabilities.buttons) return false;
    const where = replyTarget(message);
    const context: FormContext = {
      a: alias.action_ref,
      l: aliasRef(alias),
      c: where.channel,
      t: where.thread,
    };
    await adapter.ask({
      ...where,
      question: text,
      choices: [{ label: 'Fill in…', value: 'open', style: 'primary' }],
      payload: `${FORM_PAYLOAD_PREFIX}${encodeFormContext(context)}`,
      whisperTo: message.user.id,
    });
    return true;
  }

  /**
   * The private reply to an ambiguous command with one button per candidate alias; false when the
   * adapter has no buttons (the caller lists them as text). The press runs the command as said.
   */
  private async offerChoice(
    adapter: ChatAdapter,
    message: IncomingMessage,
    command: string,
    candidates: AliasCandidate[],
    audit: ChatCommandAudit,
  ): Promise<boolean> {
    if (!adapter.capabilities.buttons) return false;
    const now = Date.now();
    const choices = this.services.store.chatChoices;
    // Earlier choices expire on their own; sweep those that did so the collection stays small.
    await choices.deleteMany({ expires_at: { $lt: new Date(now).toISOString() } });
    const key = newId();
    await choices.insert({
      id: key,
      adapter: adapter.name,
      message: message as unknown as ChatChoiceRecord['message'],
      refs: candidates.map((c) => aliasRef(c.alias)),
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + CHOICE_TTL_MS).toISOString(),
    });
    const question = `"${command.slice(0, 100)}" matches more than one command. Which one did you mean?`;
    audit.reply = question;
    await adapter.ask({
      ...replyTarget(message),
      question,
      choices: candidates.map((c, i) => ({
        label: `${this.config.prefix}${humanDisplay(c.display)}`,
        value: String(i),
      })),
      payload: `${CHOICE_PAYLOAD_PREFIX}${key}`,
      whisperTo: message.user.id,
    });
    return true;
  }

  /** A candidate of an ambiguous command was pressed: run the command with that alias, once, for its asker only. */
  private async choose(adapter: ChatAdapter, press: ButtonPress): Promise<void> {
    const key = press.payload.slice(CHOICE_PAYLOAD_PREFIX.length);
    const found = await this.services.store.chatChoices.get(key);
    const pending = found && found.expires_at >= new Date().toISOString() ? found : null;
    const ref = pending?.refs[Number(press.value)];
    const tell = (text: string) =>
      this.deliverer.send({
        target: {
          kind: 'chat',
          adapter: adapter.name,
          channel: press.channel,
          thread: press.thread ?? press.messageId,
          whisperTo: press.user.id,
        },
        text,
        what: `choice refusal to ${adapter.name}:${press.user.id}`,
      });
    if (!pending || pending.adapter !== adapter.name || !ref) {
      await tell('This button has expired (or the choice was already made) — run the command again.');
      return;
    }
    const message = pending.message as unknown as IncomingMessage;
    if (press.user.id !== message.user.id) {
      await tell(`Only ${message.user.name} can choose here; say the command yourself to run it.`);
      return;
    }
    // Once: a second press (a double click, another process) finds it gone.
    if (!(await this.services.store.chatChoices.deleteOne({ id: key }))) {
      await tell('This choice was already made.');
      return;
    }
    await this.handle(adapter, message, ref);
  }

  /**
   * The form someone asked for: from a "Fill in…" press (its payload), `run ACTION` (a slash
   * command with no arguments) or a command's text (a Slack message shortcut). Refusals and
   * forms too big for the provider come back as a private reply.
   */
  async openForm(adapter: ChatAdapter, request: FormRequest): Promise<FormReply> {
    let context: FormContext | null = null;
    let values: Record<string, string> = {};
    if (request.payload?.startsWith(FORM_PAYLOAD_PREFIX))
      context = decodeFormContext(request.payload.slice(FORM_PAYLOAD_PREFIX.length));
    else if (request.command !== undefined) {
      const command = request.command.trim().replace(new RegExp(`^${escapeRegex(this.config.prefix)}`), '');
      const where = { c: request.channel, ...(request.thread ? { t: request.thread } : {}) };
      const named = /^run\s+(\S+)\s*$/i.exec(command);
      const match = named ? null : matchAlias(this.aliases, command);
      if (named) context = { a: named[1], ...where };
      else if (match?.kind === 'match') {
        context = { a: match.alias.action_ref, l: aliasRef(match.alias), ...where };
        const params = match.matchMultiple ? (match.parameters as AliasParameters[])[0] : match.parameters;
        values = stripNulls((params ?? {}) as AliasParameters);
      } else {
        const partial = partialMatches(this.aliases, command);
        if (partial.length)
          context = { a: partial[0].alias.action_ref, l: aliasRef(partial[0].alias), ...where };
      }
      if (!context)
        return {
          text: `I don't know a command or action in "${command.slice(0, 100)}". Say ${this.config.prefix}help for the list.`,
        };
    }
    if (!context) return { text: 'This form has expired — run the command again.' };
    const found = await this.formAction(adapter, request.user, context, request.workspace);
    if ('text' in found) return found;
    const form = buildForm(found.action, context, values);
    if (form.fields.length > request.maxFields)
      return {
        text:
          `${found.action.ref} has ${form.fields.length} parameters, more than a form here holds (${request.maxFields}). ` +
          `Fill them in on the web UI: ${webRunFormUrl(this.services.apiUrl, found.action.ref)}`,
      };
    return { form };
  }

  /** The action a form runs, if it exists, is enabled and the person may run it. */
  private async formAction(
    adapter: ChatAdapter,
    user: ChatUser,
    context: FormContext,
    workspace = '',
  ): Promise<{ action: ActionRecord; identity: SquallIdentity } | { text: string }> {
    const action = await this.services.store.actions.findOne({ ref: context.a });
    if (!action) return { text: `There is no action ${context.a.slice(0, 200)}.` };
    if (action.enabled === false)
      return { text: `Action ${action.ref} is disabled. Ask an admin to enable it.` };
    const identity = await resolveIdentity(this.services, adapter.name, user, this.rolesOf, workspace);
    const refusal = this.refusalToRun(identity, action);
    return refusal ? { text: refusal } : { action, identity };
  }

  /** Why `identity` may not run `action` (RBAC action_execute), or null when it may. */
  private refusalToRun(identity: SquallIdentity, action: ActionRecord): string | null {
    try {
      this.services.rbac?.assertCan({ name: identity.name, roles: identity.roles }, 'action_execute', {
        uid: action.uid ?? `action:${action.pack}:${action.name}`,
        pack: action.pack,
      });
      return null;
    } catch (err) {
      if (!(err instanceof SquallError) || err.status !== 403) throw err;
      return refusalText(identity, `run ${action.ref}`, 'action_execute', action.ref, this.config.prefix);
    }
  }

  /**
   * A filled-in form: validated with the executions' parameter validation (errors go back to the
   * form, per field), then run as the person's Squall user with the normal live card in the
   * conversation the form came from. Audited as a chat command.
   */
  async submitForm(adapter: ChatAdapter, submission: FormSubmission): Promise<FormOutcome> {
    const context = decodeFormContext(submission.context);
    const where = context ? { channel: context.c, thread: context.t ?? '' } : null;
    const whisper = (text: string) =>
      where
        ? this.deliverer.send({
            target: {
              kind: 'chat',
              adapter: adapter.name,
              channel: where.channel,
              ...(where.thread ? { thread: where.thread } : {}),
              whisperTo: submission.user.id,
            },
            text,
            what: `form reply to ${adapter.name}:${submission.user.id}`,
          })
        : undefined;
    if (!context || !where) return { errors: {} };
    const found = await this.formAction(adapter, submission.user, context, submission.workspace);
    if ('text' in found) {
      await whisper(found.text);
      return {};
    }
    const { action, identity } = found;
    const checked = validateForm(action, submission.values, {
      cast: castParameter,
      validate: validateParameters,
    });
    if ('errors' in checked)
      return { errors: checked.errors, retry: buildForm(action, context, submission.values) };
    const chat: ChatOrigin = {
      adapter: adapter.name,
      channel: where.channel,
      thread: where.thread,
      user: { id: submission.user.id, name: submission.user.name },
      message: where.thread,
      card: true,
    };
    const run = chatRun(chat, identity, context.l);
    const audit: ChatCommandAudit = {
      id: newId(),
      kind: 'chat.command',
      timestamp: new Date().toISOString(),
      actor: identity.name,
      adapter: adapter.name,
      channel: where.channel,
      thread: where.thread || null,
      user: chat.user,
      text: `form ${action.ref}`,
      alias: context.l ?? null,
      execution_id: null,
      execution_ids: [],
      outcome: 'error',
      reply: null,
      ack_message_id: null,
    };
    const write = () => {
      void this.services.store.audit
        .insert(audit as never)
        .catch((err: unknown) =>
          this.services.logger.error({ err, audit }, 'could not write the audit record of a chat form'),
        );
      this.services.bus.publish('squall.chatops.command', audit);
    };
    let record: ExecutionRecord;
    try {
      record = await this.executions().request({
        action: action.ref,
        parameters: checked.parameters,
        context: run.context,
        user: identity.name,
        notify: run.notify,
      });
    } catch (err) {
      if (!(err instanceof SquallError)) throw err;
      audit.outcome = 'bad_parameters';
      audit.reply = err.message;
      write();
      // The schema passed but the run's own checks did not (a rendered default, a policy): say it in the form.
      const field = String(err.context.parameter ?? Object.keys(submission.values)[0] ?? '');
      return { errors: { [field]: err.message }, retry: buildForm(action, context, submission.values) };
    }
    audit.outcome = 'executed';
    audit.execution_id = record.id;
    audit.execution_ids.push(record.id);
    // The provider waits for the answer to the form (Slack: 3 s): the card goes up after it.
    void this.openCard(record, {
      adapter,
      channel: where.channel,
      thread: where.thread,
      action: action.ref,
      requester: chat.user,
      ...(where.thread ? { command: { channel: where.channel, messageId: where.thread } } : {}),
    })
      .then(async (cardId) => {
        audit.ack_message_id = cardId ?? null;
        audit.reply = `card of execution ${record.id}`;
        if (!cardId) await whisper(`Started ${action.ref} (${record.id}).`);
      })
      .catch((err: unknown) =>
        this.services.logger.error({ err, execution: record.id }, 'could not post the card of a form run'),
      )
      .finally(write);
    return {};
  }

  /** How to say an alias: its formats as people read them. */
  usage(alias: AliasLike): string {
    const shown = normaliseFormats(alias).map((f) => `${this.config.prefix}${humanDisplay(f.display)}`);
    return `Usage: ${shown.join('  or  ')}`;
  }

  /** st2 §5.4: nothing with ack.enabled false; ack.format rendered, else a phrase; the UI link appended. */
  /**
   * A built-in command (`!executions`, `!key get`…) said through another chat client: st2chatops'
   * hubot-stackstorm posts every command it matched to /aliasexecution, where the built-in's action
   * is a no-op. Its answer, computed as the API caller would see it; undefined for other aliases.
   */
  async builtinThroughApi(
    alias: AliasLike,
    params: AliasParameters,
    caller: { name: string; roles: string[] },
    chatUser: string,
  ): Promise<BuiltinAnswer | undefined> {
    const builtin = extraBuiltin(alias);
    if (!builtin) return undefined;
    // No `chat`: !link, whose one-time token must reach the asker alone, refuses to answer.
    const ctx: BuiltinContext = {
      services: this.services,
      executions: this.executions,
      identity: { name: caller.name, roles: caller.roles, mapped: true },
      chatUser: { id: chatUser, name: chatUser },
      prefix: this.config.prefix,
      aliases: this.aliases,
    };
    return runBuiltin(ctx, builtin, stripNulls(params));
  }

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
    return appendUrl ? `${text} (details available at ${executionWebUrl(webUrl, record.id)})` : text;
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
    const { text, fullText } = this.resultText(record, alias, adapter?.capabilities.maxMessageLength ?? 4000);
    await this.deliverer.send({
      target: { kind: 'chat', ...to },
      text,
      fullText,
      what: `result of execution ${record.id}`,
      execution_id: record.id,
    });
  }

  /**
   * The result message of `record` as st2's chatops.post_result would post it for a chat client
   * listening on the stream (hubot-stackstorm): null when its alias turns results off.
   */
  async resultMessage(
    record: ExecutionRecord,
  ): Promise<{ message: string; extra: Record<string, unknown> } | null> {
    const formatted = await this.formatResult(record);
    return formatted.enabled ? { message: formatted.message, extra: formatted.extra ?? {} } : null;
  }

  /**
   * st2's chatops.format_execution_result: `enabled` is false when the alias turns results off
   * (the message is then st2's default template, as st2 renders it anyway); `extra` is the alias's
   * `result.extra` with its strings rendered (st2: Slack attachments, thread_response), present
   * only when the alias has one.
   */
  async formatResult(
    record: ExecutionRecord,
  ): Promise<{ enabled: boolean; message: string; extra?: Record<string, unknown> }> {
    const alias = await this.aliasOf(record);
    const enabled = alias?.result?.enabled !== false;
    const shown = present(this.executions(), record);
    // st2 renders the alias's result.format, else its default template, whose text bots and
    // content get as is (st2-result.ts).
    let message: string;
    if (enabled && alias?.result?.format) {
      const { text, fullText } = this.resultText(record, alias, Infinity);
      message = fullText ?? text;
    } else message = st2DefaultResultMessage(shown as St2ExecutionView);
    if (!enabled || !alias?.result?.extra) return { enabled, message };
    const context = { execution: shown, alias };
    const source = `${aliasRef(alias)} result.extra`;
    const render = (value: unknown): unknown =>
      typeof value === 'string'
        ? renderTemplate(value, context, { source })
        : Array.isArray(value)
          ? value.map(render)
          : value && typeof value === 'object'
            ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v)]))
            : value;
    return { enabled, message, extra: render(alias.result.extra) as Record<string, unknown> };
  }

  /** `result.format` or the default layout, with a failure's reason when neither says it. */
  private resultText(
    record: ExecutionRecord,
    alias: AliasLike | null,
    max: number,
  ): { text: string; fullText?: string } {
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
    return { text, fullText };
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

/**
 * The context and notify of an execution a chat user starts (a command or a form): st2's
 * `source_channel`/`api_user`, the Squall user it runs as, where in chat it came from, and the
 * chat route its result goes to.
 */
function chatRun(chat: ChatOrigin, identity: SquallIdentity, alias?: string) {
  return {
    context: {
      source_channel: chat.channel,
      api_user: chat.user.name,
      user: identity.name,
      chat,
      ...(alias ? { action_alias_ref: alias } : {}),
    },
    notify: {
      'on-complete': {
        routes: ['chat'],
        data: { user: chat.user.name, source_channel: chat.channel, source_context: chat },
      },
    },
  };
}

function isFailed(status: string): boolean {
  return (FAILED_STATUSES as readonly string[]).includes(status);
}

/** Whether an alias answers in this channel: no `channels` list, or one naming it (bare or `<adapter>:`). */
function answersIn(alias: AliasLike, adapter: string, channel: string): boolean {
  return !alias.channels || alias.channels.some((c) => c === channel || c === `${adapter}:${channel}`);
}

/** The channels an alias answers in on `adapter` (bare ids, or `<adapter>:<id>`), not another platform's. */
function channelsOn(alias: AliasLike, adapter: string): string[] {
  return (alias.channels ?? []).filter((c) => !/^[a-z]+:/.test(c) || c.startsWith(`${adapter}:`));
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
