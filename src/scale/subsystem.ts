import {
  crashPolicyInstalled,
  hasRole,
  tolerateRejections,
  type Subsystem,
  type Services,
} from '../service/index.js';
import { isTransient } from '../store/index.js';
import { queueDepth } from './queue.js';
import { Retention, RETENTION_JOB } from './retention.js';
import { scaleRoutes } from './routes.js';
import { SWEEP_JOB, sweepClaimedWork, sweepScheduled } from './sweep.js';
import { getExecutionService } from '../executions/index.js';
import { sweepPendingInstances } from '../triggers/index.js';

/**
 * Scale-out and reliability in a running process: the queue-depth counter and backpressure
 * (api role), metrics, retention (GC) and the sweep for executions a dead runner held.
 */
export function scaleSubsystem(): Subsystem {
  let retention: Retention | undefined;
  let onRejection: ((reason: unknown) => void) | undefined;
  let untolerate: (() => void) | undefined;
  let claimedWorkTimer: NodeJS.Timeout | undefined;
  return {
    name: 'scale',
    routes: scaleRoutes(),
    init(services: Services) {
      retention = new Retention(services);
      services.scheduler.define(RETENTION_JOB, async () => void (await retention!.collect()), {
        concurrency: 1,
        skipWhileRunning: true,
      });
      // The sweep rescues what a dead process held; locked by a process that died (a runner
      // killed mid-sweep), Agenda's default lock lifetime stalled it for 10 min everywhere.
      services.scheduler.define(SWEEP_JOB, () => sweep(services), {
        concurrency: 1,
        lockLifetimeMs: services.config.executions.dead_after_ms,
        skipWhileRunning: true,
      });
    },
    async start(services: Services) {
      // Agenda's background lock bookkeeping (unlockJob, …) can reject with a transient store
      // error (FerretDB on SQLite answers SQLITE_BUSY under load) that nobody awaits; by
      // default Node kills the process for it. Those are logged; anything else still crashes
      // (through the crash policy, src/service/crash-policy.ts, when `squall start` installed it).
      const transient = (reason: unknown): boolean => {
        if (!isTransientStoreError(reason)) return false;
        services.logger.warn({ err: reason }, 'transient store error in a background job operation');
        return true;
      };
      untolerate = tolerateRejections(transient);
      onRejection = (reason: unknown) => {
        if (crashPolicyInstalled() || transient(reason)) return;
        throw reason;
      };
      process.on('unhandledRejection', onRejection);
      if (hasRole(services.config, 'api')) await queueDepth(services).start();
      // Always scheduled: with every history limit off it still collects finished claims.
      await services.scheduler.every(
        services.config.retention.check_every_ms,
        RETENTION_JOB,
        { kind: 'retention' },
        { name: RETENTION_JOB },
      );
      await services.scheduler.every(
        services.config.executions.check_every_ms,
        SWEEP_JOB,
        { kind: 'sweep' },
        { name: SWEEP_JOB },
      );
      // In every process, not as a job that any one process picks up: only a process that
      // declared a kind of work (chat, policies) can do it. No owner is dead before
      // dead_after_ms: looking more often would find nothing more.
      const owner = () => getExecutionService(services).workerId;
      let sweeping = false;
      claimedWorkTimer = setInterval(
        () => {
          if (sweeping) return;
          sweeping = true;
          sweepClaimedWork(services, owner)
            .catch((err: unknown) => services.logger.warn({ err }, 'sweep of claimed work failed'))
            .finally(() => (sweeping = false));
        },
        Math.max(services.config.executions.check_every_ms, services.config.executions.dead_after_ms),
      );
      claimedWorkTimer.unref();
    },
    stop(services: Services) {
      if (claimedWorkTimer) clearInterval(claimedWorkTimer);
      if (onRejection) process.off('unhandledRejection', onRejection);
      untolerate?.();
      queueDepth(services).stop();
    },
  };
}

function isTransientStoreError(reason: unknown): boolean {
  const text = `${(reason as { name?: string })?.name ?? ''} ${(reason as { message?: string })?.message ?? ''}`;
  return /^Mongo/.test(text) && (isTransient(reason) || /ECONNRESET|not primary|NetworkTimeout/i.test(text));
}

/** The periodic sweep: scheduled executions and pending trigger instances a dead process held. */
async function sweep(services: Services): Promise<void> {
  await sweepScheduled(services);
  const requeued = await sweepPendingInstances(services, services.config.executions.dead_after_ms);
  if (requeued.length)
    services.logger.warn(
      { trigger_instances: requeued },
      'sweep: queued processing again for pending trigger instances whose job was lost',
    );
}
