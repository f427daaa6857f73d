import { createWriteStream } from 'node:fs';
import { loadConfig, type SquallConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { startService, type Services, type Subsystem } from '../../src/service/index.js';
import { authSubsystem, getAuthService } from '../../src/auth/index.js';
import { kvSubsystem } from '../../src/kv/index.js';
import { tempDir } from './servers.js';
import { waitFor } from './wait.js';

export interface TestApi {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** A login token of the admin (st2admin), valid for the whole test. */
  adminToken: string;
  adminUser: string;
  adminPassword: string;
  services: Services;
  config: SquallConfig;
  dataDir: string;
  /** Creates a user with these roles (and a password) and returns a login token for them. */
  tokenFor(user: string, roles: string[], password?: string): Promise<string>;
  /** fetch() against the API with a token (the admin's unless `token` is given). */
  request(
    method: string,
    path: string,
    opts?: { body?: unknown; token?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Stops the service and removes its data directory. */
  stop(): Promise<void>;
}

export interface StartTestApiOptions {
  /** Extra subsystems (yours), started after auth and kv. */
  subsystems?: Subsystem[];
  /** Config overrides by dotted path, e.g. {'rbac.permission_isolation': true}. */
  overrides?: Record<string, unknown>;
  /** Use this data directory (kept on stop) instead of a fresh temporary one. */
  dataDir?: string;
  /** mongodb:// URL to run on MongoDB instead of the embedded store. */
  mongoUrl?: string;
  /** Write the service's log (pino JSON, this level) to this file instead of discarding it. */
  log?: { level: string; file: string };
}

export const TEST_ADMIN_PASSWORD = 'test-admin-password';

/**
 * Starts an in-process Squall with auth on (and RBAC, the datastore and your subsystems) on a
 * free port, with a temporary data directory. Call stop() in afterAll.
 */
export async function startTestApi(options: StartTestApiOptions = {}): Promise<TestApi> {
  const temp = options.dataDir ? undefined : tempDir('squall-api-');
  const dataDir = options.dataDir ?? temp!.dir;
  const { config } = loadConfig({
    env: {},
    cwd: dataDir,
    overrides: {
      data_dir: dataDir,
      'api.host': '127.0.0.1',
      'api.port': 0,
      'auth.enable': true,
      'auth.admin_password': TEST_ADMIN_PASSWORD,
      'log.level': 'silent',
      'scheduler.process_every_ms': 200,
      ...(options.mongoUrl ? { 'store.url': options.mongoUrl } : {}),
      ...options.overrides,
    },
  });
  const logger = options.log
    ? createLogger({
        level: options.log.level,
        format: 'json',
        destination: createWriteStream(options.log.file),
      })
    : createLogger({ level: 'silent', format: 'json' });
  const running = await startService({
    config,
    logger,
    subsystems: [authSubsystem(), kvSubsystem(), ...(options.subsystems ?? [])],
  });
  const auth = getAuthService(running.services);
  const adminUser = auth.settings.admin_username;
  let adminToken: string;
  try {
    adminToken = (await auth.issueToken(adminUser, 24 * 3600)).token;
  } catch (err) {
    await running.stop();
    temp?.cleanup();
    throw err;
  }
  const url = running.url;

  const request: TestApi['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? adminToken : opts.token;
    if (token) headers['X-Auth-Token'] = token;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(url + path, {
      method: method.toUpperCase(),
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body, headers: res.headers };
  };

  return {
    url,
    adminToken,
    adminUser,
    adminPassword: TEST_ADMIN_PASSWORD,
    services: running.services,
    config,
    dataDir,
    async tokenFor(user, roles, password = `${user}-password`) {
      if (await auth.getUser(user)) await auth.updateUser(user, { roles, password });
      else await auth.createUser(user, { roles, password });
      return (await auth.login(user, password)).token;
    },
    request,
    async stop() {
      await running.stop();
      temp?.cleanup();
    },
  };
}

/** Every subsystem of `squall start` but auth and kv (startTestApi brings those). */
export async function allSubsystems(): Promise<Subsystem[]> {
  const { defaultSubsystems } = await import('../../src/subsystems.js');
  const { config } = loadConfig({ env: {}, overrides: {} });
  return defaultSubsystems(config).filter((s) => s.name !== 'auth' && s.name !== 'kv');
}

/** Waits until the execution has succeeded or failed and returns it (as the admin sees it). */
export async function finishedExecution(api: TestApi, id: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(
    async () => {
      const e = (await api.request('GET', `/api/v1/executions/${id}`)).body;
      return ['succeeded', 'failed'].includes(e?.status) ? e : null;
    },
    `execution ${id} to finish`,
    timeoutMs,
    100,
  );
}
