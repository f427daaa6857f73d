import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SquallConfig } from '../config/index.js';
import { EventBus } from '../events/index.js';
import { useValidatorCache } from '../lazy-validator.js';
import type { Logger } from '../log/index.js';
import { Scheduler } from '../scheduler/index.js';
import { beforeLeavingProcess, openStore, secureDataDir } from '../store/index.js';
import { SquallError } from '../errors.js';
import { createApiApp, type RouteModule } from '../api/index.js';
import { attachRedisEvents, redisNotificationChannel } from './redis.js';
import { wireContentCache } from './content-cache.js';
import { guardRegexBacktracking } from './regex-guard.js';
import type { Services } from './types.js';

export type { Services } from './types.js';
export { attachRedisEvents, redisChannels } from './redis.js';
export { CONTENT_CACHE_FORGET, forgottenCollections, type ContentCacheForget } from './content-cache.js';
export {
  CRASH_EXIT_CODE,
  crashPolicyInstalled,
  installCrashPolicy,
  tolerateRejections,
  type CrashPolicyOptions,
} from './crash-policy.js';

/** A subsystem that joins a running process: registers jobs and routes, starts and stops. */
export interface Subsystem {
  name: string;
  routes?: RouteModule;
  /** Decides who a request is (one subsystem, auth, provides it). */
  authenticate?: (
    services: Services,
  ) => (req: import('express').Request, spec: import('../api/index.js').RouteSpec) => Promise<void>;
  init?(services: Services): Promise<void> | void;
  start?(services: Services): Promise<void> | void;
  stop?(services: Services): Promise<void> | void;
  /**
   * At shutdown, when this process's jobs still run after `executions.shutdown_grace_ms`: end
   * them now; they then record how they ended (the executions service kills its actions).
   */
  overdue?(services: Services): Promise<void> | void;
  /** At shutdown, as the scheduler stops taking jobs: start no more work of its own (not jobs). */
  quiesce?(services: Services): void;
  /** Work of its own (not jobs) under way: shutdown gives it the grace period jobs get. */
  busy?(services: Services): number;
}

export interface RunningService {
  services: Services;
  url: string;
  stop(): Promise<void>;
}

export interface StartServiceOptions {
  config: SquallConfig;
  logger: Logger;
  subsystems?: Subsystem[];
}

export function hasRole(config: SquallConfig, role: string): boolean {
  return config.roles.includes('all') || config.roles.includes(role);
}

