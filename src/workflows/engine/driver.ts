/**
 * How the `orquesta` and `action-chain` runners reach the workflow engine of their process.
 * A leaf module on purpose: runners import it, and it imports nothing that imports runners, so
 * there is no import cycle between src/runners and the engine (which needs the executions service).
 */
import { leafRegistry } from '../../leaf-registry.js';
import type { RunnerContext, RunnerResult } from '../../runners/index.js';

export interface WorkflowDriver {
  /** The API URL of the process the engine serves; runners carry the same URL in their context. */
  apiUrl(): string;
  startOrquesta(ctx: RunnerContext): Promise<RunnerResult>;
  startActionChain(ctx: RunnerContext): Promise<RunnerResult>;
}

const drivers = leafRegistry<WorkflowDriver>(
  'WORKFLOW_ENGINE_MISSING',
  'workflow engine',
  'workflowsSubsystem',
);

export const registerWorkflowDriver = drivers.register;

/** The engine serving the process a runner context comes from (several may share a test process). */
export const workflowDriverFor = drivers.for;
