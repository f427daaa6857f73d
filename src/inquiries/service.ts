import { NotFoundError, SquallError, errorMessage } from '../errors.js';
import {
  type ExecutionService,
  isCompleted,
  maskInquiryResponse,
  type ExecutionStatus,
} from '../executions/index.js';
import { newId } from '../ids.js';
import type { RunnerContext, RunnerResult } from '../runners/index.js';
import type { Services } from '../service/index.js';
import type { ExecutionRecord, InquiryRecord } from '../store/index.js';
import { dispatchTrigger } from '../triggers/index.js';
import { autoApproval, decisionOf, expiryMinutes, resolvePolicy, type ApprovalPolicy } from './policy.js';
import { DEFAULT_SCHEMA, coerceAnswers, validateResponse, type InquirySchema } from './schema.js';
import { splitRef } from '../names.js';

export const EXPIRE_JOB = 'inquiry.expire';
export const INQUIRY_TRIGGER = 'core.st2.generic.inquiry';

/** Where a response came from; goes into the audit trail. */
export type ResponseChannel = 'api' | 'cli' | 'ui' | 'chat' | 'deadline';

export interface ChatResponder {
  adapter: string;
  channel: string;
  thread?: string;
  user: { id: string; name: string };
  /** False when the chat user has no mapping and acts as `chatops.default_user`. */
  mapped: boolean;
}

export interface Responder {
  /** The Squall user (RBAC-effective). */
  user: { name: string; roles: string[] };
  via: ResponseChannel;
  chat?: ChatResponder;
}

export interface Requester {
  user: string;
  api_user?: string;
  chat?: { adapter: string; user_id?: string; user_name?: string };
}

/** The stored inquiry (collection `inquiries`, id = the core.ask execution id, as in st2). */
export interface Inquiry {
  id: string;
  status: 'pending' | 'succeeded' | 'failed' | 'timeout' | 'canceled' | 'abandoned';
  schema: InquirySchema;
  route: string;
  users: string[];
  roles: string[];
  ttl: number;
  /** The workflow execution that asked (st2 `parent`); absent for a standalone core.ask. */
  parent?: string;
  parent_ref?: string;
  root: string;
  requester: Requester;
  approval?: ApprovalPolicy;
  approvals: Array<{ approver: string; user: string; via: ResponseChannel; at: string }>;
  created_at: string;
  expires_at: string;
  response?: Record<string, unknown>;
  responded_by?: string;
  responded_at?: string;
  decision?: string;
  chat_prompt?: { adapter: string; channel: string; thread?: string; messageId: string; question: string };
}

export interface RespondOutcome {
  id: string;
  response: Record<string, unknown>;
  /** `pending` while a quorum is still short; otherwise the inquiry execution's final status. */
  status: string;
  approvals?: number;
  quorum?: number;
}

/** Something that shows an inquiry to people and reflects its answer (the chat part). */
export interface InquiryPresenter {
  posted(inquiry: Inquiry): Promise<void>;
  answered(inquiry: Inquiry, summary: string): Promise<void>;
}

const nowIso = () => new Date().toISOString();

function asArray(v: unknown): string[] {
  return Array.isArray(v) ? v.map((x) => String(x)) : [];
}

/**
 * Inquiries (st2-reference.md §7) with Squall's approval policies: asking (the inquirer runner),
 * answering (API, CLI, UI, chat), expiry, and the audit trail of every decision.
 */
export class InquiryService {
  private presenter?: InquiryPresenter;

  constructor(
    private readonly services: Services,
    private readonly executions: () => ExecutionService,
    private readonly resumeWorkflow?: (id: string) => Promise<unknown>,
  ) {}

  setPresenter(presenter: InquiryPresenter): void {
    this.presenter = presenter;
  }

  private get store() {
    return this.services.store;
  }

  private log() {
    return this.services.logger.child({ component: 'inquiries' });
  }

  // ---- asking -----------------------------------------------------------------------------

