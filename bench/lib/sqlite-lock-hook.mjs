// Preloaded (`node --import`) into a Squall child by bench/twocore.mjs: what the process's SQLite
// write transactions cost it, written every 100 ms to $SQUALL_TWOCORE_LOCKSTATS/<pid>.json. The
// embedded store opens each turn's transaction with BEGIN IMMEDIATE (it takes the file's write lock,
// waiting in SQLite's busy handler, event loop asleep, while another process holds it) and ends it
// with COMMIT at the turn's end: `wait` is the time spent in BEGIN IMMEDIATE, `held` the time from
// its return to COMMIT's (the lock held), `slow` the BEGINs that waited over 0.5 ms.
import { renameSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';

const stats = { wait: 0, begins: 0, slow: 0, held: 0 };
let from = 0;
const exec = Database.prototype.exec;
Database.prototype.exec = function (sql) {
  if (sql === 'BEGIN IMMEDIATE') {
    const t = performance.now();
    const out = exec.call(this, sql);
    from = performance.now();
    stats.wait += from - t;
    stats.begins++;
    if (from - t > 0.5) stats.slow++;
    return out;
  }
  const out = exec.call(this, sql);
  if (sql === 'COMMIT') stats.held += performance.now() - from;
  return out;
};
const dir = process.env.SQUALL_TWOCORE_LOCKSTATS;
// Written aside and renamed: the bench reads it at any moment and must never see half a file.
if (dir)
  setInterval(() => {
    const file = `${dir}/${process.pid}.json`;
    writeFileSync(`${file}.tmp`, JSON.stringify(stats));
    renameSync(`${file}.tmp`, file);
  }, 100).unref();
