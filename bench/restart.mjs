// Restart with a large history (issue 19: "restart to healthy with 1,000,000 executions ≤ 2 s").
// Runs the real `squall start` (dist/) once to store a realistic mix of records through the hot
// path — webhook → rule → core.noop, core.local `true` (succeeded) and core.local `exit 1`
// (failed): trigger instances, enforcements, executions, traces and their components — then grows
// that history to SQUALL_BENCH_RESTART_EXECUTIONS (default 1,000,000) executions by copying the
// stored rows under new ids in SQLite, each copy shifted back in time (no server running), and
// times `squall start` → first 200 from /api/v1/health, with the server's CPU time and its RSS.
// Minutes and ~8 GB of disk at 1,000,000: not in the default `npm run bench`, only with
// SQUALL_BENCH_ONLY=restart. Run alone: node bench/restart.mjs
// SQUALL_BENCH_RESTART_CPU_PROF=<dir> writes a `--cpu-prof` profile of each restart there (seed/, big/);
// SQUALL_BENCH_RESTART_KEEP=1 keeps the data directory.
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { emit, sendWebhooks } from './lib/loadgen.mjs';
import { writeBenchPack } from './lib/pack.mjs';
import { cpuMs, rssMb, scratchDir, sleep, stopProcess } from './lib/proc.mjs';
import { startSquall, writeSquallConfig } from './lib/squall.mjs';

const require = createRequire(import.meta.url);

/** The history tables a webhook writes to (everything else is content or live state). */
const HISTORY = ['executions', 'trigger_instances', 'rule_enforcements', 'traces', 'trace_components'];
/** Time fields shifted per copy, so the copies spread over the past like a real history. */
const TIMES = {
  executions: ['start_timestamp', 'end_timestamp'],
  trigger_instances: ['occurrence_time'],
  rule_enforcements: ['enforced_at'],
  traces: ['start_timestamp'],
  trace_components: ['start_timestamp'],
};

function storeBytes(dataDir) {
  return readdirSync(dataDir)
    .filter((f) => f.startsWith('squall.db'))
    .reduce((sum, f) => sum + statSync(path.join(dataDir, f)).size, 0);
}

/**
 * Copies the history rows until `executions` are stored. Copy k of a row gets the id `<id>~k` and
 * its times moved k × `stepSeconds` into the past; ids that point at other records are left as
 * they are (nothing at start-up follows them).
 */