  /** The inquirer runner: records the inquiry, schedules its expiry, emits the trigger. */
  async ask(ctx: RunnerContext): Promise<RunnerResult> {
    const id = ctx.executionId;
    const rp = ctx.runnerParameters;
    const schema = (rp.schema as InquirySchema | undefined) ?? DEFAULT_SCHEMA;
    // A schema that cannot compile would make every response fail: refuse it up front.
    validateSchemaCompiles(schema, id);
    const ttl = Number(rp.ttl ?? 1440);
    if (!Number.isFinite(ttl) || ttl <= 0)
      throw new SquallError(
        'INQUIRY_TTL_INVALID',
        `core.ask ttl must be a positive number of minutes, got ${String(rp.ttl)}`,
        {
          execution: id,
        },
      );
    const exec = await this.executions().get(id);
    const parent = exec.parent ? await this.store.executions.get(exec.parent) : null;
    const root = await this.rootOf(exec);
    const aliasRef = (root.context.action_alias_ref ?? exec.context.action_alias_ref) as string | undefined;
    const alias = aliasRef ? await this.store.aliases.findOne({ ref: aliasRef }) : null;
    const extra = (alias?.extra ?? {}) as { approval?: unknown; squall?: { approval?: unknown } };
    const policy = resolvePolicy(extra.squall?.approval ?? extra.approval, ctx.actionParameters.approval);
    const chat = (exec.context.chat ?? root.context.chat) as
      { adapter?: string; user?: { id?: string; name?: string } } | undefined;
    const requester: Requester = {
      user: String(root.context.user ?? exec.context.user ?? 'stanley'),
      ...(root.context.api_user || exec.context.api_user
        ? { api_user: String(root.context.api_user ?? exec.context.api_user) }
        : {}),
      ...(chat?.adapter
        ? { chat: { adapter: chat.adapter, user_id: chat.user?.id, user_name: chat.user?.name } }
        : {}),
    };
    const route = String(rp.route ?? '');
    const users = asArray(rp.users);
    const roles = asArray(rp.roles);
    const minutes = expiryMinutes(ttl, policy);
    const created = new Date();
    const record: Inquiry = {
      id,
      status: 'pending',
      schema,
      route,
      users,
      roles,
      ttl,
      ...(parent ? { parent: parent.id, parent_ref: parent.action.ref } : {}),
      root: root.id,
      requester,
      ...(policy ? { approval: policy } : {}),
      approvals: [],
      created_at: created.toISOString(),
      expires_at: new Date(created.getTime() + minutes * 60_000).toISOString(),
    };
    // A replay of this run after a crash finds the record it wrote before.
    const existing = await this.store.inquiries.get(id);
    if (!existing) {
      await this.store.inquiries.insert(record as unknown as InquiryRecord);
      await this.services.scheduler.at(new Date(record.expires_at), EXPIRE_JOB, { id });
      try {
        await dispatchTrigger(this.services, {
          trigger: INQUIRY_TRIGGER,
          payload: { id, route },
          source: 'inquirer',
          ...(exec.context.trace_context ? { traceContext: exec.context.trace_context as never } : {}),
        });
      } catch (err) {
        // The inquiry works without the trigger (API, CLI, chat prompt); rules just miss it.
        this.log().error({ err, inquiry: id }, `could not emit ${INQUIRY_TRIGGER}`);
      }
    }
    return { status: 'pending', result: { schema, roles, users, route, ttl } };
  }

  private async rootOf(exec: ExecutionRecord): Promise<ExecutionRecord> {
    let current = exec;
    for (let depth = 0; depth < 20 && current.parent; depth++) {
      const up = await this.store.executions.get(current.parent);
      if (!up) break;
      current = up;
    }
    return current;
  }

  // ---- reading ----------------------------------------------------------------------------

  async get(id: string): Promise<Inquiry> {
    const record = await this.store.inquiries.get(id);
    if (!record)
      throw new NotFoundError('Inquiry', id, { hint: 'list pending inquiries with `squall inquiry list`' });
    return record as unknown as Inquiry;
  }

