// Scenario 8, scale-out: scenario 1 (sync webhook → rule → core.noop) on MongoDB (FerretDB) with
// the Redis event transport, first with an `api,rules` process and ONE `runner` process, then with
// a second runner added. Real `squall start` processes from dist/, one fresh database per run
// (dropped at the end). Needs SQUALL_BENCH_MONGO_URL + SQUALL_BENCH_REDIS_URL, or else
// SQUALL_TEST_MONGO_URL + SQUALL_TEST_REDIS_URL (the test servers).
// Run alone: node bench/scaleout.mjs [requests]
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { emit, load, report, skip } from './lib/loadgen.mjs';
import { writeBenchPack } from './lib/pack.mjs';
import { cpuMs, sleep, stopProcess } from './lib/proc.mjs';
import { startSquall, writeSquallConfig } from './lib/squall.mjs';

const NAME = 'scaleout.webhook_core_noop';

/** The servers to use, or the reason there are none. */
export function scaleOutServers(env = process.env) {
  const mongo = env.SQUALL_BENCH_MONGO_URL || (!env.SQUALL_BENCH_REDIS_URL && env.SQUALL_TEST_MONGO_URL);
  const redis = env.SQUALL_BENCH_REDIS_URL || (!env.SQUALL_BENCH_MONGO_URL && env.SQUALL_TEST_REDIS_URL);
  if (!mongo || !redis)
    return {
      reason:
        'needs SQUALL_BENCH_MONGO_URL + SQUALL_BENCH_REDIS_URL (or SQUALL_TEST_MONGO_URL + SQUALL_TEST_REDIS_URL)',
    };
  const url = new URL(mongo);
  url.pathname = `/squall_bench_${Date.now().toString(36)}`;
  return { mongo: url.toString(), redis };
}

/** How many records the API lists for a query (X-Total-Count). */
async function total(apiUrl, pathAndQuery) {
  const res = await fetch(`${apiUrl}${pathAndQuery}${pathAndQuery.includes('?') ? '&' : '?'}limit=1`);
  if (!res.ok) throw new Error(`GET ${pathAndQuery}: HTTP ${res.status}`);
  return Number(res.headers.get('x-total-count') ?? NaN);
}

/**
 * Waits until the previous phase's backlog is worked off (no trigger instance pending or
 * processing, no execution queued or running), so each phase measures its own requests.
 * Returns what was still open when it gave up.
 */
async function drain(apiUrl, maxMs) {
  const until = performance.now() + maxMs;
  for (;;) {
    const open =
      (await total(apiUrl, '/api/v1/triggerinstances?status=pending')) +
      (await total(apiUrl, '/api/v1/triggerinstances?status=processing')) +
      (await total(apiUrl, '/api/v1/executions?status=requested,scheduled,running'));
    if (open === 0 || performance.now() > until) return open;
    await sleep(500);
  }
}

/**
 * @param {{dir: string, requests: number, concurrency?: number, maxMs?: number,
 *   log?: (msg: string) => void, track?: (child: import('node:child_process').ChildProcess) => void}} opts
 */