function grow(file, executions, stepSeconds) {
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.pragma('synchronous = OFF'); // a bench fill: a crash here only loses the bench
  db.pragma('cache_size = -1048576'); // 1 GiB while filling
  // The history tables' indexes are dropped while copying and built again at the end: one sort
  // per index instead of a B-tree insert per row (1,000,000: 1,110 s of copies + 376 s of index
  // builds at a load of 13–17; an earlier fill with the indexes kept took ~26 min).
  const indexes = db
    .prepare(
      `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${HISTORY.map(() => '?').join(', ')})`,
    )
    .all(...HISTORY);
  for (const { name } of indexes) db.exec(`DROP INDEX "${name.replace(/"/g, '""')}"`);
  const base = db.prepare('SELECT count(*) AS n FROM executions').get().n;
  const copies = Math.max(0, Math.ceil(executions / base) - 1);
  const statements = HISTORY.map((t) => {
    db.exec(`CREATE TEMP TABLE "base_${t}" AS SELECT id, doc, z FROM "${t}"`);
    let doc = 'doc';
    for (const f of TIMES[t])
      doc = `CASE WHEN json_type(${doc}, '$.${f}') = 'text' THEN json_set(${doc}, '$.${f}', strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(doc, '$.${f}'), '-' || (:k * ${stepSeconds}) || ' seconds')) ELSE ${doc} END`;
    // A trace's tag is unique unless a user chose it: copies get their own.
    if (t === 'traces')
      doc = `json_set(${doc}, '$.trace_tag', json_extract(doc, '$.trace_tag') || '~' || :k)`;
    // z: the compressed fields (src/store/sqlite/compact.ts), copied as they are.
    return db.prepare(`INSERT INTO "${t}" (id, doc, z) SELECT id || '~' || :k, ${doc}, z FROM "base_${t}"`);
  });
  const copy = db.transaction((k) => {
    for (const s of statements) s.run({ k });
  });
  const t0 = performance.now();
  for (let k = 1; k <= copies; k++) {
    copy(k);
    if (k % 100 === 0)
      process.stderr.write(
        `[restart] ${k * base + base} executions stored (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
      );
  }
  const t1 = performance.now();
  for (const { sql } of indexes) db.exec(sql);
  process.stderr.write(`[restart] indexes built in ${((performance.now() - t1) / 1000).toFixed(0)} s\n`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const counts = Object.fromEntries(
    HISTORY.map((t) => [t, db.prepare(`SELECT count(*) AS n FROM "${t}"`).get().n]),
  );
  const statuses = Object.fromEntries(
    db
      .prepare("SELECT json_extract(doc, '$.status') AS s, count(*) AS n FROM executions GROUP BY s")
      .all()
      .map((r) => [r.s, r.n]),
  );
  db.close();
  return { counts, statuses, fillMs: performance.now() - t0 };
}

/** `squall start` → healthy, then RSS 2 s later and the CPU the process used to get healthy. */
async function restart(cfg, label, profDir) {
  const nodeArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const s = await startSquall(cfg, { nodeArgs });
  const cpuToHealthy = cpuMs(s.child.pid);
  await sleep(2000);
  const rss = rssMb(s.child.pid);
  await stopProcess(s.child);
  return { label, readyMs: +s.readyMs.toFixed(0), cpuToHealthy, rss };
}

/**
 * SQUALL_BENCH_RESTART_DIR=<a directory kept by SQUALL_BENCH_RESTART_KEEP>: only the restarts on
 * that history, so a fill made while the box was busy can be timed later on a quiet one.
 */
async function remeasure(dir, rounds) {
  const cfg = path.join(dir, 'squall', 'squall.yaml');
  const dataDir = path.join(dir, 'squall', 'data');
  const Database = require('better-sqlite3');
  const db = new Database(path.join(dataDir, 'squall.db'), { readonly: true });
  const n = db.prepare('SELECT count(*) AS n FROM executions').get().n;
  db.close();
  const big = [];
  for (let i = 0; i < rounds; i++) big.push(await restart(cfg, 'big'));
  const median = (xs, k) => xs.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [name, unit, k] of [
    ['restart.big.to_healthy', 'ms', 'readyMs'],
    ['restart.big.cpu_to_healthy', 'ms', 'cpuToHealthy'],
    ['restart.big.rss', 'MB', 'rss'],
  ])
    emit({ name, unit, value: median(big, k), n: big.length, all: big.map((x) => x[k]), executions: n });
  emit({ name: 'restart.big.disk', unit: 'MB', value: +(storeBytes(dataDir) / 1e6).toFixed(0), n });
}

export async function runRestart({
  executions = Number(process.env.SQUALL_BENCH_RESTART_EXECUTIONS ?? 1_000_000),
  seed = Number(process.env.SQUALL_BENCH_RESTART_SEED ?? 500),
  rounds = 3,
} = {}) {
  if (process.env.SQUALL_BENCH_RESTART_DIR) return remeasure(process.env.SQUALL_BENCH_RESTART_DIR, rounds);
  const dir = scratchDir('squall-bench-restart-');
  const packs = path.join(dir, 'packs');
  const pack = writeBenchPack(packs);
  writeFileSync(
    path.join(pack, 'rules', 'hook_fail.yaml'),
    'name: hook_fail\npack: squallbench\nenabled: true\ntrigger:\n  type: core.st2.webhook\n  parameters:\n    url: bench_fail\ncriteria: {}\naction:\n  ref: core.local\n  parameters:\n    cmd: "exit 1"\n',
  );
  // Retention off: this is a user who keeps 1,000,000 executions (the default keeps 100,000, and
  // would start deleting the rest in the background).
  const cfg = writeSquallConfig(path.join(dir, 'squall'), packs, {
    retention: {
      executions_days: 0,
      executions_max_count: 0,
      trigger_instances_days: 0,
      rule_enforcements_days: 0,
      traces_days: 0,
    },
  });
  const dataDir = path.join(dir, 'squall', 'data');
  const profDir = process.env.SQUALL_BENCH_RESTART_CPU_PROF;
  if (profDir) mkdirSync(profDir, { recursive: true });
  try {
    let s = await startSquall(cfg);
    const done =
      (await sendWebhooks(s.url, 'bench_noop', Math.round(seed * 0.8))) +
      (await sendWebhooks(s.url, 'bench_local', Math.round(seed * 0.15))) +
      (await sendWebhooks(s.url, 'bench_fail', Math.round(seed * 0.05)));
    await stopProcess(s.child);
    const small = [];
    for (let i = 0; i < rounds; i++)
      small.push(await restart(cfg, 'seed', profDir && path.join(profDir, 'seed')));
    process.stderr.write(`[restart] ${done} webhooks stored; copying up to ${executions} executions\n`);
    const filled = grow(path.join(dataDir, 'squall.db'), executions, 30);
    process.stderr.write(
      `[restart] filled in ${(filled.fillMs / 1000).toFixed(0)} s: ${JSON.stringify(filled.counts)} ${JSON.stringify(filled.statuses)}\n`,
    );
    const big = [];
    for (let i = 0; i < rounds; i++)
      big.push(await restart(cfg, 'big', profDir && path.join(profDir, 'big')));
    const median = (xs, k) => xs.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const n = filled.counts.executions;
    const line = (name, unit, xs, k, extra = {}) =>
      emit({ name, unit, value: median(xs, k), n: xs.length, all: xs.map((x) => x[k]), ...extra });
    line('restart.seed.to_healthy', 'ms', small, 'readyMs', { executions: done });
    line('restart.seed.cpu_to_healthy', 'ms', small, 'cpuToHealthy', { executions: done });
    line('restart.seed.rss', 'MB', small, 'rss', { executions: done });
    line('restart.big.to_healthy', 'ms', big, 'readyMs', {
      executions: n,
      records: filled.counts,
      statuses: filled.statuses,
    });
    line('restart.big.cpu_to_healthy', 'ms', big, 'cpuToHealthy', {
      executions: n,
      note: 'user + system CPU of the server from spawn to healthy (10 ms ticks)',
    });
    line('restart.big.rss', 'MB', big, 'rss', { executions: n, note: 'RSS 2 s after healthy' });
    emit({ name: 'restart.big.disk', unit: 'MB', value: +(storeBytes(dataDir) / 1e6).toFixed(0), n });
  } finally {
    if (process.env.SQUALL_BENCH_RESTART_KEEP) process.stderr.write(`[restart] kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runRestart();
  process.exit(0);
}
