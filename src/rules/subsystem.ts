import type { RouteModule } from '../api/index.js';
import { SquallError } from '../errors.js';
import type { ExecutionService } from '../executions/index.js';
import {
  CONTENT_CACHE_FORGET,
  hasRole,
  forgottenCollections,
  type Subsystem,
  type Services,
} from '../service/index.js';
import {
  dispatchTrigger,
  ensureSystemTriggerTypes,
  syncTriggers,
  TRIGGER_PROCESS_JOB,
  triggerRoutes,
  webhookRoutes,
  type DispatchInput,
} from '../triggers/index.js';
import { rulesRoutes } from './api.js';
import { RulesEngine } from './engine.js';
import { RuleIndex } from './rule-index.js';

export interface EventsSubsystem extends Subsystem {
  /** The rules engine of this process (after init). */
  engine(): RulesEngine;
  index(): RuleIndex;
}

/** Events other subsystems publish to say "re-read the rules" (content re-registration). */
export const CONTENT_CHANGED_EVENTS = ['squall.content__registered', 'st2.pack__*'];

/**
 * The event side: trigger types/triggers/instances API, webhooks, the rules engine (the
 * `trigger.process` job, with the rules role), the rule enforcements and traces API. A completed
 * execution comes back only as a trigger instance the notifier dispatched (src/notifier).
 * Add it after content and executions: `eventsSubsystem(() => executions.service())`.
 */
export function eventsSubsystem(executions: () => ExecutionService): EventsSubsystem {
  const index = new RuleIndex();
  let engine: RulesEngine | undefined;
  const unsubscribe: Array<() => void> = [];
  const appliedByApi = new Set<string>();
  const getEngine = () => {
    if (!engine) throw new SquallError('NOT_READY', 'the rules engine is not initialised yet', {}, 503);
    return engine;
  };
  const routes: RouteModule = (router, services) => {
    triggerRoutes(router, services);
    webhookRoutes(() => index)(router, services);
    rulesRoutes(async (op, rule) => {
      index.apply(op, rule);
      appliedByApi.add(rule.ref);
    })(router, services);
  };

  const refresh = async (services: Services) => {
    await ensureSystemTriggerTypes(services);
    await syncTriggers(services);
    await index.reload(services.store);
  };

  return {
    name: 'events',
    routes,
    engine: getEngine,
    index: () => index,
    async init(services: Services) {
      engine = new RulesEngine(services, executions, index);
      const log = services.logger.child({ component: 'rules' });
      if (hasRole(services.config, 'rules')) {
        services.scheduler.define<{ id: string }>(TRIGGER_PROCESS_JOB, (data) => engine!.process(data.id), {
          concurrency: services.config.scheduler.max_concurrency,
        });
      }
      // Every process keeps the index (kept current by the same events as a rules process's), so
      // an instance no rule listens to is stored processed where it is dispatched: a runner's
      // action trigger was a pending entry, a job and its run elsewhere (~11 round trips per
      // execution on MongoDB) to match nothing. A rules process in another process matches against
      // an index no fresher than this one.
      services.noRulesFor = async (ref) => {
        await index.settled();
        return index.candidates(ref).length === 0;
      };
      const local = (origin: string | undefined) => origin === undefined || origin === services.bus.origin;
      unsubscribe.push(
        services.bus.subscribe('st2.rule__*', (event) => {
          // A change the API applied to the index already is not re-read (the read may be stale).
          const ref = (event.payload as { ref?: string })?.ref;
          if (local(event.origin) && ref && appliedByApi.delete(ref)) return;
          index.reload(services.store).catch((err) => log.error({ err }, 'reloading the rule index failed'));
        }),
        // Another process wrote rules: it says so before it answers, so starting the reload now
        // (events and webhooks wait for it: RuleIndex.settled) lets the next event see the change.
        services.bus.subscribe(CONTENT_CACHE_FORGET, (event) => {
          // A forget that names no collections it can read (a peer on Redis) may be about rules.
          if (forgottenCollections(event)?.includes('rules') === false) return;
          index.reload(services.store).catch((err) => log.error({ err }, 'reloading the rule index failed'));
        }),
        ...CONTENT_CHANGED_EVENTS.map((name) =>
          services.bus.subscribe(name, (event) => {
            const work = local(event.origin) ? refresh(services) : index.reload(services.store);
            work.catch((err) => log.error({ err }, 'refreshing rules after a content change failed'));
          }),
        ),
        // Internal trigger sources that only publish (the datastore) dispatch through here.
        services.bus.subscribe('trigger.dispatch', (event) => {
          if (!local(event.origin)) return;
          dispatchTrigger(services, event.payload as DispatchInput).catch((err) =>
            log.error(
              { err, trigger: (event.payload as DispatchInput)?.trigger },
              'dispatching an internal trigger failed',
            ),
          );
        }),
      );
      await refresh(services);
    },
    async start(services: Services) {
      // Content may have been registered after our init (subsystem order); read it again.
      await refresh(services);
    },
    stop() {
      for (const u of unsubscribe.splice(0)) u();
    },
  };
}
