// Issue 19, "use the second core": what SQLite's write lock lets two processes do at once on one
// file (WAL, busy_timeout 5000, synchronous NORMAL, as the embedded store opens it). Each writer
// runs turns like the store's group commit: BEGIN IMMEDIATE, `inside` µs of CPU work with a few
// row writes, COMMIT, then `outside` µs of CPU work holding no lock (the rest of a turn). It counts
// turns per second and the time spent waiting in BEGIN IMMEDIATE (the event loop asleep in SQLite's
// busy handler), with 1 and with 2 writer processes on one file.
//
//   node bench/sqlite-two-writers.mjs [inside_us=850] [outside_us=150] [seconds=5]
//
// The default split is the embedded store's at c16: its write lock is held ~85% of the wall time
// of a busy Squall process (bench/twocore.mjs with SQUALL_TWOCORE_LOCKSTATS).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

const spin = (us) => {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
};

if (process.argv[2] === '--writer') {
  const [, , , file, inside, outside, seconds] = process.argv;
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const insert = db.prepare('INSERT INTO t (doc) VALUES (?)');
  const doc = 'x'.repeat(500);
  let turns = 0;
  let wait = 0;
  let slow = 0;
  const end = performance.now() + Number(seconds) * 1000;
  const cpu0 = process.cpuUsage();
  while (performance.now() < end) {
    const t = performance.now();
    db.exec('BEGIN IMMEDIATE');
    const w = performance.now() - t;
    wait += w;
    if (w > 0.5) slow++;
    for (let i = 0; i < 4; i++) insert.run(doc);
    spin(Number(inside));
    db.exec('COMMIT');
    spin(Number(outside));
    turns++;
  }
  const cpu = process.cpuUsage(cpu0);
  process.send({ turns, wait, slow, cpuMs: (cpu.user + cpu.system) / 1000 });
  db.close();
} else {
  const inside = Number(process.argv[2] ?? 850);
  const outside = Number(process.argv[3] ?? 150);
  const seconds = Number(process.argv[4] ?? 5);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sqlite-two-writers-'));
  const file = path.join(dir, 'db.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, doc TEXT)');
  db.close();
  const run = (n) =>
    Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise((resolve, reject) => {
            const child = fork(import.meta.filename, [
              '--writer',
              file,
              String(inside),
              String(outside),
              String(seconds),
            ]);
            child.on('message', resolve);
            child.on('error', reject);
          }),
      ),
    );
  try {
    for (const n of [1, 2, 1, 2]) {
      const load = os.loadavg()[0].toFixed(2);
      const rs = await run(n);
      const turns = rs.reduce((a, r) => a + r.turns, 0);
      process.stdout.write(
        JSON.stringify({
          writers: n,
          inside_us: inside,
          outside_us: outside,
          turns_per_s: Math.round(turns / seconds),
          wait_ms_per_turn: +(rs.reduce((a, r) => a + r.wait, 0) / turns).toFixed(3),
          waits_over_half_ms_share: +(rs.reduce((a, r) => a + r.slow, 0) / turns).toFixed(3),
          cpu_ms_per_turn: +(rs.reduce((a, r) => a + r.cpuMs, 0) / turns).toFixed(3),
          load,
        }) + '\n',
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
