import { type Subsystem, hasRole, type Services } from '../service/index.js';
import { SquallError } from '../errors.js';
import path from 'node:path';
import {
  KILL_GRACE_MS,
  killOrphans,
  stopSpawner,
  stopSt2RuntimeInstall,
  trackRunsIn,
} from '../runners/index.js';
import { traceExecution, type TracedExecution } from '../traces/index.js';
import { executionRoutes, type ExecutionRouteHooks } from './api.js';
import { ExecutionRecovery } from './recovery.js';
import { actionTriggerPayload, ExecutionService, RUN_JOB, type ExecutionDeps } from './service.js';

export interface ExecutionsSubsystem extends Subsystem {
  service(): ExecutionService;
}

const registry = new WeakMap<Services, ExecutionService>();
const recoveries = new WeakMap<Services, ExecutionRecovery>();

/**
 * Whether the store is too slow for this process to judge another process dead by its heartbeat
 * (ExecutionRecovery.check): its own heartbeat write took more than half of dead_after_ms. The
 * sweep gave the claimed runs of a live but late runner new attempts while the check held back.
 */
export function storeTooSlowToJudge(services: Services): boolean {
  const recovery = recoveries.get(services);
  return Boolean(recovery && recovery.storeLagMs() > services.config.executions.dead_after_ms / 2);
}

/** The execution service of this process, for subsystems that start built-in executions. */
export function getExecutionService(services: Services): ExecutionService {
  const executions = registry.get(services);
  if (!executions)
    throw new SquallError(
      'EXECUTIONS_NOT_INITIALISED',
      'the executions subsystem is not part of this process: add executionsSubsystem() to the subsystems',
      {},
      500,
    );
  return executions;
}

/**
 * Executions in a running process: the service, the durable `execution.run` job (runner role),
 * cross-process cancel, and crash recovery. Other subsystems add their parts of ExecutionDeps
 * (datastore, tokens, policies) through `extend` before start.
 */
export function executionsSubsystem(
  extraDeps: (services: Services) => Partial<ExecutionDeps> = () => ({}),
  hooks: () => ExecutionRouteHooks = () => ({}),
): ExecutionsSubsystem {
  let executions: ExecutionService | undefined;
  let recovery: ExecutionRecovery | undefined;
  const unsubscribes: Array<() => void> = [];
  const service = () => {
    if (!executions)
      throw new SquallError('NOT_READY', 'the executions service is not initialised yet', {}, 503);
    return executions;
  };
  return {
    name: 'executions',
    service,
    routes: executionRoutes(service, hooks),
    init(services: Services) {
      const secretBox = services.secrets;
      if (!secretBox)
        throw new SquallError(
          'NO_SECRET_BOX',
          'the datastore subsystem must start before executions (no secret box)',
        );
      executions = new ExecutionService(services, { secretBox, ...extraDeps(services) });
      // The local runs in flight, for the next start should this process die (killOrphans).
      trackRunsIn(path.join(services.config.data_dir, 'runs'));
      registry.set(services, executions);
      services.actionTriggerPayload = actionTriggerPayload;
      if (hasRole(services.config, 'runner')) {
        services.scheduler.define<{ id: string; attempt?: number }>(
          RUN_JOB,
          (data) => executions!.run(data.id, data.attempt ?? 0),
          // Lock no more runs than this process runs at once, so the runners share the queue.
          {
            concurrency: services.config.scheduler.max_concurrency,
            lockLimit: services.config.scheduler.max_concurrency,
          },
        );
      }
      const log = services.logger.child({ component: 'executions' });
      unsubscribes.push(
        services.bus.subscribe('squall.execution.cancel', (event) =>
          executions!.abortLocal((event.payload as { id: string }).id),
        ),
        // The requesting process puts each requested execution into its trace (st2 does it in the
        // request), so no other room is visited for it.
        services.bus.subscribe('st2.execution__create', (event) => {
          if (event.origin !== undefined && event.origin !== services.bus.origin) return;
          const execution = event.payload as TracedExecution;
          traceExecution(services, execution).catch((err) =>
            log.error({ err, execution: execution.id }, 'recording the trace of an execution failed'),
          );
        }),
      );
    },
    async start(services: Services) {
      // Before recovery can run any of them again: what a service that died on this machine left.
      await killOrphanedRuns(services);
      const { heartbeat_ms, dead_after_ms, check_every_ms } = services.config.executions;
      recovery = new ExecutionRecovery(services, service(), {
        heartbeatMs: heartbeat_ms,
        deadAfterMs: dead_after_ms,
        checkEveryMs: check_every_ms,
      });
      recoveries.set(services, recovery);
      await recovery.start();
    },
    overdue(services: Services) {
      executions?.stopForShutdown(services.config.executions.shutdown_grace_ms);
    },
    quiesce() {
      executions?.stopRunningHere();
    },
    busy() {
      return executions?.runsUnderWayHere() ?? 0;
    },
    async stop() {
      for (const u of unsubscribes.splice(0)) u();
      await recovery?.stop();
      trackRunsIn(undefined);
      stopSpawner();
      await stopSt2RuntimeInstall();
    },
  };
}

/**
 * Kills the processes of the runs whose service died on this machine (killed outright together
 * with its spawner, which would otherwise have killed them): run-token.ts. Their executions are
 * recorded by recovery as for any dead process. A failed look does not stop the start: it is logged.
 */
async function killOrphanedRuns(services: Services): Promise<void> {
  const log = services.logger.child({ component: 'executions' });
  try {
    const { groups, runs, unavailable } = await killOrphans(KILL_GRACE_MS);
    if (unavailable)
      log.warn({ runs, reason: unavailable }, 'cannot look for the processes of runs whose service died');
    else if (runs)
      log.warn({ runs, groups }, 'killed the process groups of runs in flight when their service died');
  } catch (err) {
    log.warn({ err }, 'could not look for the processes of runs whose service died');
  }
}
