// Soak: webhook → rule → core.noop at a constant rate for as long as the run allows, sampling
// RSS, heap, event-loop delay, p99 latency and the store's size every 10 s; then draws them
// (bench/lib/chart.mjs). A flat line is the point: growth is a bug to find.
// Run alone: node bench/soak.mjs   (SQUALL_SOAK_SECONDS, default 300; SQUALL_SOAK_RATE per second,
// default 50). Writes soak.jsonl and soak.svg to bench/out (bench/results with SQUALL_BENCH_SNAPSHOT=1).
import http from 'node:http';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { soakChart } from './lib/chart.mjs';
import { emit, send } from './lib/loadgen.mjs';
import { writeBenchPack } from './lib/pack.mjs';
import { rssMb, scratchDir, sleep, stopProcess } from './lib/proc.mjs';
import { ROOT, startSquall, writeSquallConfig } from './lib/squall.mjs';

const SAMPLE_MS = 10_000;
const MAX_IN_FLIGHT = 256;

function dirBytes(dir) {
  let sum = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    sum += entry.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return sum;
}

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function gauges(url) {
  let text = '';
  try {
    text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
  } catch {
    // An overloaded server misses a sample rather than stalling the sampler.
  }
  const read = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    heap_mb: +(read('squall_nodejs_heap_size_used_bytes') / 1e6).toFixed(1),
    loop_p99_ms: +(read('squall_nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(2),
    external_mb: +(read('squall_nodejs_external_memory_bytes') / 1e6).toFixed(1),
  };
}

/** RSS split: anonymous memory (heap, malloc, SQLite's page cache) against mapped files. */
function rssSplit(pid) {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // The process has exited: the sample shows NaN.
  }
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN);
  return { rss_anon_mb: +(kb('RssAnon') / 1024).toFixed(1), rss_file_mb: +(kb('RssFile') / 1024).toFixed(1) };
}

function walMb(dir) {
  let sum = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) sum += walMb(p);
    else if (entry.name.endsWith('-wal')) sum += statSync(p).size / 1e6;
  }
  return +sum.toFixed(2);
}

