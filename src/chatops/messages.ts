import { NotFoundError, SquallError, ValidationError } from '../errors.js';
import type { AnnouncementRequest, Announcer } from '../runners/index.js';
import type { Services } from '../service/index.js';
import { traceHolding, type TraceContext } from '../traces/index.js';
import type { DeliveryTarget } from './delivery.js';
import type { ChatPipeline } from './pipeline.js';

/**
 * A stream route st2's announcement runner accepts (its `route`: 1..255 characters) that can also
 * be part of an event name (`st2.announcement__<route>`): AMQP routing-key words and dots.
 */
export const ANNOUNCEMENT_ROUTE = /^[A-Za-z0-9_.-]{1,255}$/;

/** What st2's announcement runner publishes for chatops.post_message, for a bot on the stream. */
export interface Announcement {
  channel: unknown;
  user: unknown;
  whisper: boolean;
  message: string;
  context: unknown;
  extra: unknown;
}

/** Publishes `payload` on the stream as `st2.announcement__<route>`; returns the event's name. */
export function announce(services: Services, route: string, payload: Announcement): string {
  const event = `st2.announcement__${route}`;
  services.bus.publish(event, { payload });
  return event;
}

/** The delivery targets of a configured route (a list fans out), or null when the route is unknown. */
export function routeTargets(services: Services, route: string): DeliveryTarget[] | null {
  const configured = services.config.chatops.routes[route];
  if (!configured) return null;
  const list = Array.isArray(configured) ? configured : [configured];
  return list.map((r, i) => {
    if (r.webhook) return { kind: 'webhook', url: r.webhook, headers: r.headers };
    if (r.adapter && r.channel)
      return { kind: 'chat', adapter: r.adapter, channel: r.channel, thread: r.thread };
    throw new SquallError(
      'CHAT_ROUTE_INVALID',
      `chatops.routes.${route}${Array.isArray(configured) ? `[${i}]` : ''} needs either "webhook" or both "adapter" and "channel"`,
      { route },
      500,
    );
  });
}

/** The first chat (adapter + channel) target of a route, for posting a message or a question. */
export function chatRouteTarget(
  services: Services,
  route: string,
): { adapter: string; channel: string; thread?: string } | null {
  const t = routeTargets(services, route)?.find((x) => x.kind === 'chat');
  return t && t.kind === 'chat' ? { adapter: t.adapter, channel: t.channel, thread: t.thread } : null;
}