  async listPending(limit = 100, offset = 0): Promise<Inquiry[]> {
    const rows = await this.store.inquiries.find(
      { status: 'pending' },
      { sort: { created_at: -1 }, limit, skip: offset },
    );
    return rows as unknown as Inquiry[];
  }

  /** st2's InquiryResponseAPI shape, plus Squall's policy state. */
  present(inquiry: Inquiry): Record<string, unknown> {
    return {
      id: inquiry.id,
      schema: inquiry.schema,
      roles: inquiry.roles,
      users: inquiry.users,
      route: inquiry.route,
      ttl: inquiry.ttl,
      parent: inquiry.parent ?? null,
      status: inquiry.status,
      expires_at: inquiry.expires_at,
      ...(inquiry.approval
        ? {
            approval: inquiry.approval,
            approvals: inquiry.approvals.map((a) => ({ user: a.user, via: a.via, at: a.at })),
          }
        : {}),
      ...(inquiry.response !== undefined
        ? {
            response: maskInquiryResponse(inquiry.response, inquiry.schema),
            responded_by: inquiry.responded_by,
            responded_at: inquiry.responded_at,
          }
        : {}),
    };
  }

  // ---- answering --------------------------------------------------------------------------

  /** Who may answer: the users/roles lists (empty = anyone) and RBAC `inquiry_respond`. */
  private checkAllowed(inquiry: Inquiry, who: Responder): void {
    // RBAC first (st2 order): without inquiry_respond nobody gets as far as the lists.
    const parent = inquiry.parent_ref
      ? { uid: `action:${inquiry.parent_ref.replace('.', ':')}`, pack: splitRef(inquiry.parent_ref).pack }
      : undefined;
    this.services.rbac?.assertCan(who.user, 'inquiry_respond', {
      uid: `inquiry:${inquiry.id}`,
      ...(parent ? { parent } : {}),
    });
    const names = [who.user.name];
    if (who.chat) names.push(who.chat.user.name, `${who.chat.adapter}:${who.chat.user.id}`);
    if (
      inquiry.users.length &&
      !inquiry.users.some((u) => names.includes(u)) &&
      !this.roleAllows(inquiry, who)
    ) {
      throw new SquallError(
        'INQUIRY_NOT_ALLOWED',
        `${who.user.name} is not allowed to respond to inquiry ${inquiry.id} (allowed users: ${inquiry.users.join(', ')}${inquiry.roles.length ? `; roles: ${inquiry.roles.join(', ')}` : ''})`,
        { inquiry: inquiry.id, user: who.user.name },
        403,
      );
    }
    if (!inquiry.users.length && inquiry.roles.length && !this.roleAllows(inquiry, who)) {
      throw new SquallError(
        'INQUIRY_NOT_ALLOWED',
        `${who.user.name} has none of the roles allowed to respond to inquiry ${inquiry.id} (${inquiry.roles.join(', ')})`,
        { inquiry: inquiry.id, user: who.user.name, roles: who.user.roles },
        403,
      );
    }
  }

  private roleAllows(inquiry: Inquiry, who: Responder): boolean {
    return inquiry.roles.length > 0 && who.user.roles.some((r) => inquiry.roles.includes(r));
  }

  /** Is the responder the person who started the workflow? */
  private isRequester(inquiry: Inquiry, who: Responder): boolean {
    const r = inquiry.requester;
    if (
      who.chat &&
      r.chat &&
      who.chat.adapter === r.chat.adapter &&
      r.chat.user_id &&
      who.chat.user.id === r.chat.user_id
    )
      return true;
    // Unmapped chat users all act as chatops.default_user: that name says nothing about who it is.
    // A mapped one is their Squall user too: the run's user (who re-ran a chat run, say) is the
    // requester whatever chat user the run's context names.
    const shared = who.chat && !who.chat.mapped;
    return !shared && who.user.name === r.user;
  }

  /** A stable key per person, so a quorum counts people, not clicks. */
  private approverKey(who: Responder): string {
    return who.chat && !who.chat.mapped
      ? `chat:${who.chat.adapter}:${who.chat.user.id}`
      : `user:${who.user.name}`;
  }

