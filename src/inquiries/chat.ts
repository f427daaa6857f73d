import {
  CARD_DENY,
  DENY_BUTTON,
  authRoles,
  chatRouteTarget,
  approvalSchemaField,
  approvalVerdict,
  deniedLine,
  resolveIdentity,
  type ButtonChoice,
  type ButtonPress,
  type ChatAdapter,
  type RolesLookup,
  utcClock,
} from '../chatops/index.js';
import { SquallError, errorMessage } from '../errors.js';
import { getExecutionService } from '../executions/index.js';
import type { Services } from '../service/index.js';
import { doOnce, type ClaimedWork, type ExecutionRecord } from '../store/index.js';
import type { Inquiry, InquiryPresenter, InquiryService } from './service.js';
import type { InquirySchema, PropertySchema } from './schema.js';
import { isInquiryPayload, signButtonPayload, verifyButtonPayload } from './signing.js';

/** The payload of a live card's buttons while its run goes (chatops/live.ts). */
const CARD_DENY_PAYLOAD = /^exec:cancel:([0-9a-zA-Z_-]+)$/;

export interface ChatTarget {
  adapter: string;
  channel: string;
  thread?: string;
}

export interface Prompt {
  question: string;
  choices: ButtonChoice[];
}

/** A value as typed after `key=` in a chat command: quoted when it has spaces (or is empty). */
function typed(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /\s|^$/.test(text) ? `"${text.replace(/"/g, "'")}"` : text;
}

/** An example answer for one property, in the `key=value` form the `respond` command takes. */
function exampleAnswer(name: string, p: PropertySchema): string {
  if (Array.isArray(p.enum) && p.enum.length) return `${name}=${typed(p.enum[0])}`;
  const type = Array.isArray(p.type) ? p.type.find((t) => t !== 'null') : p.type;
  const example =
    type === 'boolean'
      ? 'yes'
      : type === 'number' || type === 'integer'
        ? '1'
        : type === 'array'
          ? 'a,b'
          : type === 'object'
            ? '{"key":"value"}'
            : '"…"';
  return `${name}=${example}`;
}

/** How to answer by typing: `<prefix>respond <id> key=value …` (values coerced by the schema). */
export function respondHint(inquiry: Pick<Inquiry, 'id' | 'schema'>, prefix: string): string {
  const props = Object.entries(inquiry.schema?.properties ?? {});
  const only = props.length === 1 ? props[0] : undefined;
  const command = `${prefix}respond ${inquiry.id}`;
  if (only && only[1].type === 'boolean') return `Answer with: ${command} ${only[0]}=yes (or ${only[0]}=no)`;
  if (only && Array.isArray(only[1].enum) && only[1].enum.length > 1) {
    const [first, ...rest] = only[1].enum.map((v) => `${only[0]}=${typed(v)}`);
    return `Answer with: ${command} ${first} (or ${rest.join(', ')})`;
  }
  return `Answer with: ${command} ${props.map(([n, p]) => exampleAnswer(n, p)).join(' ')}`.trimEnd();
}

/** What a prompt says about the inquiry besides its question (all optional, for tests and old records). */
type PromptFacts = Pick<Inquiry, 'id' | 'schema' | 'approval'> &
  Partial<Pick<Inquiry, 'requester' | 'users' | 'roles' | 'expires_at'>>;

/** "in 25 min (16:40 UTC)", "in 23 h (16:40 UTC)", "in 3 days (5 Dec 16:40 UTC)". */
export function expiryText(expiresAt: string, now = Date.now()): string {
  const at = new Date(expiresAt);
  if (Number.isNaN(at.getTime())) return '';
  const minutes = Math.max(0, Math.round((at.getTime() - now) / 60_000));
  const clockAt = `${at.toISOString().slice(11, 16)} UTC`;
  if (minutes < 60) return `in ${minutes} min (${clockAt})`;
  if (minutes < 48 * 60) return `in ${Math.round(minutes / 60)} h (${clockAt})`;
  const day = at.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
  return `in ${Math.round(minutes / 1440)} days (${day} ${clockAt})`;
}

/** Who may answer: the inquiry's users and roles (st2: anyone may when both are empty). */
function approversText(inquiry: PromptFacts): string {
  const users = (inquiry.users ?? []).map((u) => `@${u}`);
  const roles = (inquiry.roles ?? []).map((r) => `anyone with role ${r}`);
  const all = [...users, ...roles];
  if (all.length === 0) return 'anyone allowed to respond to inquiries';
  return all.length === 1 ? all[0] : `${all.slice(0, -1).join(', ')} or ${all.at(-1)}`;
}

