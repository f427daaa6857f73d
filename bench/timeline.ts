// Where one sequential webhook → rule → core.noop goes (issue 19's seq p50): for n webhooks sent
// one at a time, the offset from the request's start of every event published, every commit and
// every WAL fsync (start and end), and of the answer; medians per step, each with the process's CPU
// time since the request's start (wall time well above it is time spent waiting).
// `node --import tsx bench/timeline.ts [n]`; SQUALL_BENCH_HOOK=bench_local for core.local `true`;
// SQUALL_BENCH_WAIT=0 for the asynchronous webhook (202 once the instance is durable).
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../src/log/index.js';
import { startService } from '../src/service/index.js';
import { defaultSubsystems } from '../src/subsystems.js';
// @ts-expect-error -- a plain JS helper of the bench, without types
import { writeBenchPack } from './lib/pack.mjs';
import { benchConfig } from './lib/inproc.js';

const n = Number(process.argv[2] ?? 200);
const HOOK = process.env.SQUALL_BENCH_HOOK ?? 'bench_noop';
const WAIT = process.env.SQUALL_BENCH_WAIT ?? '10';
const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-timeline-'));
writeBenchPack(path.join(dir, 'packs'));
const config = benchConfig(dir);
const running = await startService({ config, logger: silentLogger(), subsystems: defaultSubsystems(config) });
const db = running.services.store.embedded;
if (!db) throw new Error('the timeline needs the embedded store');

let t0 = 0;
let c0 = process.cpuUsage();
let marks: [string, number, number][] = [];
const cpuMs = () => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
const mark = (what: string) => t0 && marks.push([what, performance.now() - t0, cpuMs()]);
running.services.bus.subscribe('*', (event) => mark(`event ${event.name}`));
const patched = db as unknown as {
  commit: () => void;
  fsync: (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;
};
const commit = patched.commit.bind(db);
patched.commit = () => {
  const before = db.commits;
  commit();
  if (db.commits > before) mark('commit');
};
const fsync = patched.fsync;
patched.fsync = (fd, done) => {
  mark('fsync start');
  fsync(fd, (err) => {
    mark('fsync end');
    done(err);
  });
};

const serverEmit = http.Server.prototype.emit;
http.Server.prototype.emit = function (this: http.Server, event: string, ...args: unknown[]) {
  if (event === 'request') mark('server: request in');
  return (serverEmit as (...a: unknown[]) => boolean).call(this, event, ...args);
} as typeof serverEmit;
const end = http.ServerResponse.prototype.end;
http.ServerResponse.prototype.end = function (this: http.ServerResponse, ...args: unknown[]) {
  mark('server: answer sent');
  return (end as (...a: unknown[]) => http.ServerResponse).apply(this, args);
} as typeof end;
const sync = db.sync.bind(db);
db.sync = () => {
  mark('sync() called');
  if (process.env.SQUALL_BENCH_TIMELINE_STACKS && t0)
    process.stderr.write(
      `sync() at ${(performance.now() - t0).toFixed(2)}: ${new Error().stack?.split('\n').slice(2, 9).join(' / ')}\n`,
    );
  return sync();
};

const url = `${running.url}/api/v1/webhooks/${HOOK}${WAIT === '0' ? '' : `?wait=${WAIT}`}`;
const runs: [string, number, number][][] = [];
for (let i = 0; i < n + 20; i++) {
  marks = [];
  c0 = process.cpuUsage();
  t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"event":"bench","value":42}',
  });
  mark('response headers');
  await res.text();
  mark('response body');
  if (res.status >= 300) throw new Error(`webhook answered ${res.status}`);
  // What the chain does after the answer (the action trigger, the lazy fsync) until it is quiet.
  await new Promise((r) => setTimeout(r, 30));
  t0 = 0;
  if (i >= 20) runs.push(marks);
}

// Steps are named by their order of appearance (the 2nd commit is "commit #2").
const byStep = new Map<string, number[]>();
const cpuByStep = new Map<string, number[]>();
for (const run of runs) {
  const seen = new Map<string, number>();
  for (const [what, at, cpu] of run) {
    const k = (seen.get(what) ?? 0) + 1;
    seen.set(what, k);
    const step = k > 1 ? `${what} #${k}` : what;
    byStep.set(step, [...(byStep.get(step) ?? []), at]);
    cpuByStep.set(step, [...(cpuByStep.get(step) ?? []), cpu]);
  }
}
if (process.env.SQUALL_BENCH_TIMELINE_RUNS)
  for (const run of runs.slice(0, Number(process.env.SQUALL_BENCH_TIMELINE_RUNS)))
    process.stdout.write(
      run
        .map(([w, at, cpu]) => `${at.toFixed(2).padStart(8)} ${cpu.toFixed(2).padStart(7)}  ${w}`)
        .join('\n') + '\n\n',
    );
// How many fsyncs ended between the request's start and its answer (the answer waits for the last).
const fsyncsBefore = new Map<number, number>();
for (const run of runs) {
  const answered = run.find(([w]) => w === 'server: answer sent')?.[1] ?? Infinity;
  const k = run.filter(([w, at]) => w === 'fsync end' && at <= answered).length;
  fsyncsBefore.set(k, (fsyncsBefore.get(k) ?? 0) + 1);
}
// Answers that waited for fsyncs in a row: after their sync() call, an fsync ended, then another
// began and ended before the answer (the first did not cover their commit). An fsync that only
// began before the answer (the lazy one, due meanwhile) held nothing.
let chained = 0;
for (const run of runs) {
  const answered = run.findIndex(([w]) => w === 'server: answer sent');
  const called = run.findLastIndex(([w], i) => w === 'sync() called' && (answered < 0 || i < answered));
  if (called < 0 || answered < 0) continue;
  const between = run.slice(called, answered).map(([w]) => w);
  const firstEnd = between.indexOf('fsync end');
  const next = firstEnd < 0 ? -1 : between.indexOf('fsync start', firstEnd);
  if (next >= 0 && between.indexOf('fsync end', next) >= 0) chained++;
}
process.stdout.write(`answers that waited for two fsyncs in a row: ${chained} of ${runs.length}\n`);
process.stdout.write(
  `fsyncs ended before the answer: ${[...fsyncsBefore]
    .sort((a, b) => a[0] - b[0])
    .map(([k, c]) => `${k}: ${c} runs`)
    .join(', ')}\n`,
);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [...byStep].map(
  ([step, ats]) => [step, median(ats), median(cpuByStep.get(step) ?? [0]), ats.length] as const,
);
rows.sort((a, b) => a[1] - b[1]);
process.stdout.write(
  `median offset from the request's start (ms; wall, then the process's CPU), n=${n}, ${HOOK}, wait=${WAIT}\n`,
);
for (const [step, at, cpu, count] of rows)
  process.stdout.write(
    `${at.toFixed(2).padStart(8)} ${cpu.toFixed(2).padStart(7)}  ${step}${count < n ? ` (in ${count} of ${n})` : ''}\n`,
  );
await Promise.race([running.stop(), new Promise((r) => setTimeout(r, 10_000).unref())]);
rmSync(dir, { recursive: true, force: true });
