// Issue 19, "use the second core": does webhook → rule → core.noop at c16 on the EMBEDDED store go
// faster when a second `squall start` process on the same data dir (the same SQLite file) takes a
// share of the work? A measurement, not a supported set-up: the second process needs a channel for
// events and job notifications, and today only Redis carries them, so this bench starts a private
// `redis-server` (its own port, no persistence; stopped at the end) for the split modes.
//
//   node bench/twocore.mjs MODE[,MODE…] [requests] [rounds]
//
// MODE: `one` (`npm start` as is: one process, no Redis), `one-redis` (the same with the Redis
// transport attached: what the channel alone costs), `split` (`--roles api,rules` + `--roles
// runner`), `split-api` (`--roles api` + `--roles rules,runner`). Modes alternate round by round
// (A/B pairs). Per mode and round: throughput and p50 over `requests` webhooks at c16 after a
// warm-up, CPU per webhook of each Squall process (/proc, with descendants), the load generator's
// own CPU, and the load average.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { load, percentile } from './lib/loadgen.mjs';
import { cpuMs, freePort, sleep, stopProcess } from './lib/proc.mjs';
import { benchSquallDir, startSquall, writeSquallConfig } from './lib/squall.mjs';

const MODES = (process.argv[2] ?? 'one,split').split(',');
const N = Number(process.argv[3] ?? 3000);
const ROUNDS = Number(process.argv[4] ?? 2);
const CONC = Number(process.env.SQUALL_BENCH_CONC ?? 16);
const ROLES = {
  one: [['all']],
  'one-redis': [['all']],
  split: [['api', 'rules'], ['runner']],
  'split-api': [['api'], ['rules', 'runner']],
};

const body = JSON.stringify({ event: 'bench', value: 42 });
const check = (status, text) => {
  if (status !== 200) return `HTTP ${status}: ${text.slice(0, 300)}`;
  const ex = JSON.parse(text).executions ?? [];
  return ex.length === 1 && ex[0].status === 'succeeded' ? undefined : `unexpected: ${text.slice(0, 300)}`;
};
const loadavg = () => os.loadavg()[0].toFixed(2);

/**
 * SQUALL_TWOCORE_LOCKSTATS=<dir>: what each process's SQLite write transactions cost it
 * (bench/lib/sqlite-lock-hook.mjs, preloaded): time blocked in BEGIN IMMEDIATE on the other
 * process's lock, and time holding it.
 */
const LOCKSTATS = process.env.SQUALL_TWOCORE_LOCKSTATS;
function lockStats(pid) {
  try {
    return JSON.parse(readFileSync(`${LOCKSTATS}/${pid}.json`, 'utf8'));
  } catch {
    return undefined;
  }
}
function lockDelta(a, b, n, ms) {
  if (!a || !b) return undefined;
  return {
    wait_ms_per_webhook: +((b.wait - a.wait) / n).toFixed(3),
    waits_over_half_ms_per_webhook: +((b.slow - a.slow) / n).toFixed(3),
    held_ms_per_webhook: +((b.held - a.held) / n).toFixed(3),
    held_share_of_wall: +((b.held - a.held) / ms).toFixed(3),
    transactions_per_webhook: +((b.begins - a.begins) / n).toFixed(2),
  };
}

