import express, {
  type Request,
  type RequestHandler,
  type Response,
  type NextFunction,
  type Express,
} from 'express';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ValidationError, errorMessage } from '../errors.js';
import { lazyValidator } from '../lazy-validator.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export type HttpMethod = 'get' | 'post' | 'put' | 'delete' | 'patch';
export type JsonSchema = Record<string, unknown>;

export interface RouteContext {
  req: Request;
  res: Response;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
}

export interface RouteSpec {
  method: HttpMethod;
  /** Express path, e.g. /api/v1/actions/:ref */
  path: string;
  summary: string;
  tag: string;
  /**
   * 'public' routes need no credentials; everything else does (when auth is enabled).
   * 'account' routes (users, API keys, role assignments) also refuse an action's token
   * (ST2_ACTION_AUTH_TOKEN): an action acts for its user but never manages the account.
   */
  auth?: 'required' | 'public' | 'account';
  query?: JsonSchema;
  body?: JsonSchema;
  response?: JsonSchema;
  /** HTTP status of a successful answer; 200 unless set. */
  status?: number;
  /**
   * Other statuses this route answers, beyond those every route of its shape gives (see
   * buildOpenApi: 400, 401, 403, 404, 413), with when. A 2xx here shares `response`'s schema.
   */
  responses?: Record<number, string>;
  /** Returns the JSON body, or undefined when the handler wrote the response itself. */
  handler: (ctx: RouteContext) => Promise<unknown> | unknown;
}

/**
 * Every API route is declared here with its schemas: the same schemas validate requests and
 * generate the OpenAPI document, so the two cannot drift apart.
 */
export class ApiRouter {
  private readonly specs: RouteSpec[] = [];
  private readonly admission: RequestHandler[] = [];
  private readonly bodyHandlers: RequestHandler[] = [];
  private ajv?: Ajv;

  add(spec: RouteSpec): this {
    this.specs.push(spec);
    return this;
  }

  routes(): readonly RouteSpec[] {
    return this.specs;
  }

  /**
   * Middleware a route module needs ahead of the app's body parsers: one that reads the raw body
   * (webhook signatures), or, with `admission`, one that refuses work before any body is read
   * (backpressure). Admission middleware runs first.
   */
  beforeBody(handler: RequestHandler, options: { admission?: boolean } = {}): this {
    (options.admission ? this.admission : this.bodyHandlers).push(handler);
    return this;
  }

  /** What beforeBody registered, in the order the app installs it. */
  earlyMiddleware(): readonly RequestHandler[] {
    return [...this.admission, ...this.bodyHandlers];
  }

  /**
   * A route's validator, compiled at its first request: compiling the ~200 routes' schemas when
   * the app was mounted was ~0.12 s of every start. `checkSchemas` compiles them all (a test).
   */
  private validator(schema: JsonSchema | undefined): ValidateFunction | undefined {
    return schema ? lazyValidator(() => this.compile(schema)) : undefined;
  }

  private compile(schema: JsonSchema): ValidateFunction {
    if (!this.ajv) {
      this.ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: false });
      addFormats(this.ajv);
    }
    return this.ajv.compile(schema);
  }

  /** Compiles every route's query and body schema now; throws on the first that ajv rejects. */
  checkSchemas(): void {
    for (const spec of this.specs) {
      for (const schema of [spec.query, spec.body]) {
        if (!schema) continue;
        try {
          this.compile(schema);
        } catch (err) {
          throw new Error(`${spec.method.toUpperCase()} ${spec.path}: ${(err as Error).message}`, {
            cause: err,
          });
        }
      }
    }
  }

  /** `durable` resolves once every write the answer may show is on disk; awaited before answering. */
  mount(
    app: Express,
    authenticate: (req: Request, spec: RouteSpec) => Promise<void>,
    durable: () => Promise<void> = async () => undefined,
  ): void {
    const handlers: Array<[RouteSpec, RequestHandler]> = [];
    for (const spec of this.specs) {
      const checkQuery = this.validator(spec.query);
      const checkBody = this.validator(spec.body);
      const handler = async (req: Request, res: Response, next: NextFunction) => {
        const hold = holdUntilDurable(res, durable);
        try {
          await authenticate(req, spec);
          // st2's Python client sends booleans as True/False.
          const query = Object.fromEntries(
            Object.entries(req.query as Record<string, unknown>).map(([k, v]) => [
              k,
              v === 'True' ? 'true' : v === 'False' ? 'false' : v,
            ]),
          );
          if (checkQuery && !checkQuery(query)) throw schemaError('query', checkQuery);
          const body = req.body;
          if (checkBody && !checkBody(body)) throw schemaError('body', checkBody);
          const result = await spec.handler({
            req,
            res,
            params: req.params as Record<string, string>,
            query,
            body,
          });
          if (hold.answered || res.headersSent) return;
          await durable();
          if (result !== undefined) res.status(spec.status ?? 200).json(result);
          else if (spec.status === 204) res.status(204).end();
        } catch (err) {
          next(err);
        }
      };
      handlers.push([spec, handler]);
    }
    app.use(prefixDispatch(handlers));
    for (const [spec, handler] of handlers) app[spec.method](spec.path, handler);
  }
}

