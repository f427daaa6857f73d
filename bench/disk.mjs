// Disk per webhook → rule → core.noop on the embedded store (issue 19: ≤ 3 KB). Runs the real
// `squall start` (dist/), sends SQUALL_BENCH_DISK_WEBHOOKS (default 300) webhooks one at a time,
// waits for their executions to finish, stops the server (its checkpoint empties the WAL), then
// reads SQLite's page accounting (`dbstat`) per table and index: the bytes of every page each one
// holds, divided by the executions, before and after VACUUM. Run alone: node bench/disk.mjs
// SQUALL_BENCH_DISK_KEEP=1 keeps the data directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { emit, sendWebhooks } from './lib/loadgen.mjs';
import { writeBenchPack } from './lib/pack.mjs';
import { sleep, stopProcess } from './lib/proc.mjs';
import { startSquall, writeSquallConfig } from './lib/squall.mjs';

const require = createRequire(import.meta.url);

/** Pages per table, its indexes counted with it, and the record count and JSON bytes of each. */
export function pageBytes(file) {
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const owners = new Map(
    db
      .prepare("SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')")
      .all()
      .map((r) => [r.name, r.tbl_name]),
  );
  const tables = {};
  for (const { name, bytes } of db
    .prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name')
    .all()) {
    const table = owners.get(name) ?? name;
    const t = (tables[table] ??= { rows: 0, json: 0, table: 0, indexes: 0, byIndex: {} });
    if (table === name) t.table += bytes;
    else {
      t.indexes += bytes;
      t.byIndex[name] = bytes;
    }
  }
  for (const [name, t] of Object.entries(tables)) {
    if (name.startsWith('sqlite_')) continue;
    try {
      const r = db.prepare(`SELECT count(*) AS n, total(length(doc)) AS json FROM "${name}"`).get();
      t.rows = r.n;
      t.json = r.json;
    } catch {
      /* not a (id, doc) table */
    }
  }
  const executions = db.prepare('SELECT count(*) AS n FROM executions').get().n;
  const total = db.prepare('SELECT sum(pgsize) AS b FROM dbstat').get().b;
  db.close();
  return { executions, total, tables };
}

function vacuum(file) {
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.exec('VACUUM');
  db.close();
}

function print(label, before, after) {
  const n = after.executions - before.executions;
  const rows = Object.keys(after.tables)
    .map((name) => {
      const a = after.tables[name];
      const b = before.tables[name] ?? { rows: 0, json: 0, table: 0, indexes: 0 };
      return {
        name,
        rows: ((a.rows - b.rows) / n).toFixed(2),
        json: Math.round((a.json - b.json) / n),
        table: Math.round((a.table - b.table) / n),
        indexes: Math.round((a.indexes - b.indexes) / n),
      };
    })
    .filter((r) => r.table + r.indexes !== 0)
    .sort((x, y) => y.table + y.indexes - (x.table + x.indexes));
  process.stderr.write(`[disk] ${label}: ${n} executions, bytes per execution\n`);
  for (const r of rows)
    process.stderr.write(
      `  ${r.name.padEnd(20)} rows ${r.rows.padStart(5)}  json ${String(r.json).padStart(5)}  table ${String(r.table).padStart(5)}  indexes ${String(r.indexes).padStart(5)}\n`,
    );
  const total = Math.round((after.total - before.total) / n);
  process.stderr.write(`  total ${total}\n`);
  return total;
}

export async function runDisk({ webhooks = Number(process.env.SQUALL_BENCH_DISK_WEBHOOKS ?? 300) } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-disk-'));
  const packs = path.join(dir, 'packs');
  writeBenchPack(packs);
  const cfg = writeSquallConfig(path.join(dir, 'squall'), packs);
  const file = path.join(dir, 'squall', 'data', 'squall.db');
  try {
    let s = await startSquall(cfg);
    // One webhook first, so the tables, the content and the first pages exist before the baseline.
    await sendWebhooks(s.url, 'bench_noop', 1);
    await sleep(1000);
    await stopProcess(s.child);
    const before = pageBytes(file);
    s = await startSquall(cfg);
    const done = await sendWebhooks(s.url, 'bench_noop', webhooks);
    await sleep(2000);
    await stopProcess(s.child);
    const after = pageBytes(file);
    const perExecution = print('before VACUUM', before, after);
    vacuum(file);
    // VACUUM repacks the baseline too: compare against the same file's tables before the webhooks.
    const vacuumed = pageBytes(file);
    const perExecutionVacuumed = print('after VACUUM (baseline not vacuumed)', before, vacuumed);
    emit({
      name: 'disk.pages_per_execution',
      unit: 'bytes',
      value: perExecution,
      n: done,
      vacuumed: perExecutionVacuumed,
      tables: Object.fromEntries(
        Object.entries(after.tables)
          .filter(([, t]) => t.rows > 0)
          .map(([k, t]) => [k, { rows: t.rows, table: t.table, indexes: t.indexes }]),
      ),
      note: 'dbstat pages (tables + indexes) grown per sequential webhook → rule → core.noop, WAL checkpointed',
    });
  } finally {
    if (process.env.SQUALL_BENCH_DISK_KEEP) process.stderr.write(`[disk] kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runDisk();
  process.exit(0);
}
