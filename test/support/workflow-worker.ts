// Child process for the workflow crash tests: a whole Squall (content, executions, workflows)
// on the given data dir or Mongo URL, with fast heartbeats so that a killed peer is noticed
// quickly. Prints "READY <url>" once it serves HTTP; runs until it is killed.
import { createHash } from 'node:crypto';
import { contentSubsystem } from '../../src/content/subsystem.js';
import { executionsSubsystem } from '../../src/executions/subsystem.js';
import { createLogger } from '../../src/log/index.js';
import { startService } from '../../src/service/index.js';
import { workflowsSubsystem } from '../../src/workflows/engine/index.js';
import { inProcessConfig, secretsSubsystem, stopOnSigterm } from './in-process.js';

const [dataDir, mongoUrl, packsDir] = process.argv.slice(2);

// The same key in every worker of a test, so sealed parameters survive the restart.
const key = createHash('sha256').update(`squall-test:${dataDir}`).digest();

const config = inProcessConfig(dataDir, {
  'store.url': mongoUrl || undefined,
  'packs.paths': packsDir ? [packsDir] : [],
  'scheduler.process_every_ms': 200,
  'scheduler.lock_lifetime_ms': 1000,
  'executions.heartbeat_ms': 200,
  'executions.dead_after_ms': 1500,
  'executions.check_every_ms': 300,
});
const executions = executionsSubsystem();
const running = await startService({
  config,
  // Warnings and errors go to stderr, which the test shows when a workflow does not finish.
  logger: createLogger({ level: 'warn', format: 'json', destination: process.stderr }),
  subsystems: [
    secretsSubsystem(key),
    contentSubsystem(),
    executions,
    workflowsSubsystem(executions.service, { sweepEveryMs: 500 }),
  ],
});
process.stdout.write(`READY ${running.url}\n`);
stopOnSigterm(running);
