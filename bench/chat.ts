// Benchmark: a chat message on the Slack emulator ("!noop", Socket Mode, the real @slack/bolt) →
// the core.noop alias → execution → the result posted in the thread. One process, embedded store
// (or MongoDB with SQUALL_BENCH_MONGO_URL). Prints one JSON line:
// {name: 'chat.slack.noop', unit: 'ms', p50, p99, n} — message sent → result seen (the card's final
// state: the run's card, posted in the thread, edited to ✅).
// Run: node --import tsx bench/chat.ts [n]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SlackAdapter } from '../adapters/slack/index.js';
import { chatopsSubsystem } from '../src/chatops/index.js';
import { loadConfig } from '../src/config/index.js';
import { contentSubsystem } from '../src/content/subsystem.js';
import { executionsSubsystem } from '../src/executions/subsystem.js';
import { silentLogger } from '../src/log/index.js';
import { startService } from '../src/service/index.js';
import { SlackEmulator } from '../test/emulators/slack/index.js';
import { benchSecrets } from './lib/inproc.js';

const n = Number(process.argv[2] ?? 200);
const warmup = Math.min(20, Math.max(2, Math.round(n / 10)));
const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-bench-chat-'));
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

// Squall's own latency: Slack's per-channel posting limit (~1/s) would measure Slack instead.
const slack = await new SlackEmulator({ rateLimits: false }).start();
const adapter = new SlackAdapter({
  mode: 'socket',
  botToken: slack.botToken,
  appToken: slack.appToken,
  apiUrl: slack.apiUrl,
  retries: 0,
  logger: quiet,
});
const executions = executionsSubsystem();
const { config } = loadConfig({
  env: {},
  overrides: {
    data_dir: dir,
    'api.port': 0,
    'auth.enable': false,
    'store.url': process.env.SQUALL_BENCH_MONGO_URL,
    'scheduler.process_every_ms': 500,
    'packs.paths': [path.join(import.meta.dirname, '..', 'test', 'e2e', 'chat', 'fixtures', 'packs')],
    'chatops.users': { 'slack:U0ALICE': 'st2admin' },
  },
});
const svc = await startService({
  config,
  logger: silentLogger(),
  subsystems: [
    benchSecrets(),
    contentSubsystem(),
    executions,
    chatopsSubsystem(() => executions.service(), { adapters: [adapter] }),
  ],
});

/** One round trip: the person's message until its card in the thread shows the result. */
async function once(): Promise<number> {
  const t0 = performance.now();
  const ts = await slack.userSays({ text: '!noop' });
  const card = await slack.waitForPost((p) => p.thread_ts === ts, 30_000);
  if (!card.text.startsWith('✅'))
    await slack.waitForUpdate((u) => u.ts === card.ts && u.text.startsWith('✅'), 30_000);
  return performance.now() - t0;
}

try {
  for (let i = 0; i < warmup; i++) await once();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(await once());
  ms.sort((a, b) => a - b);
  const pct = (p: number) =>
    Number(ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))].toFixed(2));
  process.stdout.write(
    JSON.stringify({ name: 'chat.slack.noop', unit: 'ms', p50: pct(50), p99: pct(99), n }) + '\n',
  );
} finally {
  await svc.stop();
  await slack.stop();
  rmSync(dir, { recursive: true, force: true });
}
// A socket of the Slack client can outlive stop(); the figure is printed, so end here.
process.exit(0);
