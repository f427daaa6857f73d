export {
  dispatchTrigger,
  resolveTrigger,
  validateTriggerPayload,
  TRIGGER_PROCESS_JOB,
  type DispatchInput,
  type ResolvedTrigger,
} from './dispatch.js';
export {
  triggerRefFor,
  normalizeWebhookUrl,
  canonicalJson,
  hasParameters,
  packOfRef,
  nameOfRef,
  WEBHOOK_TRIGGER_TYPE,
  ACTION_TRIGGER_TYPE,
  WEBHOOK_EXTENSION_KEYS,
} from './refs.js';
export { schemaChecker, schemaProblems, isMeaningfulSchema, type SchemaChecker } from './schema-check.js';
export { kvContext, type KvContext } from './kv-context.js';
export { enterPending, leavePending, sweepPendingInstances } from './pending.js';
export { forgetStored, rememberStored, takeStored } from './just-stored.js';
export {
  verifyHmac,
  hmacSchema,
  HMAC_PRESETS,
  type HmacSettings,
  type HmacPreset,
  type HmacVerdict,
} from './hmac.js';
export {
  syncTriggers,
  ensureSystemTriggerTypes,
  presentTrigger,
  maskTriggerParameters,
  MASK,
  type TriggerSyncReport,
} from './triggers.js';
export { webhookRoutes, type WebhookBinding, type WebhookRegistry } from './webhooks.js';
export { triggerRoutes } from './api.js';
export {
  ACTION_TRIGGER_SOURCE,
  builtFrom,
  isDerivedInstance,
  noteWholeExecution,
  shownOnBus,
  withPayload,
  triggerInstanceReads,
  type TriggerInstanceReads,
} from './action-trigger.js';
export { SYSTEM_TRIGGER_TYPES, getSystemTriggerType } from './system-types.js';
