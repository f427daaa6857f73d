import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { SquallError } from '../errors.js';
import type { Services } from '../service/index.js';
import { STACKSTORM_VERSION, VERSION } from '../version.js';
import { bodyDepthLimit } from './depth.js';
import { buildOpenApi } from './openapi.js';
import { ApiRouter, type RouteSpec } from './router.js';
import { serviceRegistryRoutes } from './service-registry.js';
import { mountWebUi } from './static.js';
import { beforeLeavingProcess } from '../store/index.js';

export type RouteModule = (router: ApiRouter, services: Services) => void;

export interface ApiOptions {
  /** Extra route modules, added by the subsystems that own them. */
  modules?: RouteModule[];
  /** Decides whether a request may reach a route; throws a 401/403 SquallError otherwise. */
  authenticate?: (req: Request, spec: RouteSpec) => Promise<void>;
  /** Serve the built web UI at / (default true; it is skipped when the UI is not built). */
  webUi?: boolean;
}

function coreRoutes(router: ApiRouter, services: Services): void {
  router.add({
    method: 'get',
    path: '/api/v1/health',
    summary: 'Liveness and basic facts about this process',
    tag: 'system',
    auth: 'public',
    response: {
      type: 'object',
      properties: {
        status: {
          type: 'string',
          enum: ['ok', 'degraded'],
          description:
            'HTTP 200 either way while the process serves: "degraded" (a chat bot failed) must not take the API out of a load balancer. Public, so nothing here names an identity or an error: GET /api/v1/chatops/adapters (authenticated) says why.',
        },
        version: { type: 'string' },
        stackstorm_version: { type: 'string', description: 'The StackStorm release Squall answers as.' },
        store: { type: 'string', enum: ['embedded', 'mongo'] },
        uptime: { type: 'number', description: 'Seconds since the process started.' },
        chat: {
          type: 'array',
          description:
            'The chat bots, shown by a process with the chat role: `connected` (here or by another Squall process), `connecting`, `failed` (degrades the status), `off` (not enabled).',
          items: {
            type: 'object',
            properties: {
              platform: { type: 'string' },
              state: { type: 'string', enum: ['connected', 'connecting', 'failed', 'off'] },
            },
            required: ['platform', 'state'],
          },
        },
      },
      required: ['status', 'version', 'stackstorm_version', 'store', 'uptime'],
    },
    handler: () => {
      const parts: Record<string, unknown> = {};
      let degraded = false;
      for (const [name, part] of services.health ?? []) {
        const p = part();
        if (!p) continue;
        parts[name] = p.value;
        degraded ||= p.degraded;
      }
      return {
        status: degraded ? 'degraded' : 'ok',
        version: VERSION,
        stackstorm_version: STACKSTORM_VERSION,
        store: services.store.kind,
        uptime: Math.round((Date.now() - services.startedAt.getTime()) / 100) / 10,
        ...parts,
      };
    },
  });
  // st2's root controller: its release and docs. Squall answers as the release whose API it
  // implements, the same one a pack's stackstorm_version is checked against at install.
  router.add({
    method: 'get',
    path: '/api/v1/',
    summary: 'General API info (st2): the StackStorm release Squall answers as, and its docs',
    tag: 'system',
    response: {
      type: 'object',
      properties: {
        version: { type: 'string' },
        docs_url: { type: 'string' },
        squall_version: { type: 'string' },
      },
      required: ['version', 'docs_url'],
    },
    handler: () => ({
      version: STACKSTORM_VERSION,
      docs_url: `https://docs.stackstorm.com/${STACKSTORM_VERSION.split('.').slice(0, 2).join('.')}`,
      squall_version: VERSION,
    }),
  });
  router.add({
    method: 'get',
    path: '/api/v1/openapi.json',
    summary: 'This OpenAPI document',
    tag: 'system',
    auth: 'public',
    handler: () => buildOpenApi(router.routes()),
  });
}