/**
 * The question and its buttons: a boolean schema gets Approve/Deny, an enum one button per value,
 * anything else the fields and how to answer them with the `respond` chat command. The text leads
 * with the question, then who asked, who may answer and when it expires; the id comes last.
 */
export function buildPrompt(inquiry: PromptFacts, prefix: string): Prompt {
  const schema: InquirySchema = inquiry.schema ?? {};
  const props = Object.entries(schema.properties ?? {});
  const first = props[0]?.[1];
  const question = schema.description ?? first?.description ?? 'Would you like to continue the workflow?';
  let choices: ButtonChoice[] = [];
  const approvalName = approvalSchemaField(schema);
  if (approvalName !== undefined) {
    const name = approvalName;
    choices = [
      { label: 'Approve', value: JSON.stringify({ [name]: true }), style: 'primary' },
      { ...DENY_BUTTON, value: JSON.stringify({ [name]: false }) },
    ];
  } else if (props.length === 1 && Array.isArray(first?.enum)) {
    const name = props[0][0];
    choices = first.enum.map((v) => ({ label: String(v), value: JSON.stringify({ [name]: v }) }));
  }
  const policy = inquiry.approval;
  const rules: string[] = [];
  if (policy?.quorum && policy.quorum > 1) rules.push(`${policy.quorum} different approvers needed`);
  if (policy?.different_from_requester) rules.push('the requester cannot approve');
  const approval = approvalName !== undefined;
  const requester = inquiry.requester?.chat?.user_name ?? inquiry.requester?.user;
  const expiry = inquiry.expires_at ? expiryText(inquiry.expires_at) : '';
  const facts = [
    requester ? `Requested by @${requester}` : undefined,
    `${approval ? 'Approvers' : 'Who may answer'}: ${approversText(inquiry)}`,
    expiry ? `expires ${expiry}` : undefined,
  ].filter(Boolean);
  const head = [
    `✋ ${approval ? 'Approval needed: ' : ''}${question}`,
    facts.join(' · '),
    ...(rules.length ? [`(${rules.join('; ')})`] : []),
  ];
  const tail = `Inquiry ${inquiry.id}`;
  if (choices.length) return { question: [...head, tail].join('\n'), choices };
  const fields = props
    .map(
      ([n, p]) =>
        `  ${n} (${String(p.type ?? 'any')}${p.enum ? `: ${p.enum.map(String).join('|')}` : ''})${p.description ? ` - ${p.description}` : ''}`,
    )
    .join('\n');
  return {
    question: [
      ...head,
      fields,
      respondHint(inquiry, prefix),
      `(or ${prefix}inquiry respond ${inquiry.id} {json})`,
      tail,
    ].join('\n'),
    choices: [],
  };
}

/**
 * How an answered prompt reads in chat: "✅ Approved by @alice · 16:40 UTC", "❌ Denied by …",
 * "⌛ Expired · …", or "✅ Answered by @alice · 16:40 UTC: reason=disk full, hosts=3". Undefined
 * when the inquiry does not say who decided.
 */
