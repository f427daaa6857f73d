import { SquallError, errorMessage } from '../errors.js';
import type { ExecutionService } from '../executions/index.js';
import { newId } from '../ids.js';
import type { NotifyDelivery, RouteNotification } from '../notifier/index.js';
import type { Services } from '../service/index.js';
import type { ButtonPress, ChatAdapter } from './adapter.js';
import { runBuiltin } from './builtins.js';
import { resolveIdentity, type RolesLookup } from './identity.js';
import { CARD_DENY } from './live.js';
import { CHOICE_PAYLOAD_PREFIX, type ChatPipeline } from './pipeline.js';
import { splitRef } from '../names.js';
import type { RuleRecord } from '../content/index.js';
import { announce, routeTargets } from './messages.js';

/** Notify routes that mean "the chat thread the command came from" (st2's hubot route). */
export const CHAT_ROUTES = ['chat', 'hubot', 'chatops'];

/**
 * Chat's side of notifications (st2 §13.4, §5.5): the notifier (src/notifier) hands it each
 * rendered notify route, which it posts to the originating thread for the chat route and to
 * `chatops.routes` targets (a chat channel or a webhook) otherwise. Pending inquiries are put in
 * front of people by src/inquiries (InquiryChat).
 */
export class ChatNotifier implements NotifyDelivery {
  constructor(
    private readonly services: Services,
    private readonly executions: () => ExecutionService,
    private readonly pipeline: ChatPipeline,
    private readonly rolesOf?: RolesLookup,
  ) {}

  /** Wires button presses of an adapter to inquiry responses. */
  attach(adapter: ChatAdapter): void {
    adapter.onButton((press) => {
      // Signed inquiry buttons belong to src/inquiries, which listens on the same adapter.
      if (String(press.payload).startsWith('sqinq1.')) return;
      // A card's Deny answers the workflow's inquiry: src/inquiries handles it.
      if (press.value === CARD_DENY) return;
      if (String(press.payload).startsWith('exec:')) return this.executionButton(adapter, press);
      // The pick among an ambiguous command's aliases: the pipeline runs it.
      if (String(press.payload).startsWith(CHOICE_PAYLOAD_PREFIX)) return;
      return this.pressed(adapter, press);
    });
  }

  private log() {
    return this.services.logger.child({ component: 'chatops.notify' });
  }

  /** Delivers one notify route: the chat thread the command came from, or the configured targets. */
  async deliver({ record, route, message, data, key, resumed }: RouteNotification): Promise<void> {
    if (CHAT_ROUTES.includes(route) && !this.services.config.chatops.routes[route]) {
      if (record.context?.chat) await this.pipeline.postResult(record);
      else await this.announce(record, route, data);
      return;
    }
    const targets = routeTargets(this.services, route);
    if (!targets) {
      this.log().warn(
        { route, execution: record.id },
        `notify route "${route}" is not configured under chatops.routes`,
      );
      await this.services.store.audit.insert({
        id: newId(),
        timestamp: new Date().toISOString(),
        kind: 'chat.delivery',
        outcome: 'unknown_route',
        what: `notify ${route} for ${record.id}`,
        route,
      });
      return;
    }
    for (const [n, target] of targets.entries()) {
      const max =
        target.kind === 'chat'
          ? (this.pipeline.adapters.get(target.adapter)?.capabilities.maxMessageLength ?? 4000)
          : Infinity;
      await this.pipeline.deliverer.send({
        target,
        text: message.length > max ? message.slice(0, max - 1) + '…' : message,
        fullText: message,
        data: {
          ...(data as object),
          route,
          execution_id: record.id,
          status: record.status,
          action_ref: record.action.ref,
        },
        what: `notify ${route} for ${record.id}`,
        execution_id: record.id,
        idempotencyKey: `${key}:${n}`,
        mayRepeat: resumed,
      });
    }
  }

  /**
   * A chat route of an execution no Squall adapter started (a bot on the API: st2chatops'
   * hubot-stackstorm sends `POST /aliasexecution` with route `hubot`): as st2's chatops pack does
   * (rule chatops.notify → chatops.post_result → the announcement runner), the result goes on the
   * stream as `st2.announcement__chatops`, which the bot posts in the channel.
   */
  private async announce(record: RouteNotification['record'], route: string, data: unknown): Promise<void> {
    const d = (data ?? {}) as { user?: unknown; source_channel?: unknown; source_context?: unknown };
    // Nowhere to post it (notify data without a channel): a bot would post to a room "null".
    if (!d.source_channel) return;
    if (await this.postedByRule(route)) return;
    const result = await this.pipeline.resultMessage(record);
    if (result === null) return;
    announce(this.services, 'chatops', {
      channel: d.source_channel,
      user: d.user ?? null,
      whisper: false,
      message: result.message,
      context: d.source_context ?? {},
      extra: result.extra,
    });
  }

  /**
   * Whether st2's own chatops pack, installed over the bundled one, posts this route's result: its
   * `chatops.notify` rule (core.st2.generic.notifytrigger, `trigger.route` equals "hubot") runs
   * `chatops.post_result`, which announces it. Announcing it here too put every result in the bot's
   * room twice. Any enabled rule on the notify trigger that runs `chatops.post_result` counts, unless
   * its `trigger.route` criterion names another route. One read, for bot-started executions only.
   */
  private async postedByRule(route: string): Promise<boolean> {
    const rules = await this.services.store.rules.find({
      'trigger.type': 'core.st2.generic.notifytrigger',
      enabled: true,
    });
    return rules.some((record) => {
      const rule = record as Partial<Pick<RuleRecord, 'action' | 'criteria'>>;
      if (rule.action?.ref !== 'chatops.post_result') return false;
      const onRoute = rule.criteria?.['trigger.route'];
      return !onRoute || !['equals', 'eq'].includes(String(onRoute.type)) || onRoute.pattern === route;
    });
  }

