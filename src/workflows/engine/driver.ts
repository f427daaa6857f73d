/**
 * How the `orquesta` and `action-chain` runners reach the workflow engine of their process.
 * A leaf module on purpose: runners import it, and it imports nothing that imports runners, so
 * there is no import cycle between src/runners and the engine (which needs the executions service).
 */
import { SquallError } from '../../errors.js';
import type { RunnerContext, RunnerResult } from '../../runners/index.js';

export interface WorkflowDriver {
  /** The API URL of the process the engine serves; runners carry the same URL in their context. */
  apiUrl(): string;
  startOrquesta(ctx: RunnerContext): Promise<RunnerResult>;
  startActionChain(ctx: RunnerContext): Promise<RunnerResult>;
}

const drivers: WorkflowDriver[] = [];

export function registerWorkflowDriver(driver: WorkflowDriver): () => void {
  drivers.push(driver);
  return () => {
    const i = drivers.indexOf(driver);
    if (i >= 0) drivers.splice(i, 1);
  };
}

/** The engine serving the process a runner context comes from (several may share a test process). */
export function workflowDriverFor(ctx: Pick<RunnerContext, 'apiUrl' | 'executionId'>): WorkflowDriver {
  const same = drivers.filter((d) => d.apiUrl() === ctx.apiUrl);
  const chosen = same.at(-1) ?? (drivers.length === 1 ? drivers[0] : undefined);
  if (!chosen) {
    throw new SquallError(
      'WORKFLOW_ENGINE_MISSING',
      `No workflow engine runs in this process for execution ${ctx.executionId}: add workflowsSubsystem() to the service's subsystems`,
      { execution: ctx.executionId, apiUrl: ctx.apiUrl, engines: drivers.length },
    );
  }
  return chosen;
}
