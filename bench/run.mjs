#!/usr/bin/env node
// `npm run bench`: every figure of bench/README.md in one run on this machine, one JSON line per
// figure on stdout ({name, unit, p50, p99 | value, n} or {name, skipped, reason}); progress on
// stderr. Also writes bench/out/latest.jsonl, latest.md (the table) and profile-scenario1.json
// (bench/out is ignored by git). SQUALL_BENCH_SNAPSHOT=1 writes them to bench/results instead, the
// committed snapshot: only when a run is meant to replace it.
// SQUALL_BENCH_SCALE=0.2 shrinks every request count (quick check); SQUALL_BENCH_NO_PEERS=1 skips
// Node-RED; SQUALL_BENCH_NO_PROFILE=1 skips the CPU-profiled run; SQUALL_BENCH_WARM=0 measures each
// server's first requests (no warm-up before the sequential phase, as before 2026-12-06); SQUALL_BENCH_ONLY=squall,rules
// runs only the named parts (cli, store, floors, squall, nodered, rules, workflow, historyui, chat, scaleout, soak,
// profile). `npm run bench -- soak` runs only the soak. `restart` (1,000,000 executions, ~30 min and
// ~7 GB of disk) runs only when named: SQUALL_BENCH_ONLY=restart; so does `heap` (100,000 webhooks,
// heap after full GC and RSS every tenth: SQUALL_BENCH_ONLY=heap).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { emit, load, report, results, skip } from './lib/loadgen.mjs';
import { ensureNodeRed, startNodeRed } from './lib/nodered.mjs';
import { writeBenchPack } from './lib/pack.mjs';
import { topSelfTime } from './lib/profile.mjs';
import {
  cpuMs,
  freePort,
  killAll,
  rssMb,
  scratchDir,
  sleep,
  startProcess,
  stopAll,
  stopProcess,
  track,
} from './lib/proc.mjs';
import { ROOT, startSquall, writeSquallConfig } from './lib/squall.mjs';
import { runCli } from './cli.mjs';
import { runHeap } from './heap.mjs';
import { runHistoryUi } from './history-ui.mjs';
import { runRestart } from './restart.mjs';
import { runRules } from './rules.mjs';
import { runScaleOut } from './scaleout.mjs';
import { runSoak } from './soak.mjs';
import { runStore } from './store.mjs';

const SCALE = Number(process.env.SQUALL_BENCH_SCALE ?? 1);
const N = (n) => Math.max(20, Math.round(n * SCALE));
const SEQ = N(500);
const SEQ_SPAWN = N(300);
const CONC = 16;
const CONC_N = N(1000);
const WARMUP = 50;
const BODY = JSON.stringify({ event: 'bench', value: 42 });
const RESULTS = path.join(ROOT, 'bench', process.env.SQUALL_BENCH_SNAPSHOT === '1' ? 'results' : 'out');
// `npm run bench -- soak` runs the soak alone (its length: SQUALL_SOAK_SECONDS, default 300 s).
const SOAK_ONLY = process.argv.slice(2).includes('soak');
const ONLY = SOAK_ONLY
  ? new Set(['soak'])
  : process.env.SQUALL_BENCH_ONLY
    ? new Set(process.env.SQUALL_BENCH_ONLY.split(','))
    : undefined;
/** Whether a part runs in this invocation (SQUALL_BENCH_ONLY names the parts to run). */
const part = (name) => !ONLY || ONLY.has(name);
const started = performance.now();
const log = (msg) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);

/**
 * seq + concurrency 16 against one url; returns the report lines keyed by mode. With `pid`, also
 * the server's CPU time per request (user + system, warm-up included in neither): unlike latency
 * and throughput it hardly moves with other work on the box, so it is the figure to compare
 * before/after a change.
 */
