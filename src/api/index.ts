export { createApiApp, type RouteModule, type ApiOptions } from './app.js';
export { ApiRouter, type RouteSpec, type RouteContext, type JsonSchema } from './router.js';
export { buildOpenApi, openapiPath } from './openapi.js';
export {
  attributeSelection,
  type AttributeSelection,
  checkAttributes,
  type EveryFieldListed,
  listRecords,
  listQuerySchema,
  pageLimit,
  queryTime,
  selectAttributes,
  shows,
  requestUser,
} from './list.js';
export { MAX_BODY_DEPTH, assertBodyDepth, nestingDepth } from './depth.js';
export { authorize, executionResource } from './authz.js';
export { slotCounter, type SlotRefusal } from './slots.js';
