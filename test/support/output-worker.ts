// Child process for the output memory tests: a Squall serving executions and streams (auth off)
// on the given data dir or Mongo URL, with one completed execution whose stored output is
// `rows` rows of 64 KiB. Prints "READY <url> <execution id>"; on each line "heap" from stdin it
// collects garbage (run it with --expose-gc) and prints "HEAP <heap + external bytes>".
import { createInterface } from 'node:readline';
import { executionsSubsystem } from '../../src/executions/subsystem.js';
import { createLogger } from '../../src/log/index.js';
import { startService } from '../../src/service/index.js';
import { streamRoutes } from '../../src/stream/index.js';
import { newId } from '../../src/ids.js';
import type { ExecutionRecord } from '../../src/store/index.js';
import { inProcessConfig, secretsSubsystem, stopOnSigterm } from './in-process.js';

const [dataDir, mongoUrl, rows] = process.argv.slice(2);

const running = await startService({
  config: inProcessConfig(dataDir, { 'store.url': mongoUrl || undefined }),
  logger: createLogger({ level: 'error', format: 'json', destination: process.stderr }),
  subsystems: [secretsSubsystem(), executionsSubsystem(), { name: 'stream', routes: streamRoutes() }],
});
const { store } = running.services;
const id = newId();
const started = '2026-01-01T00:00:00.000Z';
await store.executions.insert({
  id,
  status: 'succeeded',
  action: { ref: 'core.local', pack: 'core', name: 'local' },
  runner: { name: 'local-shell-cmd' },
  parameters: {},
  context: { user: 'stanley' },
  start_timestamp: started,
  end_timestamp: started,
} as unknown as ExecutionRecord);
const batch = [];
for (let i = 0; i < Number(rows); i++) {
  // Each row its own text (the row number and a letter cycle), so a reordered or lost row shows.
  const head = `${String(i).padStart(8, '0')}:`;
  batch.push({
    id: newId(),
    execution_id: id,
    action_ref: 'core.local',
    runner_ref: 'local-shell-cmd',
    // A few rows share a timestamp, as lines printed in the same millisecond do.
    timestamp: new Date(Date.parse(started) + Math.floor(i / 3)).toISOString(),
    output_type: i % 5 === 4 ? 'stderr' : 'stdout',
    data: head + String.fromCharCode(97 + (i % 26)).repeat(64 * 1024 - head.length - 1) + '\n',
  });
  if (batch.length === 32) await store.executionOutput.insertMany(batch.splice(0));
}
if (batch.length) await store.executionOutput.insertMany(batch);
const gc = (globalThis as { gc?: () => void }).gc;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'heap') return;
  gc?.();
  const m = process.memoryUsage();
  process.stdout.write(`HEAP ${m.heapUsed + m.external}\n`);
});
process.stdout.write(`READY ${running.url} ${id}\n`);
stopOnSigterm(running);
