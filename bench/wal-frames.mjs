// The WAL frames (pages) each commit of sequential webhooks writes, by b-tree (issue 19): starts
// the built Squall (dist/), warms it up, sends N webhook -> rule -> core.noop requests one at a time
// (or CONC at once), kills the server with SIGKILL so its WAL stays as written, then reads the
// frames since the WAL's last restart and names each page's table or index (SQLite's dbstat).
// A page changed twice in one commit is one frame; in two commits, two.
// `node bench/wal-frames.mjs [requests] [concurrency]`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { load } from './lib/loadgen.mjs';
import { sleep } from './lib/proc.mjs';
import { benchSquallDir, ROOT, startSquall } from './lib/squall.mjs';

const require = createRequire(path.join(ROOT, 'package.json'));
const Database = require('better-sqlite3');
const N = Number(process.argv[2] ?? 12);
const CONC = Number(process.argv[3] ?? 1);
const body = JSON.stringify({ event: 'bench', value: 42 });
const squall = benchSquallDir('squall-wal-frames-');
try {
  const s = await startSquall(squall.cfg);
  const url = `${s.url}/api/v1/webhooks/bench_noop?wait=10`;
  await load({ url, body, concurrency: 1, requests: 300, warmup: 0 });
  await sleep(12_000);
  await load({ url, body, concurrency: CONC, requests: N, warmup: 0 });
  await sleep(200);
  s.child.kill('SIGKILL');
  await new Promise((res) =>
    s.child.exitCode !== null || s.child.signalCode ? res() : s.child.once('exit', res),
  );
  const file = path.join(squall.dir, 'squall', 'data', 'squall.db');
  const wal = readFileSync(`${file}-wal`);
  const pageSize = wal.readUInt32BE(8);
  const salt = wal.readUInt32BE(16);
  const commits = [];
  let frames = [];
  for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) {
    if (wal.readUInt32BE(off + 8) !== salt) break; // a frame of the WAL before its last restart
    frames.push(wal.readUInt32BE(off));
    if (wal.readUInt32BE(off + 4) !== 0) {
      commits.push(frames);
      frames = [];
    }
  }
  const db = new Database(file);
  const names = new Map(
    db
      .prepare('SELECT name, pageno, pagetype FROM dbstat')
      .all()
      .map((r) => [r.pageno, r.pagetype === 'internal' ? `${r.name}(interior)` : r.name]),
  );
  db.close();
  const total = commits.reduce((n, c) => n + c.length, 0);
  console.log(JSON.stringify({ requests: N, concurrency: CONC, commits: commits.length, frames: total }));
  for (const c of commits) {
    const byTree = new Map();
    for (const p of c) {
      const name = names.get(p) ?? `page ${p}`;
      byTree.set(name, (byTree.get(name) ?? 0) + 1);
    }
    const trees = [...byTree].map(([name, n]) => (n > 1 ? `${name}×${n}` : name)).sort();
    console.log(`${String(c.length).padStart(4)} frames: ${trees.join(' ')}`);
  }
} finally {
  squall.remove();
}
