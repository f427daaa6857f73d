// History and the dashboard at scale (issue 24): seeds SQUALL_BENCH_HISTORY (default 100,000)
// executions into the embedded store of an in-process Squall, then times, in headless Chromium,
// History's first render, a status filter, a time range, a rule filter, the jump to the last page
// and the 30-day dashboard. It runs test/browser/history-scale.test.ts (which also holds the steps
// to a loose bound) and passes on its JSON lines. Needs chromium (SQUALL_CHROMIUM_PATH or
// /usr/bin/chromium); skipped without it. Run alone: node bench/history-ui.mjs
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { emit, skip } from './lib/loadgen.mjs';
import { stopAll, track } from './lib/proc.mjs';
import { ROOT } from './lib/squall.mjs';

export async function runHistoryUi({ history = Number(process.env.SQUALL_BENCH_HISTORY ?? 100_000) } = {}) {
  if (!existsSync(process.env.SQUALL_CHROMIUM_PATH ?? '/usr/bin/chromium')) {
    skip('history_ui', 'no chromium (set SQUALL_CHROMIUM_PATH)');
    return;
  }
  // Its own process group: stopping the bench stops npx, vitest, its fork and their chromium with it.
  const child = spawn('npx', ['vitest', 'run', 'test/browser/history-scale.test.ts'], {
    cwd: ROOT,
    env: { ...process.env, SQUALL_HISTORY_SCALE: String(history) },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  track(child, { group: true });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const lines = out
    .split('\n')
    .filter((l) => l.startsWith('{"name":'))
    .map((l) => JSON.parse(l));
  for (const line of lines) emit(line);
  if (code !== 0)
    skip('history_ui.test', `test/browser/history-scale.test.ts failed (exit ${code}):\n${out.slice(-2000)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Its own process group hears no Ctrl-C from the terminal: it is passed on.
  for (const sig of ['SIGINT', 'SIGTERM'])
    process.on(sig, () => void stopAll().then(() => process.exit(128 + os.constants.signals[sig])));
  await runHistoryUi();
  process.exit(0);
}
