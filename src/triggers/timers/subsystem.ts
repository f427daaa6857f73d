import { SquallError } from '../../errors.js';
import { hasRole, type Subsystem, type Services } from '../../service/index.js';
import {
  DEFAULT_TIMER_SETTINGS,
  TIMER_TICK_JOB,
  TimerEngine,
  type TimerJobData,
  type TimerSettings,
} from './engine.js';
import { timerRoutes } from './routes.js';

const engines = new WeakMap<Services, TimerEngine>();

/** Published when packs are (re-)registered (see src/rules CONTENT_CHANGED_EVENTS). */
const CONTENT_CHANGED_EVENTS = ['squall.content__registered', 'st2.pack__*'];

/** The timer engine of a running process (created by the timers subsystem's init). */
export function getTimerEngine(services: Services): TimerEngine {
  const engine = engines.get(services);
  if (!engine) {
    throw new SquallError(
      'TIMERS_NOT_INITIALISED',
      'the timers subsystem is not part of this process: add timersSubsystem() to the subsystems',
      {},
      500,
    );
  }
  return engine;
}

function settingsOf(services: Services): TimerSettings {
  return { ...DEFAULT_TIMER_SETTINGS, ...(services.config.timers ?? {}) };
}

/**
 * Timers: every process keeps the timer jobs in line with the rules it sees change
 * (`st2.rule__*` events); processes with the `timers` role also run the ticks, reconcile at
 * start and, as a fallback for rule changes made by processes whose events do not reach them,
 * every `timers.resync_interval_ms`.
 */
export function timersSubsystem(options: { workerId?: () => string } = {}): Subsystem {
  let unsubscribe: Array<() => void> = [];
  let resync: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> | undefined;
  const reconcile = (services: Services, why: string) => {
    const engine = getTimerEngine(services);
    const run = engine
      .reconcile()
      .catch((err) =>
        services.logger.error({ err, component: 'timers', why }, `timers could not be reconciled (${why})`),
      );
    inFlight = run;
    return run;
  };
  return {
    name: 'timers',
    routes: timerRoutes(getTimerEngine),
    init(services) {
      const engine = new TimerEngine(services, settingsOf(services), options.workerId?.());
      engines.set(services, engine);
      if (hasRole(services.config, 'timers')) {
        services.scheduler.define<TimerJobData>(TIMER_TICK_JOB, (data, job) => engine.tick(data, job), {
          concurrency: 20,
          lockLifetimeMs: 60_000,
        });
      }
    },
    async start(services) {
      unsubscribe = [
        services.bus.subscribe('st2.rule__*', () => void reconcile(services, 'rule changed')),
        // Content (re-)registration replaces rules without per-rule events.
        ...CONTENT_CHANGED_EVENTS.map((name) =>
          services.bus.subscribe(name, () => void reconcile(services, 'content registered')),
        ),
      ];
      if (!hasRole(services.config, 'timers')) return;
      await getTimerEngine(services).reconcile();
      const every = settingsOf(services).resync_interval_ms;
      if (every > 0) {
        resync = setInterval(() => void reconcile(services, 'periodic resync'), every);
        resync.unref();
      }
    },
    async stop() {
      for (const u of unsubscribe.splice(0)) u();
      if (resync) clearInterval(resync);
      resync = undefined;
      await inFlight;
    },
  };
}
