// Memory after many executions (issue 19: "RSS after 100,000 stored executions ≤ 1.3 × idle").
// One real `squall start` (dist/) with its inspector open on a loopback port; webhook → rule →
// core.noop at 16 in flight, SQUALL_BENCH_HEAP_WEBHOOKS in all (default 100,000), and after each
// tenth of them two full GCs through the inspector, then the V8 heap and the process's RSS. The
// heap after a full GC is what the process keeps: it should not grow with the history, whatever
// the throughput (a run of each job kept in memory for minutes showed as ~2.4 KB per webhook).
// Each sample waits SQUALL_BENCH_HEAP_SETTLE_MS (16 s) after its webhooks, so it is taken idle.
// Opt-in, minutes long: SQUALL_BENCH_ONLY=heap, or alone: node bench/heap.mjs
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { emit, sendWebhooks } from './lib/loadgen.mjs';
import { writeBenchPack } from './lib/pack.mjs';
import { freePort, rssMb, scratchDir, sleep, stopProcess } from './lib/proc.mjs';
import { startSquall, writeSquallConfig } from './lib/squall.mjs';

/** RSS split: anonymous memory (V8 heap, malloc, SQLite's page caches) against mapped files. */
function rssSplit(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (name) =>
    +(Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN) / 1024).toFixed(1);
  return { rss_anon_mb: mb('RssAnon'), rss_file_mb: mb('RssFile') };
}

/** A Chrome DevTools Protocol session on the server's inspector. */
async function inspector(port) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let next = 0;
  const waiting = new Map();
  ws.on('message', (m) => {
    const msg = JSON.parse(String(m));
    waiting.get(msg.id)?.(msg);
    waiting.delete(msg.id);
  });
  const call = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { call, close: () => ws.close() };
}

export async function runHeap({
  webhooks = Number(process.env.SQUALL_BENCH_HEAP_WEBHOOKS ?? 100_000),
  steps = 10,
} = {}) {
  const dir = scratchDir('squall-bench-heap-');
  const packs = path.join(dir, 'packs');
  writeBenchPack(packs);
  // What the young generation and the page caches cost: SQUALL_BENCH_HEAP_NODE_ARGS (e.g.
  // "--max-semi-space-size=4") and SQUALL_BENCH_HEAP_CACHE_MB (store.cache_mb) vary them.
  const nodeArgs = (process.env.SQUALL_BENCH_HEAP_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const cacheMb = process.env.SQUALL_BENCH_HEAP_CACHE_MB;
  const cfg = writeSquallConfig(
    path.join(dir, 'squall'),
    packs,
    cacheMb ? { store: { cache_mb: Number(cacheMb) } } : {},
  );
  const port = await freePort();
  const s = await startSquall(cfg, { nodeArgs: [...nodeArgs, `--inspect=127.0.0.1:${port}`] });
  const cdp = await inspector(port);
  // Agenda keeps each finished job run until its lock check wakes, half the lock lifetime later
  // (15 s by default): sampled at once, the heap held the last 15 s of runs, more the faster the
  // box, which is throughput, not history.
  const settleMs = Number(process.env.SQUALL_BENCH_HEAP_SETTLE_MS ?? 16_000);
  const sample = async (stored) => {
    if (stored > 0) await sleep(settleMs);
    await cdp.call('HeapProfiler.collectGarbage');
    await cdp.call('HeapProfiler.collectGarbage');
    const r = await cdp.call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    const mem = JSON.parse(r.result.result.value);
    // The young generation's committed size is part of RSS that the heap-used figure omits.
    const spaces = await cdp.call('Runtime.evaluate', {
      expression: `JSON.stringify(require('node:v8').getHeapSpaceStatistics())`,
      includeCommandLineAPI: true,
      returnByValue: true,
    });
    const newSpace = JSON.parse(spaces.result.result.value ?? '[]').find(
      (sp) => sp.space_name === 'new_space',
    );
    const row = {
      stored,
      heap_mb: +(mem.heapUsed / 1e6).toFixed(1),
      rss_mb: rssMb(s.child.pid),
      heap_total_mb: +(mem.heapTotal / 1e6).toFixed(1),
      external_mb: +(mem.external / 1e6).toFixed(1),
      new_space_committed_mb: newSpace ? +(newSpace.space_size / 1e6).toFixed(1) : NaN,
      new_space_physical_mb: newSpace ? +(newSpace.physical_space_size / 1e6).toFixed(1) : NaN,
      ...rssSplit(s.child.pid),
    };
    process.stderr.write(`[heap] ${JSON.stringify(row)}\n`);
    return row;
  };
  try {
    await sleep(2000);
    const idle = await sample(0);
    const rows = [];
    let stored = 0;
    for (let i = 1; i <= steps; i++) {
      const n = Math.round((webhooks * i) / steps) - Math.round((webhooks * (i - 1)) / steps);
      stored += await sendWebhooks(s.url, 'bench_noop', n);
      rows.push(await sample(stored));
    }
    const last = rows.at(-1);
    const first = rows[0];
    emit({ name: 'heap.idle_after_gc', unit: 'MB', value: idle.heap_mb, n: 1 });
    emit({
      name: 'heap.after_gc',
      unit: 'MB',
      value: last.heap_mb,
      n: rows.length,
      executions: last.stored,
      all: rows.map((r) => r.heap_mb),
    });
    emit({
      name: 'heap.growth_per_execution',
      unit: 'bytes',
      value: Math.round(((last.heap_mb - first.heap_mb) * 1e6) / Math.max(1, last.stored - first.stored)),
      n: rows.length,
      note: 'heap after full GC, last step − first step, per execution between them',
    });
    emit({ name: 'footprint.squall.idle_rss_inspected', unit: 'MB', value: idle.rss_mb, n: 1 });
    emit({
      name: 'footprint.squall.rss_after_executions',
      unit: 'MB',
      value: last.rss_mb,
      n: rows.length,
      executions: last.stored,
      ratio_to_idle: +(last.rss_mb / idle.rss_mb).toFixed(2),
      node_args: nodeArgs.join(' '),
      cache_mb: cacheMb ? Number(cacheMb) : 8,
      idle: idle,
      last: last,
      all: rows.map((r) => r.rss_mb),
    });
  } finally {
    cdp.close();
    await stopProcess(s.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runHeap();
}
