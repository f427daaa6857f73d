// On-CPU share of each thread's samples by owner (the MongoDB driver and BSON, ioredis, Agenda,
// other dependencies, Squall, GC, JIT compilation), from `perf script` on stdin. A sample belongs to
// the leaf-most JS frame that names a file outside Node's own `node:` modules; samples with no such
// frame are GC, compilation or unattributed (libuv, the kernel, C++ frames perf could not walk).
// Unlike V8's --cpu-prof, perf's cpu-clock counts only time on a CPU: a thread preempted inside
// write() after waking the server is not charged for the wait (issue 19, w/mongo7).
// Run Squall under `node --perf-basic-prof` (scale-out: SQUALL_BENCH_NODE_ARGS="--perf-basic-prof"),
// then: perf record -F 999 -g -p <pids> -o perf.data -- sleep 25
//       perf script -i perf.data | node bench/perf-owners.mjs
import readline from 'node:readline';

const OWNERS = [
  [/node_modules\/(mongoose\/node_modules\/)?(mongodb|bson|mongoose)\//, 'mongodb driver + bson'],
  [/node_modules\/(@ioredis|ioredis|redis-parser)/, 'ioredis'],
  [/node_modules\/(agenda|@agendajs)/, 'agenda'],
  [/\/node_modules\//, 'other dependencies'],
  [/\/(dist|src)\//, 'squall'],
];

function owner(frames) {
  for (const f of frames) {
    if (!f.includes('JS:') || / node:/.test(f)) continue;
    const hit = OWNERS.find(([re]) => re.test(f));
    if (hit) return hit[1];
  }
  if (frames.some((f) => /GarbageCollect|Scavenge|MarkCompact|Sweeper/.test(f))) return 'gc';
  if (frames.some((f) => /compiler::|Compile/.test(f))) return 'jit compile';
  return 'unattributed (libuv, kernel, C++)';
}

const byThread = new Map();
let tid;
let frames = [];
const flush = () => {
  if (tid === undefined) return;
  const counts = byThread.get(tid) ?? new Map();
  const o = owner(frames);
  counts.set(o, (counts.get(o) ?? 0) + 1);
  byThread.set(tid, counts);
};
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (!line.trim()) {
    flush();
    tid = undefined;
    frames = [];
  } else if (!/^\s/.test(line)) {
    tid = line.trim().split(/\s+/)[1];
    frames = [];
  } else frames.push(line.trim());
}
flush();
for (const [t, counts] of byThread) {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const shares = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([o, c]) => `${((100 * c) / total).toFixed(1)}% ${o}`);
  console.log(JSON.stringify({ tid: t, samples: total, shares }));
}
