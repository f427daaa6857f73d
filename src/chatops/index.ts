import type { SquallConfig } from '../config/index.js';
import { authorize, requestUser } from '../api/index.js';
import { SquallError } from '../errors.js';
import type { ExecutionService } from '../executions/index.js';
import { hasRole, type Subsystem, type Services } from '../service/index.js';
import type { ChatAdapter } from './adapter.js';
import { authRoles } from './identity.js';
import { Leases } from '../scale/index.js';
import { ChatConnections } from './connections.js';
import { ChatNotifier } from './notify.js';
import { ChatPipeline } from './pipeline.js';
import { chatopsRoutes } from './routes.js';
import { chatAnnouncer, routeTargets } from './messages.js';
import { registerAnnouncer } from '../runners/index.js';
import { afterSync } from './delivery.js';
import { chatLinkRoutes } from './link-routes.js';
import { beforeLeavingProcess } from '../store/index.js';
import type { ChatTransports } from './registry.js';

export * from './adapter.js';
export {
  FORM_PAYLOAD_PREFIX,
  type ChatForm,
  type FormField,
  type FormHandlers,
  type FormOutcome,
  type FormReply,
  type FormRequest,
  type FormSubmission,
} from './forms.js';
export { SquallError } from '../errors.js';
/** chatops.slack and chatops.discord, as the transports in adapters/ read them. */
export type SlackChatConfig = SquallConfig['chatops']['slack'];
export type DiscordChatConfig = SquallConfig['chatops']['discord'];
export type { RouteModule, ApiRouter, RouteContext } from '../api/index.js';
export { ChatPipeline, type ChatCommandAudit, type CommandOutcome, type ChatOrigin } from './pipeline.js';
export { ChatNotifier, CHAT_ROUTES } from './notify.js';
export { routeTargets, chatRouteTarget } from './messages.js';
export { CARD_DENY, LiveAcks } from './live.js';
export {
  DENY_BUTTON,
  approvalSchemaField,
  approvalVerdict,
  deniedLine,
  utcClock,
  type AnsweredAsk,
} from './card.js';
export { Deliverer, postLong, DELIVER_JOB, type Delivery, type DeliveryTarget } from './delivery.js';
export { chatStateStore } from './state.js';
export { authRoles, resolveIdentity, type SquallIdentity, type RolesLookup } from './identity.js';
export { ChatLinks, chatLinkId, type ChatLinkPreview } from './links.js';
export { BUILTIN_NAMES, helpReply, runBuiltin } from './builtins.js';
export {
  ChatConnections,
  LeasedAdapter,
  chatAdapterIdentity,
  type ChatConnectionStatus,
  type ChatHealth,
} from './connections.js';

export interface ChatopsOptions {
  /**
   * The chat transports of this process (adapters/slack, adapters/discord, adapters/shell), with
   * those left off and why (chatTransports).
   */
  adapters?:
    | ChatAdapter[]
    | ((services: Services) => ChatAdapter[] | ChatTransports | Promise<ChatAdapter[] | ChatTransports>);
}

export interface ChatopsSubsystem extends Subsystem {
  pipeline(): ChatPipeline;
  notifier(): ChatNotifier;
}

/**
 * ChatOps in a running process (st2-reference.md §5): with the `chat` role it connects the
 * adapters (a bot account in one process at a time, connections.ts), answers commands and posts
 * results and notifications; every process serves the alias and chat API routes and posts
 * through whichever process is connected. Start it after content and executions.
 */
export function chatopsSubsystem(
  executions: () => ExecutionService,
  options: ChatopsOptions = {},
): ChatopsSubsystem {
  let pipeline: ChatPipeline | undefined;
  let notifier: ChatNotifier | undefined;
  let connections: ChatConnections | undefined;
  let timer: NodeJS.Timeout | undefined;
  const unsubscribe: Array<() => void> = [];
  const active = (services: Services) => services.config.chatops.enable && hasRole(services.config, 'chat');
  const need = <T>(value: T | undefined): T => {
    if (!value) throw new SquallError('NOT_READY', 'the chatops subsystem is not initialised yet', {}, 503);
    return value;
  };
  return {
    name: 'chatops',
    pipeline: () => need(pipeline),
    notifier: () => need(notifier),
    routes: (router, services) => {
      chatopsRoutes(() => need(pipeline), executions)(router, services);
      chatLinkRoutes(router, services, requestUser);
      router.add({
        method: 'get',
        path: '/api/v1/chatops/adapters',
        summary: 'The chat adapters, and which Squall process is connected to each bot',
        tag: 'chatops',
        handler: async ({ req }) => {
          authorize(services, req, 'action_alias_list');
          return need(connections).statuses();
        },
      });
    },
    async init(services: Services) {
      for (const route of Object.keys(services.config.chatops.routes)) routeTargets(services, route);
      const rolesOf = authRoles(services);
      pipeline = new ChatPipeline(services, executions, new Map(), rolesOf);
      notifier = new ChatNotifier(services, executions, pipeline, rolesOf);
      pipeline.deliverer.define();
      unsubscribe.push(registerAnnouncer(chatAnnouncer(services, () => need(pipeline))));
      connections = new ChatConnections(
        services,
        new Leases({
          store: services.store,
          workerId: () => executions().workerId,
          ttlMs: services.config.leases.ttl_ms,
          heartbeatMs: services.config.executions.heartbeat_ms,
          logger: services.logger.child({ component: 'chatops' }),
        }),
      );
      const given =
        typeof options.adapters === 'function' ? await options.adapters(services) : (options.adapters ?? []);
      const { adapters, off } = Array.isArray(given) ? { adapters: given, off: [] } : given;
      connections.leftOff(off);
      (services.health ??= new Map()).set('chat', () => need(connections).health());
      for (const given of adapters) {
        if (pipeline.adapters.has(given.name))
          throw new SquallError('CHAT_ADAPTER_DUPLICATE', `two chat adapters are named "${given.name}"`, {
            adapter: given.name,
          });
        // A bot account is connected by one process; the others post through it.
        // Its posts wait for the store's fsync (afterSync).
        const adapter = afterSync(connections.wrap(given), () => beforeLeavingProcess(services.store));
        pipeline.attach(adapter);
        notifier.attach(adapter);
      }
    },
    async start(services: Services) {
      const p = need(pipeline);
      await p.reloadAliases();
      const reload = () =>
        void p
          .reloadAliases()
          .catch((err: unknown) => services.logger.error({ err }, 'reloading chat aliases failed'));
      unsubscribe.push(services.bus.subscribe(/^st2\.(actionalias|pack)__/, reload));
      timer = setInterval(reload, services.config.chatops.alias_reload_ms);
      timer.unref();
      if (!active(services)) return;
      p.live.start();
      await need(connections).start();
      services.logger.info(
        { adapters: [...p.adapters.keys()], aliases: p.enabledAliases().length },
        'chatops ready',
      );
    },
    async stop() {
      if (timer) clearInterval(timer);
      for (const u of unsubscribe.splice(0)) u();
      pipeline?.live.stop();
      await connections?.stop();
    },
  };
}
export {
  registerChatAdapter,
  chatTransports,
  configuredChatAdapters,
  registeredChatTransports,
  type ChatAdapterFactory,
  type ChatTransportOff,
  type ChatTransports,
} from './registry.js';