  /**
   * Cancel / Re-run under a chat-started execution: the presser acts as their Squall user, needs
   * `execution_stop` / `execution_rerun` on the action, and every press is audited.
   */
  async executionButton(adapter: ChatAdapter, press: ButtonPress): Promise<void> {
    const m = /^exec:(cancel|rerun):([0-9a-zA-Z_-]+)$/.exec(String(press.payload));
    const thread = press.thread ?? press.messageId;
    const where = { kind: 'chat' as const, adapter: adapter.name, channel: press.channel, thread };
    const audit: Record<string, unknown> & { outcome: string; reply: string | null } = {
      id: newId(),
      timestamp: new Date().toISOString(),
      kind: 'chat.button',
      actor: '',
      adapter: adapter.name,
      channel: press.channel,
      thread,
      user: { id: press.user.id, name: press.user.name },
      what: String(press.payload).slice(0, 200),
      execution_id: m?.[2] ?? null,
      outcome: 'error',
      reply: null,
    };
    const say = async (text: string, whisper = false) => {
      audit.reply ??= text.slice(0, 1000);
      await this.pipeline.deliverer.send({
        target: whisper ? { ...where, whisperTo: press.user.id } : where,
        text,
        what: `button ${press.payload}`,
      });
    };
    try {
      if (!m) {
        audit.outcome = 'bad_button';
        await say(`Sorry ${press.user.name}, I don't know that button.`, true);
        return;
      }
      const [, verb, id] = m;
      const identity = await resolveIdentity(this.services, adapter.name, press.user, this.rolesOf);
      audit.actor = identity.name;
      const record = await this.executions().get(id);
      const { pack, name } = splitRef(record.action.ref);
      const permission = verb === 'cancel' ? 'execution_stop' : 'execution_rerun';
      try {
        this.services.rbac?.assertCan({ name: identity.name, roles: identity.roles }, permission, {
          uid: `action:${pack}:${name}`,
          pack,
        });
      } catch (err) {
        if (!(err instanceof SquallError) || err.status !== 403) throw err;
        audit.outcome = 'forbidden';
        await say(
          `Sorry ${press.user.name}, you (as Squall user "${identity.name}") may not ${verb === 'cancel' ? 'cancel' : 're-run'} execution ${id}: ${err.message}`,
          true,
        );
        return;
      }
      if (verb === 'cancel') {
        const updated = await this.executions().cancel(id, identity.name);
        audit.outcome = 'canceled';
        // The card shows who canceled it; nothing else is posted.
        audit.reply = `${press.user.name} canceled execution ${id} (${updated.status}).`;
        this.pipeline.live.noteCanceled(id, press.user.name);
        return;
      }
      // One re-run per card, however many clicks (and processes) there are.
      const pressed = { adapter, channel: press.channel, thread, messageId: press.messageId };
      if (!(await this.pipeline.live.claimRerun(id, press.user.name, pressed))) {
        audit.outcome = 'already_rerun';
        await say(`Execution ${id} was already re-run from this card.`, true);
        return;
      }
      // The presser asked for this run: theirs is the chat user its approvals see as the requester.
      const origin = record.context?.chat as object | undefined;
      const presser = origin
        ? {
            chat: { ...origin, user: { id: press.user.id, name: press.user.name } },
            api_user: press.user.name,
          }
        : {};
      const rerun = await this.executions().rerun(id, identity.name, {}, undefined, presser);
      audit.outcome = 'rerun';
      audit.rerun_id = rerun.id;
      audit.reply = `${press.user.name} re-ran execution ${id} as execution ${rerun.id}.`;
      const cardId = await this.pipeline.live.open(rerun.id, rerun.status, {
        adapter,
        channel: press.channel,
        thread,
        action: rerun.action.ref,
        requester: { id: press.user.id, name: press.user.name },
      });
      if (!cardId) await say(audit.reply);
    } catch (err) {
      audit.outcome = 'error';
      this.log().error({ err, payload: press.payload }, 'handling an execution button failed');
      await say(`Sorry ${press.user.name}, that did not work: ${errorMessage(err)}`, true).catch(
        () => undefined,
      );
    } finally {
      await this.services.store.audit
        .insert(audit as never)
        .catch((err: unknown) => this.log().error({ err, audit }, 'could not audit a chat button press'));
    }
  }

  private async pressed(adapter: ChatAdapter, press: ButtonPress): Promise<void> {
    const where = {
      kind: 'chat' as const,
      adapter: adapter.name,
      channel: press.channel,
      thread: press.thread,
    };
    try {
      const identity = await resolveIdentity(this.services, adapter.name, press.user, this.rolesOf);
      const answer = await runBuiltin(
        {
          services: this.services,
          executions: this.executions,
          identity,
          chatUser: press.user,
          prefix: this.services.config.chatops.prefix,
          aliases: this.pipeline.enabledAliases(),
        },
        'inquiry_respond',
        { id: press.payload, response: press.value },
      );
      await this.pipeline.deliverer.send({
        target: where,
        text: answer.text,
        what: `button answer ${press.payload}`,
      });
    } catch (err) {
      this.log().error({ err, inquiry: press.payload }, 'handling a button press failed');
      await this.pipeline.deliverer.send({
        target: where,
        text: `Sorry ${press.user.name}, your answer could not be recorded: ${errorMessage(err)}`,
        what: `button failure ${press.payload}`,
      });
    }
  }
}
