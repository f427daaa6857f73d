import type { Request } from 'express';
import type { RouteSpec } from '../api/index.js';
import type { Services } from '../service/index.js';
import { PermissionError, SquallError } from '../errors.js';
import { unauthorized, type AuthService } from './service.js';
import type { AuthContext } from './types.js';

/** Cookie the web UI authenticates with; set by `POST /auth/v1/tokens`. */
export const AUTH_COOKIE = 'auth-token';

const registry = new WeakMap<Services, AuthService>();

export function registerAuthService(services: Services, auth: AuthService): void {
  registry.set(services, auth);
}

/** The AuthService of a running process (created by the auth subsystem's init). */
export function getAuthService(services: Services): AuthService {
  const auth = registry.get(services);
  if (!auth) {
    throw new SquallError(
      'AUTH_NOT_INITIALISED',
      'the auth subsystem is not part of this process: add authSubsystem() to the subsystems',
      {},
      500,
    );
  }
  return auth;
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    try {
      out[k] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      out[k] = part.slice(i + 1).trim();
    }
  }
  return out;
}

type Credential = { kind: 'token' | 'api_key' | 'cookie'; value: string };

const QUERY_CREDENTIALS = ['x-auth-token', 'st2-api-key'];

/**
 * Finds the credential of a request: headers first (X-Auth-Token, St2-Api-Key, Authorization:
 * Bearer), then the query (x-auth-token, st2-api-key), then the web UI cookie. Query credentials
 * are removed from the URL so route query schemas never see them.
 */
export function extractCredential(req: Request): Credential | undefined {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  let fromQuery: Credential | undefined;
  const q = req.url.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(req.url.slice(q + 1));
    const token = params.get('x-auth-token');
    const key = params.get('st2-api-key');
    if (token) fromQuery = { kind: 'token', value: token };
    else if (key) fromQuery = { kind: 'api_key', value: key };
    if (QUERY_CREDENTIALS.some((k) => params.has(k))) {
      for (const k of QUERY_CREDENTIALS) params.delete(k);
      const rest = params.toString();
      req.url = req.url.slice(0, q) + (rest ? `?${rest}` : '');
    }
  }
  const token = header('x-auth-token');
  if (token) return { kind: 'token', value: token };
  const key = header('st2-api-key');
  if (key) return { kind: 'api_key', value: key };
  const authorization = header('authorization');
  if (authorization && /^bearer\s+/i.test(authorization)) {
    return { kind: 'token', value: authorization.replace(/^bearer\s+/i, '').trim() };
  }
  if (fromQuery) return fromQuery;
  const cookie = parseCookies(header('cookie'))[AUTH_COOKIE];
  if (cookie) return { kind: 'cookie', value: cookie };
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A write carried by the web UI's cookie must come from the web UI's own origin. The cookie is
 * SameSite=Strict, but "same site" spans every port of a host and every subdomain of a domain: a
 * page on localhost:8000 could otherwise post a form (urlencoded bodies are parsed) to
 * localhost:9101 and run core.local as whoever is logged in. Browsers name the page that sent a
 * request in `Origin` (and `Sec-Fetch-Site`); clients that send neither are not browsers.
 */
function assertSameOrigin(req: Request): void {
  if (SAFE_METHODS.has(req.method.toUpperCase())) return;
  const one = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const origin = one('origin');
  const fetchSite = one('sec-fetch-site');
  const hosts = [one('host'), ...(one('x-forwarded-host') ?? '').split(',')]
    .map((h) => h?.trim().toLowerCase())
    .filter(Boolean);
  let sameOrigin: boolean;
  if (origin && origin !== 'null') {
    let host = '';
    try {
      host = new URL(origin).host.toLowerCase();
    } catch {
      host = '';
    }
    sameOrigin = hosts.includes(host);
  } else if (origin === 'null') sameOrigin = false;
  else sameOrigin = fetchSite === undefined || fetchSite === 'same-origin' || fetchSite === 'none';
  if (!sameOrigin)
    throw new PermissionError(
      `cross-site request refused: ${req.method} ${req.path} with the web UI's cookie must come from the web UI itself (Origin ${origin ?? 'absent'}); use a token or an API key from other pages`,
      { origin: origin ?? null, sec_fetch_site: fetchSite ?? null, path: req.path },
    );
}

/**
 * The `authenticate` hook of createApiApp: sets `req.auth = {user, roles, method}` or throws a
 * 401 with st2's faultstring. Public routes accept anonymous callers but still identify a
 * caller who sends valid credentials. With `auth.enable: false` every caller is the admin.
 */
export function authenticate(services: Services): (req: Request, spec: RouteSpec) => Promise<void> {
  return async (req, spec) => {
    const auth = getAuthService(services);
    const credential = extractCredential(req);
    if (!auth.settings.enable) {
      req.auth = { user: auth.settings.admin_username, roles: ['admin'], method: 'anonymous' };
      return;
    }
    if (!credential) {
      if (spec.auth === 'public') return;
      throw unauthorized('One of Token or API key required.', { path: req.path });
    }
    if (credential.kind === 'cookie') assertSameOrigin(req);
    let context: AuthContext;
    try {
      context =
        credential.kind === 'api_key'
          ? await auth.contextForApiKey(credential.value)
          : await auth.contextForToken(credential.value, credential.kind);
    } catch (err) {
      if (spec.auth === 'public' && err instanceof SquallError && err.status === 401) return;
      throw err;
    }
    if (spec.auth === 'account' && context.method === 'execution_token') {
      throw new PermissionError(
        `an action's token (ST2_ACTION_AUTH_TOKEN of execution ${context.executionId}) cannot manage accounts: ${spec.method.toUpperCase()} ${spec.path} needs a login token or an API key`,
        { user: context.user, execution: context.executionId, path: spec.path },
      );
    }
    req.auth = context;
  };
}

/** The caller of a route that requires auth; a 401 when there is none (e.g. on a public route). */
export function callerOf(req: Request): AuthContext {
  if (!req.auth) throw unauthorized('One of Token or API key required.', { path: req.path });
  return req.auth;
}
