export * from './spec.js';
export { composeGraph, stateId, transitionId, type Edge, type WorkflowGraph } from './graph.js';
export {
  contentRefs,
  inspect,
  inspectContent,
  inspectDefinition,
  type InspectionResult,
  type InspectOptions,
} from './inspect.js';
export {
  OrquestaConductor,
  createConductor,
  ACTIVE_STATUSES,
  ABENDED_STATUSES,
  COMPLETED_STATUSES,
  RUNNING_STATUSES,
  touchedEntries,
  storedEntries,
  type ConductorOptions,
  type ConductorState,
  type RerunOptions,
  type StagedTask,
  type TaskCompletion,
  type TaskEntry,
  type TaskRequest,
  type WorkflowError,
  type WorkflowStatus,
} from './conductor.js';
export {
  rehearse,
  isStandardRehearsal,
  loadRehearsalSpec,
  type MockActionExecution,
  type RehearsalActual,
  type RehearsalReport,
  type RehearsalSpec,
} from './rehearsal.js';
export { parseInlineParams } from './inline.js';