export function createApiApp(
  services: Services,
  options: ApiOptions = {},
): { app: Express; router: ApiRouter } {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use((req: Request, res: Response, next: NextFunction) => {
    const id = (req.headers['x-request-id'] as string | undefined)?.slice(0, 100) || randomUUID();
    res.setHeader('X-Request-ID', id);
    (req as Request & { requestId?: string }).requestId = id;
    next();
  });
  const router = new ApiRouter();
  // st2's API service itself answers at /v1 and, unversioned, at / (st2api's transforms of
  // ^/api/v1/; the /api/ prefix is nginx's): st2 clients, an `auth.api_url` pointing at Squall's
  // root (st2ApiUrl) and ST2_API_URL=http://host:9101 (st2tests' chains) reach the same routes.
  // Unversioned paths are taken only for the API's own collections: the web UI routes by hash.
  // Not for a first segment that has routes of its own outside /api (/stream/v1/stream, /auth/v1/…):
  // the stream is also answered at /api/v1/stream, which must not take /stream/… over.
  let collections: Set<string> | undefined;
  app.use((req: Request, _res: Response, next: NextFunction) => {
    if (/^\/v1(?:[/?]|$)/.test(req.url)) req.url = `/api${req.url}`;
    else {
      collections ??= unversionedCollections(router.routes().map((r) => r.path));
      const first = /^\/([a-z_]+)(?:[/?]|$)/.exec(req.url)?.[1];
      if (first !== undefined && collections.has(first)) req.url = `/api/v1${req.url}`;
    }
    next();
  });
  coreRoutes(router, services);
  serviceRegistryRoutes(router, services);
  for (const mod of options.modules ?? []) mod(router, services);
  for (const handler of router.earlyMiddleware()) app.use(handler);

  const limit = services.config.api.body_limit;
  // strict: false — st2's client sends a bare `null` body on some POSTs (trigger-instance re-emit).
  app.use(express.json({ limit, strict: false, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ limit, extended: true }));
  app.use(express.text({ limit, type: ['text/*', 'application/x-yaml', 'application/yaml'] }));
  app.use(bodyDepthLimit);
  // An answer shows only what is on disk: the embedded store acknowledges writes at commit and
  // fsyncs when something leaves the process, and a power cut would undo what the client was shown.
  router.mount(app, options.authenticate ?? (async () => undefined), () =>
    beforeLeavingProcess(services.store),
  );
  // The built web UI (when present) answers the remaining GETs for pages; API paths fall through.
  if (options.webUi !== false) mountWebUi(app);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new SquallError('NOT_FOUND', `no route for ${req.method} ${req.path}`, { path: req.path }, 404));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = res.getHeader('X-Request-ID');
    if (err instanceof SquallError) {
      if (err.status >= 500) services.logger.error({ err, requestId }, err.message);
      // The hint is the next step the error's author wrote for the caller (which key to set, which
      // command lists what was not found); without it in the answer the CLI and st2 clients lose it.
      const hint = typeof err.context.hint === 'string' ? { hint: err.context.hint } : {};
      res
        .status(err.status)
        .json({ faultstring: err.message, code: err.code, ...hint, request_id: requestId });
      return;
    }
    const status =
      (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      // body-parser errors: too large (413), malformed JSON (400)
      const type = (err as { type?: string }).type;
      const message =
        type === 'entity.too.large'
          ? `request body is larger than the limit of ${limit}`
          : type === 'entity.parse.failed'
            ? `request body is not valid JSON: ${(err as Error).message}`
            : (err as Error).message;
      res.status(status).json({ faultstring: message, code: type ?? 'BAD_REQUEST', request_id: requestId });
      return;
    }
    services.logger.error({ err, requestId, path: req.path }, 'unhandled API error');
    res.status(500).json({ faultstring: 'Internal Server Error', code: 'INTERNAL', request_id: requestId });
  });
  return { app, router };
}

/** First path segments of /api/v1 routes that no route outside /api starts with. */
function unversionedCollections(paths: readonly string[]): Set<string> {
  const first = (p: string) => /^\/([a-z_]+)/.exec(p)?.[1];
  const own = new Set(paths.filter((p) => !p.startsWith('/api/')).map(first));
  return new Set(
    paths
      .map((p) => /^\/api\/v1\/([a-z_]+)/.exec(p)?.[1])
      .filter((c): c is string => c !== undefined && !own.has(c)),
  );
}
