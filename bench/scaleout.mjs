// Scenario 8, scale-out: scenario 1 (sync webhook → rule → core.noop) on MongoDB (FerretDB) with
// the Redis event transport, first with an `api,rules` process and ONE `runner` process, then with
// a second runner added. Real `squall start` processes from dist/, one fresh database per run
// (dropped at the end). Needs SQUALL_BENCH_MONGO_URL + SQUALL_BENCH_REDIS_URL, or else
// SQUALL_TEST_MONGO_URL + SQUALL_TEST_REDIS_URL (the test servers).
// Run alone: node bench/scaleout.mjs [requests]
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { emit, load, report, send, skip } from './lib/loadgen.mjs';
import { writeBenchPack } from './lib/pack.mjs';
import { cpuMs, scratchDir, sleep, stopProcess } from './lib/proc.mjs';
import { topSelfTime } from './lib/profile.mjs';
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
    const profEnv = prof
      ? { SQUALL_PROF_OUT: path.join(prof, `${roles.replace(',', '-')}-${procs.length}.cpuprofile`) }
      : {};
    if (prof) nodeArgs.push('--import', path.join(import.meta.dirname, 'lib', 'prof-hook.mjs'));
    const s = await startSquall(cfg, {
      health: roles.split(',').includes('api'),
      env: { ...callEnv, ...profEnv },
      nodeArgs,
    });
    s.profile = profEnv.SQUALL_PROF_OUT;
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
  // SQUALL_BENCH_PROF=<dir>: an inspector profile of each process over the measured requests only
  // (bench/lib/prof-hook.mjs, SIGUSR2 at the start and the end), summarised by self time and caller.
  const prof = process.env.SQUALL_BENCH_PROF ?? '';
  if (prof && calls) throw new Error('SQUALL_BENCH_PROF and SQUALL_BENCH_CALLS both signal SIGUSR2: use one');
  const procs = [];
  let idlePerS;
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
      if (prof || calls) for (const p of procs) p.child.kill('SIGUSR2');
      await sleep(idleS * 1000);
      idlePerS = procs.map((p, i) => (cpuMs(p.child.pid) - c0[i]) / idleS);
      const perS = idlePerS.map((c) => c.toFixed(2));
      if (prof) await summariseProfiles(procs, 'idle', log);
      if (calls) {
        for (const p of procs) p.child.kill('SIGUSR2');
        await sleep(500);
        log('scale-out: idle round trips per second:');
        printCalls(calls, procs, idleS, log, 'per second');
      }
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
    const body = JSON.stringify({ event: 'bench', value: 42 });
    const check = (status, text) => {
      if (status !== 200) return `HTTP ${status}: ${text.slice(0, 300)}`;
      const ex = JSON.parse(text).executions ?? [];
      return ex.length === 1 && ex[0].status === 'succeeded'
        ? undefined
        : `unexpected: ${text.slice(0, 300)}`;
    };
    // SQUALL_BENCH_RATES=5,10,20: before the closed-loop phase, webhooks sent at a fixed rate (open
    // loop) for SQUALL_BENCH_RATE_S seconds each (default 20). CPU over each window, from the first
    // send until every answer is in, less the idle CPU per second (SQUALL_BENCH_IDLE_S) times the
    // window, divided by the webhooks: the CPU each webhook costs, without the background work.
    const rates = (process.env.SQUALL_BENCH_RATES ?? '').split(',').filter(Boolean).map(Number);
    if (rates.length) await load({ url, body, concurrency: 16, requests: 50, check, maxMs }); // warm-up
    for (const rate of rates) {
      const seconds = Number(process.env.SQUALL_BENCH_RATE_S ?? 20);
      const r = await atRate({ url, body, rate, seconds, check, procs });
      const perHook = r.cpu.map((c) => c / r.n);
      const fitted = idlePerS ? r.cpu.map((c, i) => (c - idlePerS[i] * (r.ms / 1000)) / r.n) : undefined;
      const total = (a) => a.reduce((x, y) => x + y, 0);
      log(
        `scale-out: ${r.n} webhooks at ${rate}/s (${r.errors} failed) over ${(r.ms / 1000).toFixed(1)} s: ` +
          `CPU ${perHook.map((c) => c.toFixed(2)).join(' / ')} ms per webhook` +
          (fitted ? `; less idle ${fitted.map((c) => c.toFixed(2)).join(' / ')} ms` : ''),
      );
      emit({
        name: `${NAME}.rate_${rate}.cpu_per_request`,
        unit: 'ms',
        value: +total(perHook).toFixed(2),
        ...(fitted ? { less_idle: +total(fitted).toFixed(2) } : {}),
        n: r.n,
        errors: r.errors,
        note: `api,rules / runner: ${perHook.map((c) => c.toFixed(2)).join(' / ')} ms`,
      });
    }
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
        body,
        concurrency,
        requests,
        warmup: 50,
        maxMs,
        check,
        onMeasureStart: () => {
          cpu0 = procs.map((p) => cpuMs(p.child.pid));
          if (calls || prof) for (const p of procs) p.child.kill('SIGUSR2');
        },
      });
      const cpu = procs.map((p, i) => cpuMs(p.child.pid) - cpu0[i]);
      if (prof) await summariseProfiles(procs, 'measured', log);
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

