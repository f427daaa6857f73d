// The public surface of src/executions: other folders import it from here.
export {
  ExecutionService,
  executionWebUrl,
  hiddenValues,
  presentExecution,
  actionTriggerPayload,
  runParameters,
} from './service.js';
export { COMPLETED_STATUSES, FAILED_STATUSES, isCompleted } from './status.js';
export { executionsSubsystem, getExecutionService, storeTooSlowToJudge } from './subsystem.js';
export { MASK, openParameters, redactText } from './secrets.js';
export type { ExecutionStatus } from './status.js';
export type { SecretBox } from './secrets.js';
export type { ExecutionDeps, HiddenValue } from './service.js';
export { liveExecutions } from './live.js';
export { giveNewAttempt } from './recovery.js';
export { withChildren, withChildrenOf } from './children.js';
export {
  actionSpecs,
  castParameter,
  dropImmutableParameters,
  validateParameters,
  type ParameterIssue,
} from './parameters.js';
export { mentionsDatastore } from './datastore-mentions.js';
export { outputPages } from './output-pages.js';
export { maskInquiryResponse } from './output-schema.js';