async function drive(name, url, { seq = SEQ, conc = CONC_N, check, pid, metrics } = {}) {
  const out = {};
  // The seq phase comes first: without this it measured the server's first requests, whose JIT
  // warm-up cost ~1.5 ms of CPU per webhook more than the same requests after c16's ("Where a
  // sequential webhook's CPU goes", bench/README.md). SQUALL_BENCH_WARM=0: as before.
  if (process.env.SQUALL_BENCH_WARM !== '0') {
    log(`${name}: ${conc} at concurrency ${CONC} to warm up (not measured)`);
    await load({ url, body: BODY, concurrency: CONC, requests: conc, warmup: 0, check });
  }
  for (const [mode, concurrency, requests] of [
    ['seq', 1, seq],
    [`c${CONC}`, CONC, conc],
  ]) {
    log(`${name}: ${requests} at concurrency ${concurrency}`);
    const store0 = metrics ? await storeCounters(metrics) : undefined;
    let cpu0;
    const run = await load({
      url,
      body: BODY,
      concurrency,
      requests,
      warmup: WARMUP,
      check,
      onMeasureStart: () => (cpu0 = pid ? cpuMs(pid) : NaN),
    });
    const cpu = pid ? cpuMs(pid) - cpu0 : NaN;
    out[mode === 'seq' ? 'seq' : 'c16'] = report(`${name}.${mode}`, run);
    if (pid && run.latencies.length)
      emit({
        name: `${name}.${mode}.cpu_per_request`,
        unit: 'ms',
        value: +(cpu / (run.latencies.length + run.errors)).toFixed(2),
        n: run.latencies.length,
        note: 'server CPU (user+system, with its finished children) over the measured requests / their count',
      });
    if (store0 && run.latencies.length) {
      await sleep(500); // the tail of the last events (action trigger, job removals)
      const store1 = await storeCounters(metrics);
      const sent = run.latencies.length + run.errors + WARMUP;
      for (const k of ['commits', 'fsyncs'])
        emit({
          name: `${name}.${mode}.store_${k}_per_request`,
          unit: k,
          value: +((store1[k] - store0[k]) / sent).toFixed(2),
          n: sent,
          note: `squall_store_${k}_total over all requests of the phase (warm-up included) / their count; background work (heartbeats) included`,
        });
    }
  }
  return out;
}