/**
 * The routes whose path starts with the same three literal segments (`/api/v1/webhooks`), each
 * set in a router of its own, so a request is matched against its own resource's routes instead
 * of the path expression of every route registered before its own (~200 of them). Each set also
 * holds, in their original order, the routes whose first segments are not literal, so a path
 * meets the same routes in the same order as in the app's own list. A request no set handles
 * goes on to that list (every route, registered behind this dispatcher), which also answers
 * OPTIONS as before and any path this dispatch does not recognise.
 */
function prefixDispatch(handlers: ReadonlyArray<[RouteSpec, RequestHandler]>): RequestHandler {
  const keys = handlers.map(([spec]) => routePrefix(spec.path));
  const routers = new Map<string, express.Router>();
  for (const key of new Set(keys)) {
    if (key === undefined) continue;
    const router = express.Router();
    handlers.forEach(([spec, handler], i) => {
      if (keys[i] === key || keys[i] === undefined) router[spec.method](spec.path, handler);
    });
    routers.set(key, router);
  }
  return (req, res, next) => {
    const router = req.method === 'OPTIONS' ? undefined : routers.get(requestPrefix(req.url));
    if (!router) return next();
    router(req, res, next);
  };
}

const LITERAL_SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** A route's first three segments when they are literal text (Express matches them without case). */
function routePrefix(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] !== '' || parts.length < 4) return undefined;
  const head = parts.slice(1, 4);
  return head.every((p) => LITERAL_SEGMENT.test(p)) ? `/${head.join('/')}`.toLowerCase() : undefined;
}

/** The same three segments of a request's path ('' when it has fewer, or is not a plain path). */
function requestPrefix(url: string): string {
  if (url.charCodeAt(0) !== 47 /* / */) return '';
  let end = url.length;
  let slashes = 0;
  for (let i = 1; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
    if (c === 47 && ++slashes === 3) {
      end = i;
      break;
    }
  }
  return url.slice(0, end).toLowerCase();
}

/**
 * An answer leaves only once `durable` resolves (the store's sync(): every write it may show is
 * on disk), whoever sends it: the router, a handler that answers by itself (a webhook's answer, a
 * 204), or the error handler. Holds res.end, which every one of them ends with. Should the wait
 * fail (the disk failed), the answer is replaced by a 503: what it would show may be lost.
 */
function holdUntilDurable(res: Response, durable: () => Promise<void>): { answered: boolean } {
  const state = { answered: false };
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  res.end = ((...args: unknown[]) => {
    if (state.answered) return res;
    state.answered = true;
    durable().then(
      () => end(...args),
      (err: unknown) => {
        if (res.headersSent) return void res.destroy();
        res.statusCode = 503;
        res.removeHeader('Content-Length');
        res.removeHeader('ETag');
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        const code = (err as { code?: string })?.code ?? 'STORE_UNAVAILABLE';
        end(JSON.stringify({ faultstring: errorMessage(err), code }));
      },
    );
    return res;
  }) as typeof res.end;
  return state;
}

function schemaError(where: string, validate: ValidateFunction): ValidationError {
  const details = (validate.errors ?? []).map((e) => {
    const at = e.instancePath ? e.instancePath.replace(/^\//, '').replace(/\//g, '.') : where;
    return e.keyword === 'additionalProperties'
      ? `${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`
      : e.keyword === 'required'
        ? `${at}: "${(e.params as { missingProperty: string }).missingProperty}" is required`
        : `${at}: ${e.message}`;
  });
  return new ValidationError(`invalid request ${where}: ${details.join('; ')}`, { where, errors: details });
}