  private async audit(
    inquiry: Inquiry,
    who: Responder | null,
    fields: { decision: string; outcome: string; reason?: string; response?: unknown },
  ): Promise<void> {
    await this.store.audit.insert({
      id: newId(),
      timestamp: nowIso(),
      kind: 'inquiry.decision',
      inquiry_id: inquiry.id,
      workflow_execution_id: inquiry.root,
      actor: who?.user.name ?? 'system',
      via: who?.via ?? 'deadline',
      ...(who?.chat
        ? {
            adapter: who.chat.adapter,
            channel: who.chat.channel,
            ...(who.chat.thread ? { thread: who.chat.thread } : {}),
            chat_user: who.chat.user.name,
            chat_user_id: who.chat.user.id,
          }
        : {}),
      decision: fields.decision,
      outcome: fields.outcome,
      ...(fields.reason ? { reason: fields.reason } : {}),
      details: { response: fields.response ?? null, approval: inquiry.approval ?? null },
    });
    this.services.bus.publish('squall.inquiry.decision', {
      inquiry_id: inquiry.id,
      actor: who?.user.name ?? 'system',
      decision: fields.decision,
      outcome: fields.outcome,
    });
  }

  /**
   * Answers an inquiry (st2 PUT /inquiries/{id}). Refusals are audited and thrown (403 not
   * allowed, 400 invalid/not pending, 409 already decided). Under an approval policy an approval
   * may only be recorded (quorum not reached yet); a deny completes the ask as `failed`.
   */
  async respond(id: string, response: unknown, who: Responder): Promise<RespondOutcome> {
    const inquiry = await this.get(id);
    const refuse = async (err: SquallError, decision = 'respond'): Promise<never> => {
      await this.audit(inquiry, who, { decision, outcome: 'denied', reason: err.message, response });
      throw err;
    };
    if (inquiry.status !== 'pending') {
      return refuse(
        new SquallError(
          'INQUIRY_NOT_PENDING',
          `Inquiry ${id} is ${inquiry.status} and can no longer be answered`,
          { inquiry: id, status: inquiry.status },
          400,
        ),
      );
    }
    try {
      this.checkAllowed(inquiry, who);
    } catch (err) {
      if (err instanceof SquallError) return refuse(err);
      throw err;
    }
    try {
      validateResponse(inquiry.schema, response, id);
    } catch (err) {
      if (err instanceof SquallError) return refuse(err);
      throw err;
    }
    const answer = response as Record<string, unknown>;
    const policy = inquiry.approval;
    if (!policy) return this.finish(inquiry, 'succeeded', answer, who, 'respond');
    const decision = decisionOf(inquiry.schema, answer, policy);
    if (decision === 'deny') return this.finish(inquiry, 'failed', answer, who, 'deny');
    if (policy.different_from_requester && this.isRequester(inquiry, who)) {
      return refuse(
        new SquallError(
          'INQUIRY_REQUESTER_CANNOT_APPROVE',
          `${who.chat?.user.name ?? who.user.name} started this workflow and cannot also approve it (approval policy: different_from_requester)`,
          { inquiry: id, user: who.user.name },
          403,
        ),
        'approve',
      );
    }
    const quorum = policy.quorum ?? 1;
    if (quorum > 1) {
      const key = this.approverKey(who);
      // Claims are the only cross-process exclusion the stores give: one approval per person.
      if (!(await this.store.claim(`inquiry:${id}:approval:${key}`, who.user.name))) {
        return refuse(
          new SquallError(
            'INQUIRY_ALREADY_APPROVED',
            `${who.chat?.user.name ?? who.user.name} already approved inquiry ${id}; ${quorum} different approvers are needed`,
            { inquiry: id, approver: key },
            409,
          ),
          'approve',
        );
      }
      const at = nowIso();
      await this.audit(inquiry, who, { decision: 'approve', outcome: 'approval_recorded', response: answer });
      await this.store.inquiries.updateOne(
        { id },
        {
          $push: {
            approvals: { approver: key, user: who.chat?.user.name ?? who.user.name, via: who.via, at },
          },
        },
      );
      const count = await this.store.audit.count({
        kind: 'inquiry.decision',
        inquiry_id: id,
        outcome: 'approval_recorded',
      });
      if (count < quorum) {
        await this.presenter
          ?.answered(
            {
              ...inquiry,
              approvals: [...inquiry.approvals, { approver: key, user: who.user.name, via: who.via, at }],
            },
            `${who.chat?.user.name ?? who.user.name} approved (${count} of ${quorum})`,
          )
          .catch((err: unknown) => this.log().warn({ err, inquiry: id }, 'could not update the chat prompt'));
        return { id, response: answer, status: 'pending', approvals: count, quorum };
      }
      const outcome = await this.finish(
        inquiry,
        'succeeded',
        answer,
        who,
        'approve',
        `quorum of ${quorum} reached`,
      );
      return { ...outcome, approvals: count, quorum };
    }
    return this.finish(inquiry, 'succeeded', answer, who, 'approve');
  }

