// History: what the embedded store costs as executions pile up. Runs the real `squall start`
// (dist/), drives webhook → rule → core.noop, and reports RSS after N executions, disk per
// execution, and restart time to healthy with that history; then grows the history to
// SQUALL_BENCH_HISTORY (default 100,000) executions by copying the real records under new ids in
// SQLite (no server), and restarts again: start-up and memory must not follow the history.
// Run alone: node bench/history.mjs
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { emit, sendWebhooks } from './lib/loadgen.mjs';
import { writeBenchPack } from './lib/pack.mjs';
import { rssMb, sleep, stopProcess } from './lib/proc.mjs';
import { startSquall, writeSquallConfig } from './lib/squall.mjs';

const require = createRequire(import.meta.url);

function storeBytes(dataDir) {
  return readdirSync(dataDir)
    .filter((f) => f.startsWith('squall.db'))
    .reduce((sum, f) => sum + statSync(path.join(dataDir, f)).size, 0);
}

/** Copies every history record (instance, enforcement, execution, trace, …) `times` over, under new ids. */
function multiply(file, times) {
  const Database = require('better-sqlite3');
  const db = new Database(file);
  const tables = [
    'executions',
    'trigger_instances',
    'rule_enforcements',
    'traces',
    'trace_components',
    'execution_output',
  ];
  db.transaction(() => {
    for (const t of tables) {
      // z: the compressed fields (src/store/sqlite/compact.ts), copied as they are.
      const rows = db.prepare(`SELECT id, doc, z FROM "${t}"`).all();
      const insert = db.prepare(`INSERT INTO "${t}" (id, doc, z) VALUES (?, ?, ?)`);
      for (let k = 1; k <= times; k++) for (const r of rows) insert.run(`${r.id}~${k}`, r.doc, r.z);
    }
  })();
  const n = db.prepare('SELECT count(*) AS n FROM executions').get().n;
  db.close();
  return n;
}

export async function runHistory({
  executions = 2000,
  history = Number(process.env.SQUALL_BENCH_HISTORY ?? 100_000),
} = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-history-'));
  const packs = path.join(dir, 'packs');
  writeBenchPack(packs);
  const cfg = writeSquallConfig(path.join(dir, 'squall'), packs);
  const dataDir = path.join(dir, 'squall', 'data');
  try {
    let s = await startSquall(cfg);
    await sleep(2000);
    const idle = rssMb(s.child.pid);
    emit({ name: 'history.idle_rss', unit: 'MB', value: idle, n: 1 });
    const before = storeBytes(dataDir);
    const done = await sendWebhooks(s.url, 'bench_noop', executions);
    await sleep(1000);
    emit({ name: 'history.rss_after_executions', unit: 'MB', value: rssMb(s.child.pid), n: done });
    await stopProcess(s.child);
    emit({
      name: 'history.disk_per_execution',
      unit: 'bytes',
      value: Math.round((storeBytes(dataDir) - before) / done),
      n: done,
      note: 'squall.db (+ WAL) growth per webhook → rule → core.noop, after the checkpoint at stop',
    });

    s = await startSquall(cfg);
    emit({ name: 'history.restart_to_healthy', unit: 'ms', value: +s.readyMs.toFixed(0), n: done });
    await stopProcess(s.child);

    const total = multiply(path.join(dataDir, 'squall.db'), Math.max(0, Math.ceil(history / done) - 1));
    s = await startSquall(cfg);
    emit({ name: 'history.restart_to_healthy_big', unit: 'ms', value: +s.readyMs.toFixed(0), n: total });
    await sleep(2000);
    emit({ name: 'history.idle_rss_big', unit: 'MB', value: rssMb(s.child.pid), n: total });
    const more = await sendWebhooks(s.url, 'bench_noop', Math.min(1000, executions));
    emit({
      name: 'history.rss_big_after_executions',
      unit: 'MB',
      value: rssMb(s.child.pid),
      n: total + more,
    });
    await stopProcess(s.child);
    emit({
      name: 'history.disk_total',
      unit: 'MB',
      value: +(storeBytes(dataDir) / 1e6).toFixed(1),
      n: total,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runHistory({ executions: Number(process.env.SQUALL_BENCH_EXECUTIONS ?? 2000) });
  process.exit(0);
}