async function startRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return { child, url: `redis://127.0.0.1:${port}` };
  }
  child.kill('SIGTERM');
  throw new Error('redis-server did not start');
}
async function runMode(mode, redis) {
  const redisUrl = redis?.url;
  const sq = benchSquallDir(`squall-twocore-${mode}-`);
  const shared = JSON.parse(readFileSync(sq.cfg, 'utf8'));
  const procs = [];
  const began = performance.now();
  try {
    for (const roles of ROLES[mode]) {
      const cfg = writeSquallConfig(path.join(sq.dir, `p-${roles.join('-')}`), shared.packs.paths[0], {
        data_dir: shared.data_dir,
        roles,
        chatops: { enable: false },
        ...(mode === 'one' ? {} : { redis: { url: redisUrl } }),
        // SQUALL_TWOCORE_POLL_MS: the scheduler's poll (default 5 s), a net under lost notifications.
        ...(process.env.SQUALL_TWOCORE_POLL_MS
          ? { scheduler: { process_every_ms: Number(process.env.SQUALL_TWOCORE_POLL_MS) } }
          : {}),
      });
      // One after another: pack registration at start-up is not safe to run concurrently.
      procs.push(
        await startSquall(cfg, {
          health: roles.includes('api') || roles.includes('all'),
          env: LOCKSTATS ? { SQUALL_TWOCORE_LOCKSTATS: LOCKSTATS } : {},
          nodeArgs: LOCKSTATS
            ? ['--import', path.join(import.meta.dirname, 'lib', 'sqlite-lock-hook.mjs')]
            : [],
        }),
      );
    }
    const url = `${procs[0].url}/api/v1/webhooks/bench_noop?wait=10`;
    const run = (requests) =>
      load({ url, body, concurrency: CONC, requests, warmup: 0, check, maxMs: 120_000 });
    const warm = await run(Math.max(300, N / 4));
    if (warm.errors)
      process.stderr.write(`${mode}: ${warm.errors} of the warm-up's webhooks failed: ${warm.firstError}\n`);
    // Past the one-off work of the first seconds (validator code written 10 s after start).
    await sleep(Math.max(500, 12_000 - (performance.now() - began)));
    const lock0 = procs.map((p) => lockStats(p.child.pid));
    const load0 = loadavg();
    const cpu0 = procs.map((p) => cpuMs(p.child.pid));
    const redis0 = mode === 'one' ? 0 : cpuMs(redis.child.pid);
    const me0 = process.cpuUsage();
    const r = await run(N);
    const me = process.cpuUsage(me0);
    const cpu = procs.map((p, i) => cpuMs(p.child.pid) - cpu0[i]);
    const redisCpu = mode === 'one' ? 0 : cpuMs(redis.child.pid) - redis0;
    await sleep(300);
    const lock = procs.map((p, i) =>
      lockDelta(lock0[i], lockStats(p.child.pid), r.latencies.length + r.errors, r.elapsedMs),
    );
    const n = r.latencies.length;
    const sorted = [...r.latencies].sort((a, b) => a - b);
    // What the processes logged (warn and above): how a failed webhook failed.
    if (warm.errors || r.errors)
      for (const p of procs) process.stderr.write(`--- ${mode} log:\n${p.log().slice(-4000)}\n`);
    return {
      mode,
      n,
      errors: r.errors,
      first_error: r.firstError,
      throughput: +((n / r.elapsedMs) * 1000).toFixed(1),
      p50: +percentile(sorted, 50).toFixed(2),
      p99: +percentile(sorted, 99).toFixed(2),
      cpu_per_webhook: cpu.map((c) => +(c / (n + r.errors)).toFixed(2)),
      cpu_total: +(cpu.reduce((a, b) => a + b, 0) / (n + r.errors)).toFixed(2),
      redis_cpu: +(redisCpu / (n + r.errors)).toFixed(2),
      loadgen_cpu: +((me.user + me.system) / 1000 / (n + r.errors)).toFixed(2),
      load: `${load0} → ${loadavg()}`,
      ...(LOCKSTATS ? { sqlite_write_lock: lock } : {}),
    };
  } finally {
    for (const p of procs.reverse()) await stopProcess(p.child);
    rmSync(sq.dir, { recursive: true, force: true });
  }
}

const redis = MODES.some((m) => m !== 'one') ? await startRedis() : undefined;
try {
  for (let round = 0; round < ROUNDS; round++)
    for (const mode of MODES) {
      const row = await runMode(mode, redis);
      process.stdout.write(JSON.stringify({ round, ...row }) + '\n');
    }
} finally {
  redis?.child.kill('SIGTERM');
}
