/**
 * The durable workflow engine (st2-reference.md §6): the `orquesta` / `action-chain` runners'
 * other half, the `workflow.advance` job, pause/resume/cancel/re-run and the workflow routes.
 */
import type { Subsystem, Services } from '../../service/index.js';
import { SquallError } from '../../errors.js';
import type { ExecutionService } from '../../executions/index.js';
import type { ExecutionRecord } from '../../store/index.js';
import { workflowRoutes } from './api.js';
import { registerWorkflowDriver } from './driver.js';
import { ADVANCE_JOB, WorkflowEngine, type EngineOptions } from './engine.js';

export {
  ADVANCE_JOB,
  WorkflowEngine,
  groupedInspection,
  inspectionErrors,
  type EngineState,
  type PendingTask,
  type TaskExecution,
  type WorkflowKind,
} from './engine.js';
export { workflowRoutes } from './api.js';
export { WorkflowLeases } from './lease.js';
export { registerWorkflowDriver, workflowDriverFor, type WorkflowDriver } from './driver.js';

export interface WorkflowsSubsystemOptions extends EngineOptions {
  /** How often unfinished workflows are swept for steps a dead process left undone. */
  sweepEveryMs?: number;
}

export interface WorkflowsSubsystem extends Subsystem {
  engine(): WorkflowEngine;
}

const WORKFLOW_RUNNERS = ['orquesta', 'action-chain'];

/**
 * Workflows in a running process. Needs executionsSubsystem() before it (the runners of child
 * tasks) and is needed by any process that runs workflow actions (runner role).
 */
export function workflowsSubsystem(
  executions: () => ExecutionService,
  options: WorkflowsSubsystemOptions = {},
): WorkflowsSubsystem {
  let engine: WorkflowEngine | undefined;
  let unregister: (() => void) | undefined;
  const unsubscribe: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  const get = () => {
    if (!engine) throw new SquallError('NOT_READY', 'the workflow engine is not initialised yet', {}, 503);
    return engine;
  };
  return {
    name: 'workflows',
    engine: get,
    routes: workflowRoutes(get, executions),
    init(services: Services) {
      const eng = new WorkflowEngine(services, executions, options);
      engine = eng;
      const log = services.logger.child({ component: 'workflows' });
      unregister = registerWorkflowDriver({
        apiUrl: () => services.apiUrl,
        startOrquesta: (ctx) => eng.startOrquesta(ctx),
        startActionChain: (ctx) => eng.startActionChain(ctx),
      });
      services.scheduler.define<{ workflowExecutionId: string; childId?: string }>(
        ADVANCE_JOB,
        (data) => eng.advance(data.workflowExecutionId),
        { concurrency: services.config.scheduler.max_concurrency },
      );
      const isWorkflow = (e: { runner?: { name?: unknown } }) =>
        WORKFLOW_RUNNERS.includes(String(e.runner?.name));
      const schedule = (id: string, childId?: string) =>
        eng
          .scheduleAdvance(id, childId)
          .catch((err) =>
            log.error({ err, workflow: id }, 'could not schedule workflow.advance; the sweep will catch up'),
          );
      // In the completion's own path when it can be (no job hop); otherwise as a job.
      const advance = async (id: string, child?: ExecutionRecord) => {
        if (!(await eng.advanceHere(id, child))) await schedule(id, child?.id);
      };
      executions().onCompleted(async (e: ExecutionRecord) => {
        // A child finished: its workflow moves on. A workflow finished from outside (canceled
        // while paused, abandoned): its engine state follows, and its children are canceled.
        if (
          e.parent &&
          (e.context.workflow as { execution_id?: string } | undefined)?.execution_id === e.parent
        )
          await advance(e.parent, e);
        if (isWorkflow(e)) await advance(e.id);
      });
      unsubscribe.push(
        services.bus.subscribe('st2.execution__update', (event) => {
          const e = event.payload as {
            id: string;
            status: string;
            parent?: string;
            runner?: { name?: unknown };
            context?: Record<string, unknown>;
          };
          if (isWorkflow(e)) eng.statusAnnounced(e.id);
          if (isWorkflow(e) && e.status === 'canceling') void schedule(e.id);
          const marker = e.context?.workflow as { execution_id?: string } | undefined;
          if (
            e.parent &&
            marker?.execution_id === e.parent &&
            ['pending', 'paused', 'resuming'].includes(e.status)
          )
            void schedule(e.parent, e.id);
        }),
      );
    },
    async start(services: Services) {
      const log = services.logger.child({ component: 'workflows' });
      const sweep = () => {
        sweeping ??= get()
          .sweep()
          .catch((err) => log.error({ err }, 'workflow sweep failed'))
          .finally(() => {
            sweeping = undefined;
          });
        return sweeping;
      };
      void sweep();
      timer = setInterval(() => void sweep(), options.sweepEveryMs ?? 5000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      for (const u of unsubscribe) u();
      unregister?.();
      await sweeping;
      // Claims kept for a next step that will not come here: another process takes them now.
      await engine?.leases.letGoAll();
    },
  };
}
