import type { Services, Subsystem } from '../service/index.js';
import { authenticate, getAuthService, registerAuthService } from './authenticate.js';
import { setActivePolicy } from './rbac.js';
import { authRoutes } from './routes.js';
import { AuthService } from './service.js';

const TOKEN_PURGE_MS = 60_000;

/**
 * Users, tokens, API keys and RBAC. On init it reads rbac/ definitions, creates the admin on
 * first start and installs the RBAC policy; `authenticate` guards every route of the API.
 */
export function authSubsystem(): Subsystem {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'auth',
    routes: authRoutes,
    authenticate: (services: Services) => authenticate(services),
    async init(services: Services) {
      const auth = new AuthService(services);
      auth.loadDefinitions();
      registerAuthService(services, auth);
      setActivePolicy(auth.policy);
      await auth.ensureAdmin();
    },
    start(services: Services) {
      const auth = getAuthService(services);
      timer = setInterval(() => {
        auth
          .purgeExpiredTokens()
          .catch((err) => services.logger.warn({ err }, 'purging expired tokens failed'));
      }, TOKEN_PURGE_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** A temporary token for one execution (ST2_ACTION_AUTH_TOKEN), acting as `user`. */
export function issueExecutionToken(services: Services, executionId: string, user: string): Promise<string> {
  return getAuthService(services).issueExecutionToken(executionId, user);
}

/** Revokes the execution's temporary token(s); call when the execution ends. */
export function revokeExecutionToken(services: Services, executionId: string): Promise<number> {
  return getAuthService(services).revokeExecutionToken(executionId);
}