/** The embedded store's commit and fsync counters, from /metrics. */
async function storeCounters(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text();
  const read = (k) =>
    Number(new RegExp(`^squall_store_${k}_total(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { commits: read('commits'), fsyncs: read('fsyncs') };
}

const squallCheck = (status, text) => {
  if (status !== 200) return `HTTP ${status}: ${text.slice(0, 300)}`;
  const body = JSON.parse(text);
  const ex = body.executions ?? [];
  if (ex.length !== 1 || ex[0].status !== 'succeeded') return `unexpected answer: ${text.slice(0, 300)}`;
  return undefined;
};

async function floors() {
  for (const [mode, label, seq] of [
    ['202', 'floor.node_http_202', SEQ],
    ['spawn', 'floor.node_http_spawn_true', SEQ_SPAWN],
    ['bash', 'floor.node_http_spawn_bash_c_true', SEQ_SPAWN],
  ]) {
    const srv = await startProcess(
      process.execPath,
      [path.join(ROOT, 'bench', 'lib', 'floor-server.mjs'), mode],
      {
        ready: (line) => /listening (\d+)/.exec(line)?.[1],
        label,
      },
    );
    await drive(label, `http://127.0.0.1:${srv.value}/`, { seq, pid: srv.child.pid });
    await stopProcess(srv.child);
  }
}

async function squall(dir) {
  const packs = path.join(dir, 'packs');
  writeBenchPack(packs);
  const cfg = writeSquallConfig(path.join(dir, 'squall'), packs);
  log('squall: starting (embedded store, auth off)');
  const s = await startSquall(cfg);
  emit({ name: 'startup.squall.to_healthy', unit: 'ms', value: +s.readyMs.toFixed(0), n: 1 });
  await sleep(2000); // let start-up work (registration, timers) settle
  emit({ name: 'footprint.squall.idle_rss', unit: 'MB', value: rssMb(s.child.pid), n: 1 });
  const hook = (h) => `${s.url}/api/v1/webhooks/${h}?wait=10`;
  const pid = s.child.pid;
  const metrics = `${s.url}/metrics`;
  const noop = await drive('squall.webhook_core_noop', hook('bench_noop'), {
    check: squallCheck,
    pid,
    metrics,
  });
  const local = await drive('squall.webhook_core_local_true', hook('bench_local'), {
    pid,
    metrics,
    seq: SEQ_SPAWN,
    conc: N(500), // keeps the whole run under 10 minutes at today's ~10-20 req/s
    check: squallCheck,
  });
  emit({ name: 'footprint.squall.rss_after_scenario1', unit: 'MB', value: rssMb(s.child.pid), n: 1 });
  await stopProcess(s.child);
  return { noop, local };
}

async function squallProfile(dir) {
  const packs = path.join(dir, 'packs');
  const profDir = path.join(dir, 'prof');
  writeBenchPack(packs);
  const cfg = writeSquallConfig(path.join(dir, 'squall-prof'), packs);
  log('squall: CPU-profiled run of scenario 1 (core.noop, concurrency 16)');
  const s = await startSquall(cfg, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  await sleep(1000);
  await load({
    url: `${s.url}/api/v1/webhooks/bench_noop?wait=10`,
    body: BODY,
    concurrency: CONC,
    requests: N(400),
    warmup: 0,
    check: squallCheck,
  });
  await stopProcess(s.child, 30_000);
  const files = existsSync(profDir) ? readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (!files.length)
    return skip('profile.squall.scenario1', 'no .cpuprofile written (squall did not exit cleanly?)');
  const summary = topSelfTime(path.join(profDir, files[0]), 20);
  writeFileSync(path.join(RESULTS, 'profile-scenario1.json'), JSON.stringify(summary, null, 2) + '\n');
  emit({
    name: 'profile.squall.scenario1',
    unit: 'ms',
    value: summary.busy_ms,
    n: 1,
    note: 'busy CPU ms; top self-time functions in profile-scenario1.json beside latest.md',
  });
}

async function nodeRed(dir) {
  const scratch = path.join(os.tmpdir(), 'squall-bench-peers', 'node-red');
  log(`node-red: ensuring node-red@4.1 in ${scratch}`);
  const red = ensureNodeRed(scratch);
  const nr = await startNodeRed(red, path.join(dir, 'node-red'), await freePort());
  emit({ name: 'startup.nodered.to_ready', unit: 'ms', value: +nr.readyMs.toFixed(0), n: 1 });
  emit({ name: 'footprint.nodered.idle_rss', unit: 'MB', value: rssMb(nr.child.pid), n: 1 });
  const noop = await drive('nodered.http_noop', `${nr.url}/noop`, { pid: nr.child.pid });
  const spawnOut = await drive('nodered.exec_spawn_true', `${nr.url}/spawn`, {
    seq: SEQ_SPAWN,
    pid: nr.child.pid,
  });
  emit({ name: 'footprint.nodered.rss_after_load', unit: 'MB', value: rssMb(nr.child.pid), n: 1 });
  await stopProcess(nr.child);
  return { noop, spawn: spawnOut };
}

function ratios(sq, nr) {
  for (const [label, s, n] of [
    ['core_local_true_vs_exec_spawn_true', sq.local, nr.spawn],
    ['core_noop_vs_http_noop', sq.noop, nr.noop],
  ]) {
    for (const mode of ['seq', 'c16']) {
      emit({
        name: `ratio.squall_over_nodered.${label}.${mode}.p50_latency`,
        unit: 'x',
        value: +(s[mode][0].p50 / n[mode][0].p50).toFixed(2),
        n: 1,
      });
      emit({
        name: `ratio.squall_over_nodered.${label}.${mode}.throughput`,
        unit: 'x',
        value: +(s[mode][1].value / n[mode][1].value).toFixed(2),
        n: 1,
      });
    }
  }
}

/** A child bench that has not finished by then is stopped and reported skipped (keeps the run under 10 minutes). */
const CHILD_BENCH_MAX_MS = 180_000;

/**
 * Runs a bench script as a child and passes its JSON lines through. Children run on the embedded
 * store: SQUALL_BENCH_MONGO_URL is for the scale-out part here, not for them (run them alone
 * with it for their MongoDB figures).
 */
async function childBench(args, name) {
  const env = { ...process.env };
  delete env.SQUALL_BENCH_MONGO_URL;
  const child = track(spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, CHILD_BENCH_MAX_MS);
  const code = await new Promise((r) => child.on('exit', (c, sig) => r(c ?? sig)));
  clearTimeout(timer);
  const lines = out.split('\n').filter((l) => l.trim().startsWith('{'));
  for (const l of lines) emit(JSON.parse(l));
  if (timedOut) skip(name, `did not finish within ${CHILD_BENCH_MAX_MS / 1000} s`);
  else if (code !== 0 || lines.length === 0)
    skip(name, `exited ${code}: ${(err || out).trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`);
}

async function workflows() {
  log('workflow: 100-task sequential (bench/workflow.ts)');
  await childBench(
    ['--import', 'tsx', path.join(ROOT, 'bench', 'workflow.ts'), '100'],
    'workflow.sequential_noop',
  );
  log('workflow: 50-item with-items at concurrency 10 (bench/workflow-items.ts)');
  await childBench(
    ['--import', 'tsx', path.join(ROOT, 'bench', 'workflow-items.ts'), '50', '10'],
    'workflow.with_items_noop.50x_c10',
  );
}

async function chat() {
  log('chat: Slack emulator message → core.noop alias → result posted (bench/chat.ts)');
  await childBench(
    ['--import', 'tsx', path.join(ROOT, 'bench', 'chat.ts'), String(N(200))],
    'chat.slack.noop',
  );
}

async function scaleOut(dir) {
  await runScaleOut({
    dir,
    requests: N(500),
    concurrency: CONC,
    maxMs: 45_000,
    log,
    track,
  });
}

function table() {
  const rows = results.map((r) => {
    if (r.skipped) return `| ${r.name} | skipped | ${r.reason} |`;
    const v = r.value !== undefined ? `${r.value}` : `p50 ${r.p50} / p99 ${r.p99}`;
    return `| ${r.name} | ${v} ${r.unit} | n=${r.n}${r.errors ? `, errors=${r.errors}` : ''} |`;
  });
  return ['| figure | result | notes |', '|---|---|---|', ...rows].join('\n') + '\n';
}

mkdirSync(RESULTS, { recursive: true });
const dir = scratchDir('squall-bench-');
process.on('exit', killAll);
/**
 * Set once SIGINT or SIGTERM came: every server and child bench is stopped, the scratch directories
 * removed, and the bench exits 128 + the signal's number. It writes no results: a run cut short
 * would replace the committed snapshot (SQUALL_BENCH_SNAPSHOT=1) with part of one.
 */
let stopping;
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    stopping ??= (async () => {
      log(`${sig}: stopping the processes the bench started`);
      await stopAll();
      process.exit(128 + os.constants.signals[sig]);
    })();
  });
