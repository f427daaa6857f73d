import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openStore, type ExecutionRecord, type Store } from '../../src/store/index.js';
import { MONGO_URL, REDIS_URL, freshMongoUrl, tempDir } from '../support/servers.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait.js';
import { COMPLETED_STATUSES } from '../../src/executions/index.js';

export type Json = Record<string, any>;

export const CLUSTER_AVAILABLE = Boolean(MONGO_URL && REDIS_URL);
/** Packs the fault tests load (SQUALL_PACKS_PATHS): the `reliability` pack. */
export const FIXTURE_PACKS = path.join(import.meta.dirname, 'fixtures');

export const CLUSTER_NEEDS = 'FerretDB/MongoDB (SQUALL_TEST_MONGO_URL) and Redis (SQUALL_TEST_REDIS_URL)';

/** Several `squall start --roles …` processes on one database and one Redis. */
export class Cluster {
  // Empty when there is no server: the suite is then skipped, but its body is still collected.
  readonly mongoUrl = MONGO_URL ? freshMongoUrl() : '';
  readonly data = tempDir('squall-reliability-');
  readonly processes: ServiceProcess[] = [];

  constructor(private readonly extraEnv: Record<string, string> = {}) {}

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      SQUALL_STORE_URL: this.mongoUrl,
      SQUALL_REDIS_URL: REDIS_URL!,
      SQUALL_DATA_DIR: this.data.dir,
      SQUALL_AUTH_ENABLE: 'false',
      SQUALL_LOG_LEVEL: 'warn',
      SQUALL_CHATOPS_ENABLE: 'false',
      // Quick failure detection, so the suite stays short.
      SQUALL_EXECUTIONS_HEARTBEAT_MS: '500',
      SQUALL_EXECUTIONS_DEAD_AFTER_MS: '3000',
      SQUALL_EXECUTIONS_CHECK_EVERY_MS: '1000',
      SQUALL_SCHEDULER_PROCESS_EVERY_MS: '1000',
      ...this.extraEnv,
      ...extra,
    };
  }

  /** Starts one process; processes start one after another (pack registration is not concurrent-safe). */
  async start(roles: string, extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const p = await startServiceProcess(['--roles', roles], this.env(extra), 60_000);
    this.processes.push(p);
    return p;
  }

  /** A direct connection to the cluster's database, for the test's own checks. */
  async store(): Promise<Store> {
    this.checkStore ??= await openStore({ dataDir: this.data.dir, mongoUrl: this.mongoUrl });
    return this.checkStore;
  }

  private checkStore?: Store;

  async stopAll(): Promise<void> {
    await this.checkStore?.close();
    await Promise.all(this.processes.map((p) => p.stop('SIGKILL')));
    this.data.cleanup();
  }
}

export async function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* plain text answers stay text */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Runs `fn` over `items` with at most `width` in flight. */
export async function pool<T, R>(
  items: T[],
  width: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** The completed statuses, as strings (the store's query and API answers are untyped here). */
export const TERMINAL: string[] = [...COMPLETED_STATUSES];

/**
 * Waits until none of the given executions is still queued or running; returns them from the store.
 * Polls for the non-terminal ones only (on FerretDB every query but a bare `{_id}` reads the whole
 * collection, and `$in` over thousands of ids multiplies that).
 */
export async function waitTerminal(
  store: Store,
  ids: string[],
  timeoutMs: number,
): Promise<ExecutionRecord[]> {
  const wanted = new Set(ids);
  await waitFor(
    async () => {
      const open = await store.executions.find({ status: { $nin: TERMINAL } }, { projection: { id: 1 } });
      return !open.some((e) => wanted.has(e.id));
    },
    `${ids.length} executions to reach a terminal state`,
    timeoutMs,
    ids.length > 100 ? 2000 : 500,
  );
  const all = await store.executions.find(ids.length > 100 ? {} : { id: { $in: ids } }, {
    projection: { result: 0, parameters: 0 } as never,
  });
  return all.filter((e) => wanted.has(e.id));
}

/** How many times each execution entered `running` (from its status log). */
export function runningEntries(e: ExecutionRecord): number {
  return (e.log ?? []).filter((l) => l.status === 'running').length;
}

/** Resident memory of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}
