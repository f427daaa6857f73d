// The system calls of one sequential webhook (issue 19): starts the built Squall (dist/), warms it
// up, attaches `strace -f` for N sequential webhook -> rule -> core.noop requests and prints each
// system call's count and time per webhook, by thread (main thread or another) and by file (the
// WAL, the database file, the -shm's locks, sockets). strace slows each call: the times are
// strace's, only the counts compare.
// `node bench/seq-syscalls.mjs [requests] [concurrency]`.
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { load } from './lib/loadgen.mjs';
import { sleep, stopProcess } from './lib/proc.mjs';
import { benchSquallDir, startSquall } from './lib/squall.mjs';

const N = Number(process.argv[2] ?? 500);
const CONC = Number(process.argv[3] ?? 1);
const body = JSON.stringify({ event: 'bench', value: 42 });
const squall = benchSquallDir('squall-seq-syscalls-');
const s = await startSquall(squall.cfg);
const out = path.join(squall.dir, 'strace.txt');
try {
  const url = `${s.url}/api/v1/webhooks/bench_noop?wait=10`;
  const run = (requests) => load({ url, body, concurrency: CONC, requests, warmup: 0, maxMs: 300_000 });
  await run(500);
  await sleep(12_000);
  const strace = spawn('strace', ['-f', '-qq', '-T', '-y', '-o', out, '-p', String(s.child.pid)], {
    stdio: 'ignore',
  });
  await sleep(1000);
  const r = await run(N);
  strace.kill('SIGINT');
  await new Promise((res) => strace.once('exit', res));
  const by = new Map();
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(\w+)\(.*<([\d.]+)>$/.exec(line);
    if (!m) continue;
    const who = m[1] === String(s.child.pid) ? 'main' : 'other';
    const file = /^\w+\(\d+<([^>]*)>/.exec(line.slice(line.indexOf(m[2])))?.[1] ?? '';
    const key = `${who} ${m[2]} ${file.replace(/.*\/data\//, '').replace(/^(socket|pipe|anon_inode):.*/, '$1')}`;
    const e = by.get(key) ?? { n: 0, s: 0 };
    e.n++;
    e.s += Number(m[3]);
    by.set(key, e);
  }
  const done = r.latencies.length + r.errors;
  console.log(JSON.stringify({ requests: done, concurrency: CONC, errors: r.errors }));
  for (const [k, e] of [...by].sort((a, b) => b[1].n - a[1].n))
    console.log(
      `${(e.n / done).toFixed(2).padStart(8)} calls ${((e.s / done) * 1e6).toFixed(0).padStart(7)} us  ${k}`,
    );
} finally {
  await stopProcess(s.child);
  squall.remove();
}
