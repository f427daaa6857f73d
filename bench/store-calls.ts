// Store calls per webhook → rule → core.noop, by collection and method: the figure the
// round-trip cuts of issue 19 are judged by (each call is a round trip on MongoDB).
// `node --import tsx bench/store-calls.ts [n]`; on MongoDB with SQUALL_BENCH_MONGO_URL;
// SQUALL_BENCH_HOOK=bench_local for webhook → rule → core.local `true`; SQUALL_BENCH_CONC=16 sends the
// n webhooks 16 at a time (the in-process client does not batch commits as an outside one does);
// SQUALL_BENCH_ACTIONTRIGGER=1 stores the action trigger's instance per execution as an st2 host does
// (`rules.store_unheard_actiontrigger`, off by default).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../src/log/index.js';
import { EmbeddedJobRepository } from '../src/scheduler/index.js';
import { startService } from '../src/service/index.js';
import { defaultSubsystems } from '../src/subsystems.js';
// @ts-expect-error -- a plain JS helper of the bench, without types
import { writeBenchPack } from './lib/pack.mjs';
import { benchConfig } from './lib/inproc.js';
import { countStoreCalls } from './lib/count-calls.js';

const n = Number(process.argv[2] ?? 50);
const HOOK = process.env.SQUALL_BENCH_HOOK ?? 'bench_noop';
const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-calls-'));
writeBenchPack(path.join(dir, 'packs'));
const config = benchConfig(dir);
if (process.env.SQUALL_BENCH_ACTIONTRIGGER) config.rules.store_unheard_actiontrigger = true;
// Scaled out (MongoDB + Redis), the content cache hears of other processes' writes over Redis.
if (process.env.SQUALL_BENCH_REDIS_URL) config.redis.url = process.env.SQUALL_BENCH_REDIS_URL;
// Agenda's job-row calls on the embedded store, counted apart (not in the total): each reads or
// writes a row of agenda_jobs. Counted on the prototype, below the scheduler's own wrappers.
const jobCalls = new Map<string, number>();
const jobProto = EmbeddedJobRepository.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const method of ['saveJob', 'saveJobState', 'lockJob', 'getNextJobToRun', 'removeJobs', 'unlockJob']) {
  const original = jobProto[method];
  jobProto[method] = function (this: unknown, ...args: unknown[]) {
    jobCalls.set(method, (jobCalls.get(method) ?? 0) + 1);
    return original.apply(this, args);
  };
}
// SQLite statements per webhook on the embedded store, by their SQL (each is a call into SQLite:
// what the statement cuts of issue 19 are judged by). Counted on better-sqlite3's prototypes.
const statements = new Map<string, number>();
const countSql = (sql: string) => {
  const key = sql.replace(/\s+/g, ' ').slice(0, 90);
  statements.set(key, (statements.get(key) ?? 0) + 1);
};
{
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (f: string) => {
    prepare(sql: string): object;
    close(): void;
  };
  const probe = new Database(':memory:');
  const stmtProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = stmtProto[method] as (...a: unknown[]) => unknown;
    stmtProto[method] = function (this: { source: string }, ...args: unknown[]) {
      countSql(this.source);
      return original.apply(this, args);
    };
  }
  const dbProto = (Database as unknown as { prototype: Record<string, unknown> }).prototype;
  const exec = dbProto.exec as (sql: string) => unknown;
  dbProto.exec = function (this: unknown, sql: string) {
    countSql(sql);
    return exec.call(this, sql);
  };
}
const tStart = Date.now();
const running = await startService({ config, logger: silentLogger(), subsystems: defaultSubsystems(config) });
process.stderr.write(`started in ${Date.now() - tStart} ms\n`);
const counts = countStoreCalls(running.services.store);
const hook = async () => {
  const res = await fetch(`${running.url}/api/v1/webhooks/${HOOK}?wait=10`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":1}',
  });
  const body = (await res.json()) as { executions?: { status: string }[] };
  if (res.status !== 200 || body.executions?.[0]?.status !== 'succeeded')
    throw new Error(`webhook answered ${res.status} ${JSON.stringify(body)}`);
};
for (let i = 0; i < 10; i++) await hook();
await new Promise((r) => setTimeout(r, 500));
counts.clear();
jobCalls.clear();
statements.clear();
const cache = running.services.store.contentCache;
const hits0 = cache.hits;
const t0 = Date.now();
const cpu0 = process.cpuUsage();
const conc = Number(process.env.SQUALL_BENCH_CONC ?? 1);
let sent = 0;
await Promise.all(
  Array.from({ length: conc }, async () => {
    while (sent++ < n) await hook();
  }),
);
const ms = (Date.now() - t0) / n;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000 / n;
const hits = cache.hits - hits0;
await new Promise((r) => setTimeout(r, 500));
const rows = [...counts].sort((a, b) => b[1] - a[1]);
let total = 0;
for (const [label, c] of rows) {
  total += c;
  process.stdout.write(`${(c / n).toFixed(2).padStart(7)}  ${label}\n`);
}
process.stdout.write(`${(hits / n).toFixed(2).padStart(7)}  of which answered by the content cache\n`);
for (const [method, c] of [...jobCalls].sort((a, b) => b[1] - a[1]))
  process.stdout.write(
    `${(c / n).toFixed(2).padStart(7)}  agenda_jobs.${method} (embedded store; not in the total)\n`,
  );
process.stdout.write(
  `${((total - hits) / n).toFixed(2).padStart(7)}  store calls per webhook (n=${n}, concurrency ${conc}, ${ms.toFixed(1)} ms each, ${cpuMs.toFixed(2)} ms CPU each, client included)\n`,
);
if (statements.size) {
  let sql = 0;
  for (const [text, c] of [...statements].sort((a, b) => b[1] - a[1])) {
    sql += c;
    process.stdout.write(`${(c / n).toFixed(2).padStart(7)}  sqlite: ${text}\n`);
  }
  process.stdout.write(
    `${(sql / n).toFixed(2).padStart(7)}  SQLite statements per webhook (embedded store)\n`,
  );
}
// stop() of an in-process service with every subsystem can take minutes here (not a figure of
// this script): give it 10 s, then leave.
await Promise.race([running.stop(), new Promise((r) => setTimeout(r, 10_000).unref())]);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
