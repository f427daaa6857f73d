import type { SquallConfig } from './config/index.js';
import {
  actsForOthers,
  assertCan,
  authSubsystem,
  executionVisibilityFilter,
  issueExecutionToken,
  kvSettings,
  revokeExecutionToken,
} from './auth/index.js';
import { contentSubsystem, renderPackConfig } from './content/index.js';
import { type ExecutionDeps, type ExecutionService, executionsSubsystem } from './executions/index.js';
import {
  datastoreGet,
  getKeyValueService,
  kvSubsystem,
  loadOrCreateKey,
  secretBox,
  secretReader,
  templateDecryptor,
  type KvSnapshot,
} from './kv/index.js';
import { policiesSubsystem } from './policies/index.js';
import { eventsSubsystem } from './rules/index.js';
import { chatTransports, chatopsSubsystem } from './chatops/index.js';
import { notifierSubsystem } from './notifier/index.js';
import { workflowsSubsystem } from './workflows/engine/index.js';
import { inquiriesSubsystem } from './inquiries/index.js';
import { timersSubsystem } from './triggers/timers/index.js';
import { sensorsSubsystem } from './sensors/index.js';
import { streamRoutes } from './stream/index.js';
import { scaleSubsystem } from './scale/index.js';
import { statsRoutes } from './stats/index.js';
import type { Subsystem, Services } from './service/index.js';
import type { ActionDatastore } from './runners/index.js';

/** Seals execution secrets with the datastore's key, and puts RBAC where every subsystem finds it. */
function securityGlue(): Subsystem {
  return {
    name: 'security',
    init(services: Services) {
      const { key } = loadOrCreateKey(kvSettings(services.config).encryption_key_path);
      services.secrets = secretBox(key);
      if (services.config.auth.enable) {
        services.rbac = {
          assertCan: (user, permission, resource) => assertCan(user, permission, resource as never),
          executionFilter: (user) => executionVisibilityFilter(user),
          actsForOthers: (user) => actsForOthers(user),
        };
      }
    },
  };
}

/** st2's action_service on Squall's datastore; `local` keys are namespaced by pack. */
function actionDatastore(
  services: Services,
  ctx: { pack: string; user: string; onReveal(plaintext: string): void },
): ActionDatastore {
  const kv = () => getKeyValueService(services);
  const nameOf = (name: string, local?: boolean) => (local === false ? name : `${ctx.pack}:${name}`);
  const scopeOf = (scope?: string) =>
    scope === 'user' ? { scope: 'user', user: ctx.user } : { scope: 'system' };
  return {
    getValue(name, opts = {}) {
      const where =
        opts.scope === 'user' ? { scope: 'user' as const, user: ctx.user } : { scope: 'system' as const };
      return datastoreGet(
        kv(),
        () => secretReader(services, ctx.user),
        nameOf(name, opts.local),
        { ...where, decrypt: opts.decrypt },
        ctx.onReveal,
      );
    },
    async setValue(name, value, opts = {}) {
      await kv().set(nameOf(name, opts.local), value, {
        ...scopeOf(opts.scope),
        ttl: opts.ttl,
        secret: opts.encrypt ?? false,
      } as never);
    },
    async deleteValue(name, opts = {}) {
      return kv().delete(nameOf(name, opts.local), scopeOf(opts.scope));
    },
    async listValues(opts = {}) {
      const prefix = nameOf(opts.prefix ?? '', opts.local);
      const { items } = await kv().list({ ...scopeOf(opts.scope), prefix } as never);
      return items.map((i) => ({
        name: opts.local === false ? i.name : i.name.slice(ctx.pack.length + 1),
        value: String(i.value),
      }));
    },
  };
}

function executionDeps(
  services: Services,
  policies: Pick<ExecutionDeps, 'admit' | 'hasPolicies' | 'delayedByPolicy' | 'owedOnCompletion'>,
): Partial<ExecutionDeps> {
  const kv = () => getKeyValueService(services);
  return {
    kvSnapshot: async (user) => (await kv().snapshot(user)) as never,
    kvDecryptor: async (user, snapshot, revealed) =>
      templateDecryptor(
        (c) => kv().decrypt(c),
        await secretReader(services, user),
        snapshot as KvSnapshot,
        (plaintext) => revealed.push(plaintext),
      ),
    actionDatastore: (ctx) => actionDatastore(services, ctx),
    packConfig: async (pack, user) =>
      renderPackConfig(
        services,
        pack,
        async () => (await kv().snapshot(user)) as never,
        (c) => kv().decrypt(c),
      ),
    issueToken: services.config.auth.enable
      ? (id, user) => issueExecutionToken(services, id, user)
      : undefined,
    revokeToken: services.config.auth.enable
      ? async (id) => void (await revokeExecutionToken(services, id))
      : undefined,
    admit: policies.admit,
    hasPolicies: policies.hasPolicies,
    delayedByPolicy: policies.delayedByPolicy,
    owedOnCompletion: policies.owedOnCompletion,
  };
}

/**
 * The subsystems a `squall start` process runs, in start order. Each folder of the domain
 * contributes one; the roles in the config decide which of their parts are active.
 */
export function defaultSubsystems(_config: SquallConfig): Subsystem[] {
  // Policies and executions need each other; the lazy getters break the cycle.
  const executionService = (): ExecutionService => executions.service();
  const policies = policiesSubsystem(executionService);
  const executions = executionsSubsystem(
    (services) => executionDeps(services, policies.engine()),
    () => ({
      rerunFromTasks: (id, tasks, noReset, user) =>
        workflows.engine().rerunFromTasks(id, tasks, noReset, user),
    }),
  );
  const workflows = workflowsSubsystem(executionService);
  const auth = authSubsystem();
  const stream: Subsystem = { name: 'stream', routes: streamRoutes() };
  const chatops = chatopsSubsystem(executionService, {
    adapters: (services) => chatTransports(services.config),
  });
  return [
    kvSubsystem(),
    securityGlue(),
    auth,
    // An alias made through the API answers in chat as soon as the API has answered.
    contentSubsystem({ aliasChanged: () => chatops.pipeline().reloadAliases() }),
    policies,
    executions,
    workflows,
    eventsSubsystem(executionService),
    chatops,
    notifierSubsystem(executionService, () => chatops.notifier()),
    inquiriesSubsystem(executionService, {
      chatAdapters: () => chatops.pipeline().adapters,
      resumeWorkflow: (id) => workflows.engine().resume(id),
    }),
    timersSubsystem({ workerId: () => executionService().workerId }),
    sensorsSubsystem({ workerId: () => executionService().workerId }),
    stream,
    { name: 'stats', routes: statsRoutes() },
    scaleSubsystem(),
  ];
}
