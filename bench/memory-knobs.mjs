// What the young generation's size and the SQLite page cache cost in CPU: one real `squall start`
// per variant (V8 flags, store.cache_mb), webhook → rule → core.noop at 16 in flight, the server's
// CPU time (user + system, /proc) per webhook over SQUALL_KNOBS_WEBHOOKS (default 5,000) after
// 1,000 to warm up. Variants run in turn, round after round, so that a busy box weighs on each
// alike; compare CPU, never wall-clock. RSS for the same variants: bench/heap.mjs with
// SQUALL_BENCH_HEAP_NODE_ARGS / SQUALL_BENCH_HEAP_CACHE_MB.
// Run alone: node bench/memory-knobs.mjs   (SQUALL_KNOBS_ROUNDS, default 3;
// SQUALL_KNOBS_VARIANTS, default "default;--max-semi-space-size=8;--max-semi-space-size=4;cache_mb=4").
import { pathToFileURL } from 'node:url';
import { emit, sendWebhooks } from './lib/loadgen.mjs';
import { cpuMs, rssMb, sleep, stopProcess } from './lib/proc.mjs';
import { benchSquallDir, startSquall } from './lib/squall.mjs';

function parseVariant(spec) {
  const nodeArgs = [];
  let cacheMb;
  for (const part of spec.split(' ').filter((p) => p && p !== 'default')) {
    const cache = /^cache_mb=(\d+)$/.exec(part);
    if (cache) cacheMb = Number(cache[1]);
    else nodeArgs.push(part);
  }
  return { spec, nodeArgs, cacheMb };
}

async function once(variant, webhooks) {
  const { cfg, remove } = benchSquallDir(
    'squall-bench-knobs-',
    variant.cacheMb ? { store: { cache_mb: variant.cacheMb } } : {},
  );
  const s = await startSquall(cfg, { nodeArgs: variant.nodeArgs });
  try {
    await sleep(2000);
    await sendWebhooks(s.url, 'bench_noop', 1000);
    const before = cpuMs(s.child.pid);
    const done = await sendWebhooks(s.url, 'bench_noop', webhooks);
    const cpu = cpuMs(s.child.pid) - before;
    return { cpu_ms_per_webhook: cpu / done, rss_mb: rssMb(s.child.pid), done };
  } finally {
    await stopProcess(s.child);
    remove();
  }
}

export async function runMemoryKnobs({
  rounds = Number(process.env.SQUALL_KNOBS_ROUNDS ?? 3),
  webhooks = Number(process.env.SQUALL_KNOBS_WEBHOOKS ?? 5000),
  variants = (
    process.env.SQUALL_KNOBS_VARIANTS ?? 'default;--max-semi-space-size=8;--max-semi-space-size=4;cache_mb=4'
  )
    .split(';')
    .map(parseVariant),
} = {}) {
  const runs = new Map(variants.map((v) => [v.spec, []]));
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const row = await once(v, webhooks);
      runs.get(v.spec).push(row);
      process.stderr.write(`[knobs] round ${r + 1} ${v.spec}: ${JSON.stringify(row)}\n`);
    }
  }
  const base = runs.get(variants[0].spec);
  const mean = (rows) => rows.reduce((sum, row) => sum + row.cpu_ms_per_webhook, 0) / rows.length;
  for (const v of variants) {
    const rows = runs.get(v.spec);
    emit({
      name: 'knobs.cpu_per_webhook',
      unit: 'ms',
      variant: v.spec,
      value: +mean(rows).toFixed(3),
      vs_first: +(mean(rows) / mean(base) - 1).toFixed(3),
      all: rows.map((row) => +row.cpu_ms_per_webhook.toFixed(3)),
      n: rows.reduce((sum, row) => sum + row.done, 0),
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runMemoryKnobs();
}
