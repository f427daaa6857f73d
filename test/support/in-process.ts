// What a test's child process and a bench start an in-process Squall with. No vitest here: bench
// scripts and child processes load it outside a test run.
import { randomBytes } from 'node:crypto';
import { loadConfig, type SquallConfig } from '../../src/config/index.js';
import { secretBox } from '../../src/kv/crypto.js';
import type { Subsystem } from '../../src/service/index.js';

/** Data under `dataDir`, a free port, auth off (the caller is the admin), then `overrides`. */
export function inProcessConfig(dataDir: string, overrides: Record<string, unknown> = {}): SquallConfig {
  return loadConfig({
    env: {},
    overrides: { data_dir: dataDir, 'api.port': 0, 'auth.enable': false, ...overrides },
  }).config;
}

/** The datastore's secret box under `key`: a throwaway one unless secrets must outlive a restart. */
export function secretsSubsystem(key: Buffer = randomBytes(32), name = 'test-secrets'): Subsystem {
  return {
    name,
    init(services) {
      services.secrets = secretBox(key);
    },
  };
}

/** A child process's Squall stopped cleanly on SIGTERM (how its test ends it), then the process exits. */
export function stopOnSigterm(running: { stop(): Promise<void> }): void {
  process.on('SIGTERM', () => void running.stop().then(() => process.exit(0)));
}
