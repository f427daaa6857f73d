// GET /api/v1/executions?limit=-1 as admin over a large history: wall time, bytes, the server's
// peak RSS (VmHWM) and its longest event-loop stall. The server runs in this process (embedded
// store, auth off: the caller is the admin); the history is one real core.noop execution copied
// under new ids with insertMany; the request is made by curl, so the client's memory is not ours.
// Run alone: node --import tsx bench/list-all.ts [executions=100000] [query=limit=-1]; the cap
// (api.max_admin_page_size, 10,000) applies unless SQUALL_API_MAX_ADMIN_PAGE_SIZE=0.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { newId } from '../src/ids.js';
import type { ExecutionRecord } from '../src/store/index.js';
import { contentSubsystem } from '../src/content/subsystem.js';
import { executionsSubsystem } from '../src/executions/subsystem.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../src/log/index.js';
import { startService } from '../src/service/index.js';
import { inProcessConfig, secretsSubsystem } from '../test/support/in-process.js';

const n = Number(process.argv[2] ?? 100_000);
const query = process.argv[3] ?? 'limit=-1';
const hwm = (): number =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
const rss = (): number => process.memoryUsage().rss / 2 ** 20;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-list-'));
const config = inProcessConfig(dataDir, {
  // SQUALL_API_MAX_ADMIN_PAGE_SIZE=0 measures the answer without the cap.
  'api.max_admin_page_size': Number(process.env.SQUALL_API_MAX_ADMIN_PAGE_SIZE ?? 10_000),
});
const svc = await startService({
  config,
  logger: silentLogger(),
  subsystems: [secretsSubsystem(), contentSubsystem(), executionsSubsystem()],
});
try {
  const res = await fetch(`${svc.url}/api/v1/executions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'core.noop', parameters: {} }),
  });
  const first = (await res.json()) as { id: string };
  let done: ExecutionRecord | null = null;
  for (let i = 0; i < 200 && !['succeeded', 'failed'].includes(String(done?.status)); i++) {
    await new Promise((r) => setTimeout(r, 100));
    done = await svc.services.store.executions.get(first.id);
  }
  if (!done) throw new Error('the seed execution did not finish');
  const t0 = performance.now();
  const base = Date.parse(done.start_timestamp);
  for (let i = 1; i < n; i += 5000) {
    const batch = Array.from({ length: Math.min(5000, n - i) }, (_, k) => ({
      ...done,
      id: newId(),
      start_timestamp: new Date(base - (i + k) * 1000).toISOString(),
    }));
    await svc.services.store.executions.insertMany(batch as ExecutionRecord[]);
  }
  const seeded = await svc.services.store.executions.count({});
  process.stderr.write(`seeded ${seeded} executions in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  global.gc?.();
  await new Promise((r) => setTimeout(r, 500));
  const before = { rss: rss(), hwm: hwm() };
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  // Asynchronous, so the server in this process answers while curl waits.
  const curl = new Promise<string>((resolve, reject) => {
    execFile(
      'curl',
      [
        '-s',
        '-o',
        '/dev/null',
        '-D',
        '-',
        '-w',
        '%{http_code} %{time_total} %{size_download}',
        `${svc.url}/api/v1/executions?${query}`,
      ],
      { maxBuffer: 1 << 20 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
  const out = await curl;
  loop.disable();
  const [code, seconds, bytes] = out.trim().split('\n').at(-1)!.split(' ');
  const headers = out
    .split('\n')
    .filter((l) => /^x-(limit|total-count)/i.test(l))
    .map((l) => l.trim());
  console.log(
    JSON.stringify({
      executions: seeded,
      query,
      status: Number(code),
      seconds: Number(seconds),
      bytes: Number(bytes),
      headers,
      rss_before_mb: Math.round(before.rss),
      peak_rss_mb: Math.round(hwm()),
      peak_rss_before_mb: Math.round(before.hwm),
      max_event_loop_stall_ms: Math.round(loop.max / 1e6),
    }),
  );
} finally {
  await svc.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