/** A message to post as the bot: sdk.chat.postMessage, st2's chatops.post_message. */
export interface ChatMessage {
  route?: string;
  adapter?: string;
  channel?: string;
  thread?: string;
  thread_id?: string;
  message: string;
  user?: string;
  whisper?: boolean;
  context?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/**
 * st2's chatops.post_message for a channel no chat route names (the announcement runner): the
 * message goes on the stream as st2.announcement__<route>, which a bot (hubot-stackstorm) posts.
 * The event's name, or null when the route cannot name one.
 */
export function announceMessage(
  services: Services,
  b: { route?: string; channel?: string; user?: string; whisper?: boolean; context?: unknown },
  message: string,
  extra: Record<string, unknown> | undefined,
): string | null {
  const stream = b.route ?? 'chatops';
  if (!b.channel || !ANNOUNCEMENT_ROUTE.test(stream)) return null;
  return announce(services, stream, {
    channel: b.channel,
    user: b.user ?? null,
    whisper: Boolean(b.whisper),
    message,
    context: b.context ?? {},
    extra: extra ?? {},
  });
}

/**
 * Posts a message to an adapter's channel, or to the chat route `route` or `channel` names; a
 * channel no route names is announced on the stream for a bot, as st2 does.
 */
export async function postChatMessage(
  services: Services,
  pipeline: ChatPipeline,
  b: ChatMessage,
): Promise<Record<string, unknown>> {
  const thread = b.thread ?? b.thread_id;
  const text = b.user && !b.whisper ? `@${b.user}: ${b.message}` : b.message;
  if (b.adapter) {
    if (!b.channel)
      throw new ValidationError('body: "channel" is required with "adapter"', { adapter: b.adapter });
    const posted = await pipeline.postDirect(
      { adapter: b.adapter, channel: b.channel, thread, whisperTo: b.whisper ? b.user : undefined },
      text,
    );
    return { posted: true, ...posted };
  }
  // st2 content passes route "chatops" (the stream's) with the channel: a channel a route
  // names is posted there.
  const route =
    [b.route, b.channel].find((r) => r !== undefined && routeTargets(services, r)) ?? b.route ?? b.channel;
  if (!route) throw new ValidationError('body: give "route", or "adapter" and "channel"', {});
  const targets = routeTargets(services, route);
  const announced = !targets && announceMessage(services, b, b.message, b.extra);
  if (announced) return { posted: true, announced, channel: b.channel };
  if (!targets)
    throw new NotFoundError('Chat route', route, {
      hint: `configure chatops.routes.${route} ({adapter, channel} or {webhook})`,
    });
  const results: unknown[] = [];
  for (const target of targets) {
    if (target.kind === 'chat') {
      const posted = await pipeline.postDirect(
        { ...target, thread: thread ?? target.thread, whisperTo: b.whisper ? b.user : undefined },
        text,
      );
      results.push({ adapter: target.adapter, channel: target.channel, ...posted });
    } else {
      await pipeline.deliverer.send({ target, text, what: `message to route ${route}` });
      results.push({ webhook: target.url });
    }
  }
  return { posted: true, route, deliveries: results };
}

const optionalString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const optionalObject = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/**
 * The `announcement` runner's delivery in this process. st2 publishes the action's parameters on
 * its stream and a bot (hubot, errbot) posts what is a chat message; Squall's bot is in-process, so a
 * message (st2's chatops.post_message: `message` and `channel`) whose route or channel names a
 * `chatops.routes` entry is posted there, as the bundled post_message does. Anything else is
 * published as st2 does: `st2.announcement__<route>` with `{payload: <parameters>, trace_context}`.
 */
export function chatAnnouncer(services: Services, pipeline: () => ChatPipeline): Announcer {
  return {
    apiUrl: () => services.apiUrl,
    async announce({ route, payload, actionRef, executionId }: AnnouncementRequest) {
      if (!ANNOUNCEMENT_ROUTE.test(route))
        throw new ValidationError(
          `runner parameter "route" of action ${actionRef} must be 1 to 255 letters, digits, "_", "-" or "." (it names the stream event st2.announcement__<route>), not ${JSON.stringify(route)}`,
          { action: actionRef, route },
        );
      const channel = optionalString(payload.channel);
      if (
        typeof payload.message === 'string' &&
        [route, channel].some((r) => r !== undefined && routeTargets(services, r))
      )
        return postChatMessage(services, pipeline(), {
          route,
          channel,
          message: payload.message,
          user: optionalString(payload.user),
          whisper: payload.whisper === true,
          thread_id: optionalString(payload.thread_id),
          context: optionalObject(payload.context),
          extra: optionalObject(payload.extra),
        });
      const event = `st2.announcement__${route}`;
      services.bus.publish(event, {
        payload,
        trace_context: await executionTraceContext(services, executionId),
      });
      return { announced: event };
    },
  };
}

/**
 * The trace an announcement goes out in, as st2's announcement runner dispatches it with its
 * execution's trace context, so that what a consumer does with it can join that trace: the trace
 * holding the execution, else the one its context names (its trace may be recorded a moment after
 * it is requested), else null as st2's.
 */
async function executionTraceContext(services: Services, executionId: string): Promise<TraceContext | null> {
  const trace = await traceHolding(services, 'action_executions', executionId);
  if (trace) return { trace_id: trace.id, trace_tag: trace.trace_tag };
  const execution = await services.store.executions.get(executionId);
  return (execution?.context.trace_context as TraceContext | undefined) ?? null;
}