export async function runScaleOut({
  dir,
  requests,
  concurrency = 16,
  maxMs = 60_000,
  log = () => {},
  track,
}) {
  const servers = scaleOutServers();
  if (!servers.mongo) return skip(NAME, servers.reason);
  const packs = path.join(dir, 'packs');
  writeBenchPack(packs);
  // One data dir for all processes: they share the datastore key, as a real deployment does.
  const shared = {
    data_dir: path.join(dir, 'scaleout-data'),
    store: { url: servers.mongo },
    redis: { url: servers.redis },
    chatops: { enable: false },
  };
  const start = async (roles) => {
    const cfg = writeSquallConfig(
      path.join(dir, `scaleout-${roles.replace(',', '-')}-${Date.now()}`),
      packs,
      {
        ...shared,
        roles: roles.split(','),
      },
    );
    log(`scale-out: starting --roles ${roles}`);
    // SQUALL_BENCH_NODE_ARGS: e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" for every process.
    const nodeArgs = process.env.SQUALL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const s = await startSquall(cfg, { health: roles.split(',').includes('api'), env: callEnv, nodeArgs });
    track?.(s.child);
    return s;
  };
  // SQUALL_BENCH_CALLS=1: count each process's driver calls in the measured requests (a preload,
  // bench/lib/count-mongo-calls.mjs) and print them per webhook by collection, operation and caller.
  const calls = process.env.SQUALL_BENCH_CALLS === '1' ? mkdtempSync(path.join(os.tmpdir(), 'calls-')) : '';
  const callEnv = calls
    ? {
        SQUALL_COUNT_CALLS_DIR: calls,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${path.join(import.meta.dirname, 'lib', 'count-mongo-calls.mjs')}`,
      }
    : {};
  const procs = [];
  try {
    // One after another: pack registration at start-up is not safe to run concurrently.
    const api = await start('api,rules');
    procs.push(api);
    procs.push(await start('runner'));
    // SQUALL_BENCH_IDLE_S=60: before any webhook, each process's CPU per second while nothing
    // happens (polls, leases, sweeps), after 10 s for the start-up's own work to settle.
    const idleS = Number(process.env.SQUALL_BENCH_IDLE_S ?? 0);
    if (idleS > 0) {
      await sleep(10_000);
      const c0 = procs.map((p) => cpuMs(p.child.pid));
      await sleep(idleS * 1000);
      const perS = procs.map((p, i) => ((cpuMs(p.child.pid) - c0[i]) / idleS).toFixed(2));
      log(`scale-out: idle CPU over ${idleS} s: api,rules ${perS[0]} ms/s; runner ${perS[1]} ms/s`);
      emit({
        name: `${NAME}.idle_cpu_per_s`,
        unit: 'ms',
        value: +perS[0] + +perS[1],
        n: idleS,
        note: perS.join(' / '),
      });
    }
    const url = `${api.url}/api/v1/webhooks/bench_noop?wait=10`;
    const check = (status, text) => {
      if (status !== 200) return `HTTP ${status}: ${text.slice(0, 300)}`;
      const ex = JSON.parse(text).executions ?? [];
      return ex.length === 1 && ex[0].status === 'succeeded'
        ? undefined
        : `unexpected: ${text.slice(0, 300)}`;
    };
    // SQUALL_BENCH_SCALEOUT_RUNNERS=1: the one-runner phase only (A/B pairs in half the time).
    const phases = process.env.SQUALL_BENCH_SCALEOUT_RUNNERS === '1' ? [1] : [1, 2];
    for (const runners of phases) {
      if (runners === 2) procs.push(await start('runner'));
      const open = await drain(api.url, 30_000);
      if (open)
        log(`scale-out: ${open} trigger instances/executions still open from before; measuring anyway`);
      log(`scale-out: ${requests} webhooks at concurrency ${concurrency} with ${runners} runner(s)`);
      let cpu0 = [];
      const run = await load({
        url,
        body: JSON.stringify({ event: 'bench', value: 42 }),
        concurrency,
        requests,
        warmup: 50,
        maxMs,
        check,
        onMeasureStart: () => {
          cpu0 = procs.map((p) => cpuMs(p.child.pid));
          if (calls) for (const p of procs) p.child.kill('SIGUSR2');
        },
      });
      const cpu = procs.map((p, i) => cpuMs(p.child.pid) - cpu0[i]);
      if (calls) {
        for (const p of procs) p.child.kill('SIGUSR2');
        await sleep(500);
        printCalls(calls, procs, run.latencies.length + run.errors, log);
      }
      report(`${NAME}.${runners}_runner${runners > 1 ? 's' : ''}.c${concurrency}`, run, { store: 'mongo' });
      const done = run.latencies.length + run.errors;
      if (done)
        emit({
          name: `${NAME}.${runners}_runner${runners > 1 ? 's' : ''}.cpu_per_request`,
          unit: 'ms',
          value: +(cpu.reduce((a, b) => a + b, 0) / done).toFixed(2),
          n: done,
          note: `api,rules ${(cpu[0] / done).toFixed(2)} ms; runners ${cpu
            .slice(1)
            .map((c) => (c / done).toFixed(2))
            .join(' / ')} ms`,
        });
    }
  } finally {
    for (const p of procs.reverse()) await stopProcess(p.child);
    const client = new MongoClient(servers.mongo, { serverSelectionTimeoutMS: 5000 });
    try {
      await client.connect();
      await client.db().dropDatabase();
    } catch (err) {
      log(`scale-out: could not drop ${servers.mongo}: ${String(err)}`);
    } finally {
      await client.close();
    }
  }
}

/** The measured phase's driver calls per webhook, per process: by collection + operation, then by caller. */
function printCalls(dir, procs, done, log) {
  for (const [i, p] of procs.entries()) {
    const files = readdirSync(dir)
      .filter((f) => f.startsWith(`${p.child.pid}-`))
      .sort((a, b) => Number(a.split('-')[1].split('.')[0]) - Number(b.split('-')[1].split('.')[0]));
    if (files.length === 0) continue;
    const { counts } = JSON.parse(readFileSync(path.join(dir, files.at(-1)), 'utf8'));
    const byOp = new Map();
    let all = 0;
    for (const [key, n] of Object.entries(counts)) {
      const op = key.split(' | ')[0];
      byOp.set(op, (byOp.get(op) ?? 0) + n);
      all += n;
    }
    const per = (n) => (n / done).toFixed(2);
    log(`calls: process ${i} (${i === 0 ? 'api,rules' : 'runner'}): ${per(all)} per webhook`);
    for (const [op, n] of [...byOp].sort((a, b) => b[1] - a[1])) log(`  ${per(n).padStart(6)} ${op}`);
    if (process.env.SQUALL_BENCH_CALLS_BY_CALLER === '1')
      for (const [key, n] of Object.entries(counts).slice(0, 40)) log(`  ${per(n).padStart(6)} ${key}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-scaleout-'));
  try {
    await runScaleOut({
      dir,
      requests: Number(process.argv[2] ?? 500),
      log: (m) => process.stderr.write(`${m}\n`),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
