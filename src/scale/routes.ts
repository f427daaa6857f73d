import type { NextFunction, Request, Response } from 'express';
import type { Registry } from 'prom-client';
import type { RouteModule } from '../api/index.js';
import type { Services } from '../service/index.js';
import { backpressureGuard } from './backpressure.js';
import { queueDepth } from './queue.js';
import { RESULT_REF_KEY, readResultJson, resultRefOf } from './results.js';

const EXECUTION_PATH = /^\/api\/v1\/executions\/([0-9a-f]{24})(\/result)?\/?$/;

/**
 * Answers GET /api/v1/executions/:id and /:id/result with the whole result when it is stored
 * apart: the route itself runs unchanged (auth, RBAC, attribute selection) and this wraps its
 * res.json, splicing the stored JSON text in place of the preview without parsing it.
 */
export function fullResults(services: Services) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' || !EXECUTION_PATH.test(req.path)) return next();
    const wholeResult = Boolean(EXECUTION_PATH.exec(req.path)?.[2]);
    const json = res.json.bind(res);
    res.json = ((body: unknown) => {
      const holder = wholeResult ? undefined : (body as Record<string, unknown> | null);
      const ref = resultRefOf(wholeResult ? body : holder?.result);
      if (!ref) return json(body);
      readResultJson(services, ref)
        .then((text) => {
          if (wholeResult) return res.type('application/json').send(text);
          const { result: _preview, ...rest } = holder!;
          const head = JSON.stringify(rest);
          res
            .type('application/json')
            .send(`${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"result":${text}}`);
        })
        .catch(next);
      return res;
    }) as typeof res.json;
    next();
  };
}

const registries = new WeakMap<Services, Promise<Registry>>();

/**
 * The process's Prometheus registry, made at the first scrape: prom-client (with OpenTelemetry's
 * API, ~85 modules) is loaded then, not at every start.
 */
function metricsRegistry(services: Services): Promise<Registry> {
  let registry = registries.get(services);
  if (!registry) {
    registry = import('prom-client').then((m) => makeRegistry(m.default, services));
    registries.set(services, registry);
  }
  return registry;
}

function makeRegistry(client: typeof import('prom-client'), services: Services): Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'squall_' });
  const depth = () => queueDepth(services);
  new client.Gauge({
    name: 'squall_execution_queue_depth',
    help: 'Executions requested, scheduled or delayed and not yet running (this process’s estimate).',
    registers: [registry],
    collect() {
      this.set(depth().value);
    },
  });
  new client.Gauge({
    name: 'squall_execution_queue_limit',
    help: 'backpressure.max_queue_depth (0 = no limit).',
    registers: [registry],
    collect() {
      this.set(services.config.backpressure.max_queue_depth);
    },
  });
  for (const [name, help, read] of [
    [
      'squall_store_commits_total',
      'Transactions the embedded store committed.',
      () => services.store.embedded?.commits,
    ],
    [
      'squall_store_fsyncs_total',
      'fsyncs of the embedded store’s WAL (one per group of commits).',
      () => services.store.embedded?.fsyncs,
    ],
  ] as const) {
    new client.Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read() ?? 0);
      },
    });
  }
  return registry;
}

/** Metrics routes, and the admission guard and full-result answers placed in front of the app. */
export function scaleRoutes(): RouteModule {
  return (router, services) => {
    router.add({
      method: 'get',
      path: '/api/v1/metrics/queue',
      summary: 'Depth of the execution queue, as this process counts it, and the backpressure limit',
      tag: 'metrics',
      handler: () => queueDepth(services).snapshot(),
    });
    router.add({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics of this process (queue depth, limit, Node.js runtime)',
      tag: 'metrics',
      handler: async ({ res }) => {
        const reg = await metricsRegistry(services);
        res.type(reg.contentType).send(await reg.metrics());
        return undefined;
      },
    });
    router.beforeBody(backpressureGuard(services), { admission: true });
    router.beforeBody(fullResults(services));
  };
}

export { RESULT_REF_KEY };
