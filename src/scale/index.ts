export { scaleSubsystem } from './subsystem.js';
export { backpressureGuard } from './backpressure.js';
export { QueueDepth, queueDepth, noteQueued, QUEUED_STATUSES } from './queue.js';
export { Retention, RETENTION_JOB, idAt, type RetentionReport } from './retention.js';
export {
  offloadResult,
  readResultJson,
  deleteResult,
  resultRefOf,
  RESULT_REF_KEY,
  type OffloadedResult,
} from './results.js';
export { sweepScheduled, SWEEP_JOB, type SweepReport } from './sweep.js';
export { scaleRoutes, fullResults } from './routes.js';
export { Leases, fairShare, type LeaseOptions } from './leases.js';
export { registerClaimedWork } from './sweep.js';