export async function runSoak({
  seconds = Number(process.env.SQUALL_SOAK_SECONDS ?? 300),
  rate = Number(process.env.SQUALL_SOAK_RATE ?? 50),
  outDir = path.join(ROOT, 'bench', process.env.SQUALL_BENCH_SNAPSHOT === '1' ? 'results' : 'out'),
} = {}) {
  const dir = scratchDir('squall-bench-soak-');
  const packs = path.join(dir, 'packs');
  writeBenchPack(packs);
  const cfg = writeSquallConfig(path.join(dir, 'squall'), packs);
  const dataDir = path.join(dir, 'squall', 'data');
  const s = await startSquall(cfg);
  // A free socket closes on the client's side before the server's keep-alive timeout can close
  // it under a request in flight. Node 20's agent follows the server's Keep-Alive hint (less 1 s)
  // only when it has a timeout of its own: without one it kept idle sockets for ever and raced.
  // SQUALL_SOAK_AGENT_TIMEOUT_MS=0 brings the race back (bench/README, "Soak").
  const agentTimeout = Number(process.env.SQUALL_SOAK_AGENT_TIMEOUT_MS ?? 30_000);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: agentTimeout || undefined });
  const target = new URL(`${s.url}/api/v1/webhooks/bench_noop?wait=10`);
  const body = JSON.stringify({ event: 'bench', value: 42 });
  let window = [];
  let sent = 0;
  let done = 0;
  let errors = 0;
  let inFlight = 0;
  // Why a request ended without an answer: its error, when, and the socket it went out on (how
  // old, how many requests it had carried, how long it had lain idle in the agent's pool).
  const socketErrors = [];
  const sockets = new WeakMap();
  const statusErrors = [];
  // How long a reused socket had lain idle: the server closes one idle past its keep-alive
  // timeout, and a request sent on it in that instant is lost.
  const idleReuses = { under_1s: 0, s1_to_4: 0, s4_to_6: 0, over_6s: 0 };
  // Open loop: a request leaves every 1/rate s whatever the answers do, so queueing shows up in
  // the latency (unlike the closed-loop load generator).
  let shed = 0;
  // Which socket a request goes out on, and how long that socket had lain idle.
  const onSocket = (socket) => {
    const now = performance.now();
    const info = sockets.get(socket) ?? { born: now, uses: 0, freedAt: now };
    info.uses++;
    info.idleMs = now - info.freedAt;
    sockets.set(socket, info);
    if (info.uses > 1) {
      const idle = info.idleMs;
      idleReuses[idle < 1000 ? 'under_1s' : idle < 4000 ? 's1_to_4' : idle < 6000 ? 's4_to_6' : 'over_6s']++;
    }
    socket.once('free', () => (info.freedAt = performance.now()));
  };
  const one = () => {
    // Beyond MAX_IN_FLIGHT the server is not keeping up: the request is counted as shed, not
    // queued without bound in this client.
    if (inFlight >= MAX_IN_FLIGHT) {
      shed++;
      return;
    }
    const t0 = performance.now();
    sent++;
    inFlight++;
    void send(agent, target, body, { onSocket }).then((r) => {
      inFlight--;
      if (r.error) {
        errors++;
        const info = r.socket ? sockets.get(r.socket) : undefined;
        const now = performance.now();
        const row = {
          t_s: +((now - start) / 1000).toFixed(3),
          code: r.error.code,
          message: r.error.message,
          reused_socket: r.reused,
          socket_uses: info?.uses,
          socket_age_ms: info ? Math.round(now - info.born) : undefined,
          socket_idle_before_ms: info ? Math.round(info.idleMs) : undefined,
          after_send_ms: Math.round(now - t0),
        };
        socketErrors.push(row);
        process.stderr.write(`[soak] socket error ${JSON.stringify(row)}\n`);
        return;
      }
      done++;
      if (r.status !== 200) {
        errors++;
        statusErrors.push({
          t_s: +((performance.now() - start) / 1000).toFixed(3),
          status: r.status,
        });
      }
      window.push(performance.now() - t0);
    });
  };
  const samples = [];
  const start = performance.now();
  const sample = async () => {
    const sorted = window.sort((a, b) => a - b);
    window = [];
    const g = await gauges(s.url);
    const row = {
      t_s: Math.round((performance.now() - start) / 1000),
      executions: done,
      rss_mb: rssMb(s.child.pid),
      ...rssSplit(s.child.pid),
      ...g,
      p50_ms: +percentile(sorted, 0.5).toFixed(1),
      p99_ms: +percentile(sorted, 0.99).toFixed(1),
      disk_mb: +(dirBytes(dataDir) / 1e6).toFixed(2),
      wal_mb: walMb(dataDir),
      in_flight: inFlight,
      errors,
      shed,
    };
    samples.push(row);
    process.stderr.write(`[soak] ${JSON.stringify(row)}\n`);
  };
  try {
    await sleep(2000);
    await sample();
    const interval = 1000 / rate;
    let next = performance.now();
    let nextSample = start + SAMPLE_MS;
    while (performance.now() - start < seconds * 1000) {
      const now = performance.now();
      while (next <= now) {
        one();
        next += interval;
      }
      if (now >= nextSample) {
        nextSample += SAMPLE_MS;
        await sample();
      }
      await sleep(Math.max(0, Math.min(next, nextSample) - performance.now()));
    }
    while (inFlight > 0 && performance.now() - start < (seconds + 15) * 1000) await sleep(50);
    await sample();
  } finally {
    await stopProcess(s.child);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'soak.jsonl'), samples.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(path.join(outDir, 'soak.svg'), soakChart(samples, { rate, seconds }));
  const first = samples[1] ?? samples[0];
  const last = samples.at(-1);
  emit({
    name: 'soak.executions',
    unit: 'executions',
    value: done,
    n: sent,
    errors,
    shed,
    rate_per_s: rate,
    socket_errors: socketErrors.slice(0, 20),
    status_errors: statusErrors.slice(0, 20),
    reuses_by_idle: idleReuses,
  });
  emit({
    name: 'soak.rss_growth',
    unit: 'MB',
    value: +(last.rss_mb - first.rss_mb).toFixed(1),
    n: samples.length,
  });
  emit({
    name: 'soak.heap_growth',
    unit: 'MB',
    value: +(last.heap_mb - first.heap_mb).toFixed(1),
    n: samples.length,
  });
  emit({
    name: 'soak.p99_latency_last_vs_first',
    unit: 'ms',
    value: last.p99_ms,
    first: first.p99_ms,
    n: samples.length,
  });
  emit({
    name: 'soak.disk_per_execution',
    unit: 'bytes',
    value: Math.round(((last.disk_mb - samples[0].disk_mb) * 1e6) / Math.max(1, done)),
    n: done,
    note: 'data dir growth (SQLite file + WAL) / executions',
  });
  return samples;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runSoak();
  process.exit(0);
}