try {
  log(`machine: ${os.cpus().length} cpus (${os.cpus()[0]?.model}), node ${process.version}, scale ${SCALE}`);
  emit({
    name: 'machine',
    unit: 'cpus',
    value: os.cpus().length,
    n: 1,
    node: process.version,
    cpu: os.cpus()[0]?.model,
    loadavg_at_start: os.loadavg().map((v) => +v.toFixed(2)),
  });
  if (part('cli')) {
    log('cli: squall --help, squall execution list');
    await runCli();
  }
  if (part('store')) {
    log('floor: embedded store write rate');
    await runStore({ count: N(5000) });
  }
  if (part('floors')) await floors();
  const sq = part('squall') ? await squall(dir) : undefined;
  if (!part('nodered')) {
    /* not asked for */
  } else if (process.env.SQUALL_BENCH_NO_PEERS) skip('nodered', 'SQUALL_BENCH_NO_PEERS is set');
  else {
    try {
      const nr = await nodeRed(dir);
      if (sq) ratios(sq, nr);
    } catch (err) {
      skip('nodered', `Node-RED could not be run: ${String(err.message ?? err).slice(0, 300)}`);
    }
  }
  if (part('rules')) {
    log('rules engine: 10 / 1,000 / 10,000 rules');
    await runRules();
  }
  if (part('workflow')) await workflows();
  if (part('historyui')) {
    log('history UI: History and the dashboard in chromium at 100,000 executions');
    await runHistoryUi({ history: N(100_000) });
  }
  if (part('chat')) await chat();
  if (ONLY?.has('heap')) {
    log('heap: heap after full GC and RSS every tenth of 100,000 webhooks (opt-in)');
    await runHeap();
  }
  if (ONLY?.has('restart')) {
    log('restart: squall start on a history grown to 1,000,000 executions (opt-in)');
    await runRestart();
  }
  if (part('scaleout')) await scaleOut(dir);
  if (part('soak')) {
    // In the full run the soak gets 60 s (SQUALL_SOAK_SECONDS overrides); alone, 300 s.
    const seconds = Number(process.env.SQUALL_SOAK_SECONDS ?? (SOAK_ONLY ? 300 : 60));
    log(`soak: webhook → core.noop at a constant rate for ${seconds} s`);
    await runSoak({ seconds, outDir: RESULTS });
  }
  if (!part('profile')) {
    /* not asked for */
  } else if (process.env.SQUALL_BENCH_NO_PROFILE)
    skip('profile.squall.scenario1', 'SQUALL_BENCH_NO_PROFILE is set');
  else await squallProfile(dir);
} finally {
  // The parts fail once their servers are stopped; the signal's handler ends the run.
  if (stopping) await stopping;
  rmSync(dir, { recursive: true, force: true });
  emit({
    name: 'machine.loadavg_at_end',
    unit: 'load',
    value: +os.loadavg()[0].toFixed(2),
    n: 1,
    note: 'other work on the box skews every figure; compare within one run',
  });
  writeFileSync(path.join(RESULTS, 'latest.jsonl'), results.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(path.join(RESULTS, 'latest.md'), table());
  log(
    `done in ${((performance.now() - started) / 1000).toFixed(0)} s; ${path.relative(ROOT, RESULTS)}/latest.{jsonl,md}`,
  );
}
process.exit(0);