  /**
   * Answers with typed `key=value` answers (the `respond` chat command): coerced by the schema's
   * property types, then answered like any response. An answer that cannot be coerced is refused
   * and audited like one that fails the schema.
   */
  async respondWithAnswers(
    id: string,
    answers: Record<string, string>,
    who: Responder,
  ): Promise<RespondOutcome> {
    const inquiry = await this.get(id);
    // Not pending: respond() refuses it with the reason that matters, whatever was typed.
    if (inquiry.status !== 'pending') return this.respond(id, answers, who);
    let response: Record<string, unknown>;
    try {
      response = coerceAnswers(inquiry.schema, answers, id);
    } catch (err) {
      if (err instanceof SquallError)
        await this.audit(inquiry, who, {
          decision: 'respond',
          outcome: 'denied',
          reason: err.message,
          response: answers,
        });
      throw err;
    }
    return this.respond(id, response, who);
  }

  /** Ends the inquiry once (store claim), completes its execution and tells the chat prompt. */
  private async finish(
    inquiry: Inquiry,
    status: ExecutionStatus & Inquiry['status'],
    response: Record<string, unknown>,
    who: Responder | null,
    decision: string,
    reason?: string,
  ): Promise<RespondOutcome> {
    const id = inquiry.id;
    if (!(await this.store.claim(`inquiry:${id}:decided`, who?.user.name ?? 'system'))) {
      const err = new SquallError(
        'INQUIRY_ALREADY_ANSWERED',
        `Inquiry ${id} was answered by someone else a moment ago`,
        { inquiry: id },
        409,
      );
      await this.audit(inquiry, who, { decision, outcome: 'denied', reason: err.message, response });
      throw err;
    }
    const at = nowIso();
    const by = who ? (who.chat?.user.name ?? who.user.name) : 'deadline';
    const updated = (await this.store.inquiries.updateOne(
      { id },
      { $set: { status, response, responded_by: by, responded_at: at, decision } },
    )) as unknown as Inquiry | null;
    await this.audit(inquiry, who, { decision, outcome: 'accepted', reason, response });
    await this.services.scheduler
      .cancel({ name: EXPIRE_JOB, data: { id } })
      .catch((err: unknown) => this.log().warn({ err, inquiry: id }, 'could not cancel the expiry job'));
    const result: Record<string, unknown> = { response };
    if (decision === 'deny') result.error = `Denied by ${by}`;
    if (status === 'timeout')
      result.error = `Inquiry ${id} expired at ${inquiry.expires_at} without a response`;
    const exec = await this.store.executions.get(id);
    if (exec && !isCompleted(exec.status))
      await this.executions().completeExternally(id, status, result, reason ?? `${decision} by ${by}`);
    await this.resumeRoot(inquiry);
    const summary =
      decision === 'timeout'
        ? `Expired at ${at} without an answer`
        : `${decision === 'deny' ? 'Denied' : decision === 'approve' ? 'Approved' : 'Answered'} by ${by} (${who?.via ?? 'deadline'}) at ${at}: ${JSON.stringify(response)}`;
    await this.presenter
      ?.answered(updated ?? { ...inquiry, status, response }, summary)
      .catch((err: unknown) => this.log().warn({ err, inquiry: id }, 'could not update the chat prompt'));
    return { id, response, status };
  }