export function answeredLine(
  inquiry: Pick<Inquiry, 'decision' | 'responded_by' | 'responded_at' | 'response' | 'schema'>,
): string | undefined {
  const when = utcClock(inquiry.responded_at);
  const tail = when ? ` · ${when}` : '';
  if (inquiry.decision === 'timeout') return `⌛ Expired without an answer${tail}`;
  if (!inquiry.responded_by) return undefined;
  const by = `@${inquiry.responded_by}`;
  const verdict = approvalVerdict(inquiry);
  if (verdict === 'approve') return `✅ Approved by ${by}${tail}`;
  if (verdict === 'deny') return deniedLine(inquiry.responded_by, inquiry.responded_at);
  const fields = Object.entries((inquiry.response ?? {}) as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  return `✅ Answered by ${by}${tail}${fields ? `: ${fields}` : ''}`;
}

/**
 * Inquiries in chat: posts the prompt into the thread of the chat command that started the
 * workflow (or the inquiry's `route`), handles the button presses (signed payloads), and edits
 * the prompt once answered. See README.md for how an adapter's press reaches `press()`.
 */
export class InquiryChat implements InquiryPresenter {
  private rolesOf?: RolesLookup;

  constructor(
    private readonly services: Services,
    private readonly inquiries: InquiryService,
    private readonly adapters: () => Map<string, ChatAdapter>,
    private readonly key: Buffer,
  ) {}

  init(): void {
    this.rolesOf = authRoles(this.services);
  }

  /** Wires an adapter's button presses to inquiry answers (presses of other payloads are ignored). */
  attach(adapter: ChatAdapter): void {
    adapter.onButton((press) => this.press(adapter, press));
  }

  private log() {
    return this.services.logger.child({ component: 'inquiries.chat' });
  }

  private async originOf(inquiry: Inquiry): Promise<ChatTarget | null> {
    let current: ExecutionRecord | null = await this.services.store.executions.get(inquiry.id);
    for (let depth = 0; current && depth < 20; depth++) {
      const chat = current.context?.chat as
        { adapter?: string; channel?: string; thread?: string } | undefined;
      if (chat?.adapter && chat.channel)
        return { adapter: chat.adapter, channel: chat.channel, thread: chat.thread };
      current = current.parent ? await this.services.store.executions.get(current.parent) : null;
    }
    return null;
  }

  /** Where the prompt goes: a configured route named by the inquiry, else the originating thread. */
  async targetOf(inquiry: Inquiry): Promise<ChatTarget | null> {
    if (inquiry.route) {
      try {
        const routed = chatRouteTarget(this.services, inquiry.route);
        if (routed) return routed;
      } catch (err) {
        this.log().warn({ err, route: inquiry.route, inquiry: inquiry.id }, 'inquiry route is invalid');
      }
    }
    return this.originOf(inquiry);
  }

  /**
   * One prompt per inquiry, whichever process sees the pending event first; one killed after
   * claiming it leaves the claim open for the sweep to take over (promptWork).
   */
  async posted(inquiry: Inquiry): Promise<void> {
    const target = await this.targetOf(inquiry);
    if (!target || !this.adapters().get(target.adapter)) return;
    await doOnce(
      this.services.store,
      this.promptWork,
      inquiry.id,
      getExecutionService(this.services).workerId,
    );
  }

  /** A taker posts only while the inquiry is pending and has no prompt stored yet. */
  readonly promptWork: ClaimedWork = {
    prefix: 'inquiries:chat:',
    run: async (id, how) => {
      const inquiry = (await this.services.store.inquiries.get(id)) as unknown as Inquiry | null;
      if (!inquiry || inquiry.status !== 'pending' || inquiry.chat_prompt) return;
      const target = await this.targetOf(inquiry);
      const adapter = target && this.adapters().get(target.adapter);
      if (target && adapter) await this.prompt(inquiry, target, adapter, how?.resumed ?? false);
    },
  };

  /** The chat ids on `adapter` of the inquiry's users, from `chatops.users` (the requester left out). */
  private approverIds(inquiry: Inquiry, adapter: string): string[] {
    const wanted = new Set(inquiry.users ?? []);
    const requester = inquiry.requester?.chat?.user_id;
    return Object.entries(this.services.config.chatops.users)
      .filter(([key, user]) => key.startsWith(`${adapter}:`) && wanted.has(user))
      .map(([key]) => key.slice(adapter.length + 1))
      .filter((id) => id !== requester);
  }

  /**
   * Posts the prompt, keyed by its claim: a taker whose dead predecessor posted it but did not
   * store it (`resumed`) gets that post back instead of posting again.
   */
  private async prompt(
    inquiry: Inquiry,
    target: ChatTarget,
    adapter: ChatAdapter,
    resumed = false,
  ): Promise<void> {
    const once = { idempotencyKey: this.promptWork.prefix + inquiry.id, mayRepeat: resumed };
    const prompt = buildPrompt(inquiry, this.services.config.chatops.prefix);
    const buttons = prompt.choices.length > 0 && adapter.capabilities.buttons;
    const text = buttons
      ? prompt.question
      : prompt.choices.length
        ? `${prompt.question}\n${respondHint(inquiry, this.services.config.chatops.prefix)}`
        : prompt.question;
    const message = buttons
      ? await adapter.ask({
          channel: target.channel,
          thread: target.thread,
          question: text,
          choices: prompt.choices,
          payload: signButtonPayload(this.key, inquiry.id, new Date(inquiry.expires_at)),
          ...once,
          mentions: this.approverIds(inquiry, adapter.name),
        })
      : await adapter.post({ channel: target.channel, thread: target.thread, text, ...once });
    await this.services.store.inquiries.updateOne(
      { id: inquiry.id },
      {
        $set: {
          chat_prompt: {
            adapter: adapter.name,
            channel: target.channel,
            thread: target.thread ?? message.thread,
            messageId: message.messageId,
            question: text,
            choices: prompt.choices.map((c) => c.value),
          },
        },
      },
    );
  }

  async answered(inquiry: Inquiry, summary: string): Promise<void> {
    const record = (await this.services.store.inquiries.get(inquiry.id)) as unknown as Inquiry | null;
    const prompt = record?.chat_prompt;
    if (!prompt) return;
    const adapter = this.adapters().get(prompt.adapter);
    if (!adapter) return;
    if (inquiry.status === 'pending') {
      // A partial approval: the buttons stay for the next approver.
      await adapter.post({
        channel: prompt.channel,
        thread: prompt.thread,
        text: `Inquiry ${inquiry.id}: ${summary}`,
      });
      return;
    }
    // Who may approve and the expiry no longer matter: the question and the answer remain.
    const text = `${prompt.question.split('\n')[0]}\n${answeredLine(inquiry) ?? summary}`;
    // An edit without buttons replaces the prompt: nobody can press them any more.
    if (adapter.capabilities.updates)
      await adapter.update({ channel: prompt.channel, messageId: prompt.messageId, text });
    else
      await adapter.post({
        channel: prompt.channel,
        thread: prompt.thread,
        text: `Inquiry ${inquiry.id}: ${summary}`,
      });
  }

  /** A button was pressed: verify it, answer as the presser's Squall user, or explain the refusal. */
  async press(adapter: ChatAdapter, press: ButtonPress): Promise<void> {
    const cardDeny = CARD_DENY_PAYLOAD.exec(press.payload);
    if (!isInquiryPayload(press.payload) && !(cardDeny && press.value === CARD_DENY)) return;
    try {
      if (cardDeny) await this.denyFromCard(adapter, press, cardDeny[1]);
      else await this.answerButton(adapter, press);
    } catch (err) {
      if (!(err instanceof SquallError))
        this.log().error({ err, payload: press.payload }, 'handling an inquiry button failed');
      await adapter
        .post({
          channel: press.channel,
          thread: press.thread ?? press.messageId,
          text: `Sorry ${press.user.name}, your answer was not accepted: ${errorMessage(err)}`,
          whisperTo: press.user.id,
        })
        .catch((e: unknown) =>
          this.log().error({ err: e }, 'could not tell a chat user their answer was refused'),
        );
    }
  }

  private async answerButton(adapter: ChatAdapter, press: ButtonPress): Promise<void> {
    const id = verifyButtonPayload(this.key, press.payload);
    const record = (await this.services.store.inquiries.get(id)) as unknown as
      (Inquiry & { chat_prompt?: { choices?: string[] } }) | null;
    if (record?.chat_prompt?.choices && !record.chat_prompt.choices.includes(press.value)) {
      throw new SquallError(
        'INQUIRY_BUTTON_FORGED',
        `"${press.value}" is not one of the buttons of inquiry ${id}`,
        {
          inquiry: id,
        },
        403,
      );
    }
    let response: unknown;
    try {
      response = JSON.parse(press.value) as unknown;
    } catch {
      throw new SquallError(
        'INQUIRY_BUTTON_FORGED',
        `the button value of inquiry ${id} is not JSON`,
        { inquiry: id },
        400,
      );
    }
    await this.respondAs(adapter, press, id, response);
  }

  /**
   * Deny on the live card of a workflow waiting for approval: the same answer as the prompt's Deny
   * button, given to the workflow's pending approval (the policy and RBAC checks apply as usual).
   */
  private async denyFromCard(adapter: ChatAdapter, press: ButtonPress, root: string): Promise<void> {
    const pending = (await this.services.store.inquiries.find(
      { root, status: 'pending' },
      { sort: { created_at: 1 } },
    )) as unknown as Inquiry[];
    if (pending.length === 0)
      throw new SquallError(
        'INQUIRY_NOT_PENDING',
        `execution ${root} is no longer waiting for an approval`,
        { execution: root },
        409,
      );
    const inquiry = pending[0];
    const deny = buildPrompt(inquiry, this.services.config.chatops.prefix).choices.find(
      (c) => c.label === 'Deny',
    );
    if (!deny)
      throw new SquallError(
        'INQUIRY_NOT_APPROVAL',
        `inquiry ${inquiry.id} is not a yes/no approval: answer it in its thread`,
        { inquiry: inquiry.id },
        400,
      );
    await this.respondAs(adapter, press, inquiry.id, JSON.parse(deny.value) as unknown);
  }

  private async respondAs(adapter: ChatAdapter, press: ButtonPress, id: string, response: unknown) {
    const identity = await resolveIdentity(this.services, adapter.name, press.user, this.rolesOf);
    await this.inquiries.respond(id, response, {
      user: { name: identity.name, roles: identity.roles },
      via: 'chat',
      chat: {
        adapter: adapter.name,
        channel: press.channel,
        ...(press.thread ? { thread: press.thread } : {}),
        user: { id: press.user.id, name: press.user.name },
        mapped: identity.mapped,
      },
    });
  }
}