/**
 * Brings up one Squall process: store, event bus, scheduler, subsystems and (with the api role)
 * the HTTP server. stop() shuts down in reverse order, letting in-flight jobs finish first.
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { config, logger } = options;
  const subsystems = options.subsystems ?? [];
  const began = performance.now();
  guardRegexBacktracking();
  secureDataDir(config.data_dir);
  // Pack schemas' validators are kept as code: registration at the next start loads them.
  useValidatorCache(config.data_dir);
  const store = await openStore({
    dataDir: config.data_dir,
    mongoUrl: config.store.url,
    cacheMb: config.store.cache_mb,
    check: config.store.check_on_start,
    // A large file is checked on a worker thread once start-up is over, not competing with it.
    checkDelayMs: 10_000,
    onMigrationProgress: (p) =>
      logger.info(
        p,
        `importing the old (nedb) store: ${p.file} (${p.fileIndex}/${p.files}), ${p.records} records`,
      ),
  });
  store.embedded?.checked.catch((err: unknown) =>
    logger.fatal(
      { err },
      'the store file is damaged: stop Squall and restore it (see README, "Where data lives")',
    ),
  );
  if (await store.mongo?.scansById())
    logger.warn(
      'this FerretDB reads a whole collection for every lookup by _id (FerretDB 1.x on SQLite does not use its _id index), ' +
        'so Squall slows down as history grows: use MongoDB, or a FerretDB with the fix .ci/run applies (see README, "Scaling out")',
    );
  const bus = new EventBus();
  bus.durableBeforeTransport(() => beforeLeavingProcess(store));
  const { onLink } = wireContentCache(store, bus, Boolean(config.redis.url), logger);
  // With Redis, job notifications and bus events cross processes at once (see "Scaling out" in README.md).
  const database = store.mongo?.database;
  if (config.redis.url) await attachRedisEvents(bus, config.redis.url, logger, onLink, database);
  const scheduler = new Scheduler({
    notificationChannel: config.redis.url
      ? redisNotificationChannel(config.redis.url, logger, database)
      : undefined,
    store,
    logger: logger.child({ component: 'scheduler' }),
    processEveryMs: config.scheduler.process_every_ms,
    maxConcurrency: config.scheduler.max_concurrency,
    lockLifetimeMs: config.scheduler.lock_lifetime_ms,
  });
  const host = config.api.host;
  const services: Services = {
    config,
    logger,
    store,
    bus,
    scheduler,
    startedAt: new Date(),
    apiUrl: config.api.url ?? `http://${host}:${config.api.port}`,
  };

  // How long each step of start-up took (logged once up): on a slow store this shows what a
  // restart waits on.
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const timed = async (name: string, step: () => Promise<void> | void) => {
    await step();
    const now = performance.now();
    phases[name] = Math.round(now - mark);
    mark = now;
  };
  phases.store = Math.round(mark - began);
  for (const sub of subsystems) await timed(`init:${sub.name}`, () => sub.init?.(services));

  let server: http.Server | undefined;
  let url = services.apiUrl;
  if (hasRole(config, 'api')) {
    const authProvider = subsystems.find((s) => s.authenticate);
    const { app } = createApiApp(services, {
      modules: subsystems.flatMap((s) => (s.routes ? [s.routes] : [])),
      authenticate: authProvider?.authenticate?.(services),
    });
    // Slow clients (slowloris): Node's defaults let one trickle headers for 60 s, checked only
    // every 30 s, holding a socket each; these close such connections soon after the limit.
    // Idle keep-alive: with Node's 5 s, a client or load balancer reusing a socket just as the
    // server closed it lost its request (ECONNRESET, no answer); Node 20 does not count the idle
    // time against headersTimeout, so the two are independent.
    server = http.createServer(
      {
        keepAliveTimeout: config.api.keep_alive_timeout_ms,
        headersTimeout: config.api.headers_timeout_ms,
        requestTimeout: config.api.request_timeout_ms,
        connectionsCheckingInterval: Math.min(5_000, config.api.headers_timeout_ms),
      },
      app,
    );
    await new Promise<void>((resolve, reject) => {
      server!.once('error', (err) => reject(listenError(err, host, config.api.port)));
      server!.listen(config.api.port, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (!config.api.url) services.apiUrl = url;
    await timed('api', () => {});
  }

  await timed('scheduler', () => scheduler.start());
  for (const sub of subsystems) await timed(`start:${sub.name}`, () => sub.start?.(services));
  logger.info({ phases, ms: Math.round(performance.now() - began) }, 'start-up phases (ms)');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (server) {
        // A connection busy when the stop began turns idle once its answer is out, and keep-alive
        // would then hold it (and this close) for api.keep_alive_timeout_ms: idle ones are closed
        // as they appear.
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        const sweep = setInterval(() => server!.closeIdleConnections(), 100);
        await closed.finally(() => clearInterval(sweep));
      }
      // No new job starts here from now on; running ones get the grace period, then are ended.
      for (const sub of subsystems) sub.quiesce?.(services);
      await scheduler.quiesce({
        graceMs: config.executions.shutdown_grace_ms,
        alsoRunning: () => subsystems.reduce((n, sub) => n + (sub.busy?.(services) ?? 0), 0),
        overdue: async () => {
          for (const sub of subsystems) await sub.overdue?.(services);
        },
      });
      for (const sub of [...subsystems].reverse()) {
        try {
          await sub.stop?.(services);
        } catch (err) {
          logger.error({ err, subsystem: sub.name }, 'subsystem failed to stop cleanly');
        }
      }
      await scheduler.stop();
      await bus.close();
      await store.close();
      useValidatorCache(undefined);
    })());

  return { services, url, stop };
}

/** A port that cannot be had is the commonest first-start failure: say which and what to do. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  const other = `squall start --port ${port + 1} (or api.port in squall.yaml, SQUALL_API_PORT)`;
  if (err.code === 'EADDRINUSE') {
    return new SquallError(
      'API_PORT_IN_USE',
      `cannot listen on ${where}: the port is already in use (another Squall, or another program)`,
      { host, port, hint: `stop the other process, or start on another port: ${other}` },
    );
  }
  if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
    return new SquallError('API_LISTEN_FAILED', `cannot listen on ${where}: ${err.message}`, {
      host,
      port,
      code: err.code,
      hint: `check api.host, or start on another port: ${other}`,
    });
  }
  return err;
}