  /**
   * st2 resumes the root workflow once its inquiry is answered: the engine paused it when the ask
   * went pending, and a paused workflow does not schedule the tasks after the ask by itself.
   */
  private async resumeRoot(inquiry: Inquiry): Promise<void> {
    if (!inquiry.parent || !this.resumeWorkflow) return;
    const root = await this.store.executions.get(inquiry.root);
    if (!root || !['paused', 'pausing'].includes(root.status)) return;
    try {
      await this.resumeWorkflow(root.id);
    } catch (err) {
      // Resumed meanwhile by someone else (or by the engine itself): nothing left to do.
      if (
        err instanceof SquallError &&
        ['WORKFLOW_NOT_PAUSED', 'ILLEGAL_TRANSITION', 'STATUS_CHANGED'].includes(err.code)
      ) {
        this.log().debug({ err, workflow: root.id }, 'workflow was already resumed');
        return;
      }
      throw err;
    }
  }

  /** The expiry job: the policy's default outcome (st2: `timeout`) for an unanswered inquiry. */
  async expire(id: string): Promise<void> {
    const record = await this.store.inquiries.get(id);
    if (!record || record.status !== 'pending') return;
    const inquiry = record as unknown as Inquiry;
    const outcome = inquiry.approval?.on_deadline ?? 'timeout';
    try {
      if (outcome === 'approve')
        await this.finish(
          inquiry,
          'succeeded',
          autoApproval(inquiry.schema, inquiry.approval),
          null,
          'approve',
          'deadline passed: approved by policy',
        );
      else if (outcome === 'deny')
        await this.finish(inquiry, 'failed', {}, null, 'deny', 'deadline passed: denied by policy');
      else
        await this.finish(
          inquiry,
          'timeout',
          {},
          null,
          'timeout',
          `no response within ${inquiry.ttl} minutes`,
        );
    } catch (err) {
      if (err instanceof SquallError && err.code === 'INQUIRY_ALREADY_ANSWERED') return;
      throw err;
    }
  }

  /** The ask execution ended without us (workflow canceled, abandoned): the inquiry follows. */
  async executionCompleted(e: ExecutionRecord): Promise<void> {
    if (String(e.runner?.name) !== 'inquirer') return;
    const record = await this.store.inquiries.get(e.id);
    if (!record || record.status !== 'pending') return;
    const inquiry = record as unknown as Inquiry;
    await this.store.inquiries.updateOne({ id: e.id, status: 'pending' }, { $set: { status: e.status } });
    await this.services.scheduler
      .cancel({ name: EXPIRE_JOB, data: { id: e.id } })
      .catch((err: unknown) => this.log().warn({ err, inquiry: e.id }, 'could not cancel the expiry job'));
    await this.presenter
      ?.answered({ ...inquiry, status: e.status as Inquiry['status'] }, `The inquiry was ${e.status}`)
      .catch((err: unknown) =>
        this.log().warn({ err: errorMessage(err), inquiry: e.id }, 'could not update the chat prompt'),
      );
  }

  /** Posts a newly pending inquiry where people will see it (chat), once. */
  async announce(id: string): Promise<void> {
    if (!this.presenter) return;
    const record = await this.store.inquiries.get(id);
    if (!record || record.status !== 'pending') return;
    await this.presenter.posted(record as unknown as Inquiry);
  }
}

function validateSchemaCompiles(schema: InquirySchema, id: string): void {
  try {
    validateResponse(schema, {}, id);
  } catch (err) {
    if (err instanceof SquallError && err.code === 'INQUIRY_RESPONSE_INVALID') return;
    throw err;
  }
}
