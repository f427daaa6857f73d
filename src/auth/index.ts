export { authSubsystem, issueExecutionToken, revokeExecutionToken } from './subsystem.js';
export {
  authenticate,
  getAuthService,
  extractCredential,
  callerOf,
  parseCookies,
  AUTH_COOKIE,
} from './authenticate.js';
export {
  AuthService,
  unauthorized,
  assignmentId,
  type TokenResponse,
  type ApiKeyView,
  type UserView,
  type RoleAssignmentView,
} from './service.js';
export {
  can,
  assertCan,
  actsForOthers,
  executionVisibilityFilter,
  setActivePolicy,
  activePolicy,
  RbacPolicy,
  isAdmin,
  isPermissionType,
  resourceTypeOfPermission,
  resourceTypeOfUid,
  loadRbacDefinitions,
  parseRole,
  parseAssignment,
  uids,
  PERMISSION_TYPES,
  ALL_PERMISSION_TYPES,
  SYSTEM_ROLES,
  ADMIN_ROLES,
  type ResourceRef,
  type RbacUser,
  type RoleDefinition,
  type PermissionGrant,
  type RbacOptions,
  type RbacDefinitions,
  type RoleAssignmentDefinition,
} from './rbac.js';
export { hashPassword, verifyPassword, sha256, randomSecret, generatePassword } from './secrets.js';
export {
  authSettings,
  rbacSettings,
  kvSettings,
  type AuthSettings,
  type RbacSettings,
  type KvSettings,
} from './config.js';
export type { AuthContext } from './types.js';