/** Stops each process's profile (prof-hook.mjs) and prints its top self-time frames with callers. */
async function summariseProfiles(procs, what, log) {
  const cpu0 = procs.map((p) => cpuMs(p.child.pid));
  for (const p of procs) p.child.kill('SIGUSR2');
  await sleep(2000);
  for (const [i, p] of procs.entries()) {
    const sum = topSelfTime(p.profile, Number(process.env.SQUALL_BENCH_PROF_TOP ?? 25), 2);
    log(`profile (${what}): process ${i} (${i === 0 ? 'api,rules' : 'runner'}) ${p.profile}`);
    log(`  total ${sum.total_ms} ms, busy ${sum.busy_ms} ms`);
    for (const t of sum.top)
      log(
        `  ${String(t.pct_busy).padStart(5)}% ${t.fn}${t.called_from?.length ? ` <- ${t.called_from.join('; ')}` : ''}`,
      );
  }
  // The profiles' writing is not the processes' work: later CPU figures start after it.
  return procs.map((p, i) => cpuMs(p.child.pid) - cpu0[i]);
}

/**
 * Sends webhooks at `rate` per second for `seconds` (open loop: a slow answer does not hold back the
 * next send) and measures each process's CPU from the first send until the last answer.
 */
async function atRate({ url, body, rate, seconds, check, procs }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const n = Math.round(rate * seconds);
  const cpu0 = procs.map((p) => cpuMs(p.child.pid));
  const t0 = performance.now();
  let errors = 0;
  const pending = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      send(agent, url, body, { keepText: true }).then((r) => {
        if (r.error || check(r.status ?? 0, r.text ?? '')) errors++;
      }),
    );
  }
  await Promise.all(pending);
  const ms = performance.now() - t0;
  const cpu = procs.map((p, i) => cpuMs(p.child.pid) - cpu0[i]);
  agent.destroy();
  return { n, errors, ms, cpu };
}

/** The measured phase's driver calls per webhook, per process: by collection + operation, then by caller. */
function printCalls(dir, procs, done, log, unit = 'per webhook') {
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
    log(`calls: process ${i} (${i === 0 ? 'api,rules' : 'runner'}): ${per(all)} ${unit}`);
    for (const [op, n] of [...byOp].sort((a, b) => b[1] - a[1])) log(`  ${per(n).padStart(6)} ${op}`);
    if (process.env.SQUALL_BENCH_CALLS_BY_CALLER === '1')
      for (const [key, n] of Object.entries(counts).slice(0, 40)) log(`  ${per(n).padStart(6)} ${key}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { rmSync } = await import('node:fs');
  const dir = scratchDir('squall-bench-scaleout-');
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
